import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One `/v5/market/instruments-info` linear row, shaped like the real reply (all numbers are strings). */
export type InstrumentRow = Record<string, unknown> & { symbol: string };

/** A realistic linear instrument row; `overrides` are merged shallowly. */
export function instrumentRow(symbol: string, overrides: Record<string, unknown> = {}): InstrumentRow {
  const quoteCoin = symbol.endsWith('PERP') ? 'USDC' : 'USDT';
  const baseCoin = symbol.replace(/(USDT|PERP|USDC)$/, '').replace(/-.*$/, '');
  return {
    symbol, contractType: 'LinearPerpetual', status: 'Trading', baseCoin, quoteCoin,
    launchTime: '1758175736000', deliveryTime: '0', deliveryFeeRate: '', priceScale: '4',
    leverageFilter: { minLeverage: '1', maxLeverage: '50.00', leverageStep: '0.01' },
    priceFilter: { minPrice: '0.0001', maxPrice: '1999.9998', tickSize: '0.0001' },
    lotSizeFilter: {
      maxOrderQty: '350000.0', minOrderQty: '0.1', qtyStep: '0.1', postOnlyMaxOrderQty: '350000.0',
      maxMktOrderQty: '70000.0', minNotionalValue: '5',
    },
    unifiedMarginTrade: true, fundingInterval: 240, settleCoin: quoteCoin, copyTrading: 'both',
    upperFundingRate: '0.005', lowerFundingRate: '-0.005', isPreListing: false, preListingInfo: null,
    riskParameters: { priceLimitRatioX: '0.15', priceLimitRatioY: '0.3' }, displayName: '', symbolType: '',
    forbidUplWithdrawal: false, symbolId: 1000,
    ...overrides,
  };
}

/** A fault the next matching request(s) get instead of (or before) the normal reply. */
export type RestFault =
  | { kind: 'retCode'; retCode: number; retMsg: string }
  | { kind: 'http'; status: number; body?: string }
  | { kind: 'malformed' }
  /** HTTP 200 with an HTML page (a CDN or captive-portal reply), content-type text/html. */
  | { kind: 'html' }
  | { kind: 'slow'; delayMs: number };

export interface RecordedHttpRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Wall-clock arrival time (epoch ms, sub-ms resolution), for counting requests per rolling window. */
  readonly atMs: number;
}

/** One open-interest row as Bybit sends it (strings); fields may be made invalid on purpose. */
export type OpenInterestRow = Record<string, unknown> & { timestamp: string };

interface QueuedFault {
  readonly fault: RestFault;
  readonly path: string | undefined;
  remaining: number;
  skip: number;
}

/**
 * A local HTTP server speaking Bybit REST v5 market endpoints (instruments-info with cursor paging, tickers,
 * kline newest-first, open-interest) in the real envelope `{retCode,retMsg,result,retExtInfo,time}`, with
 * injectable faults: retCode ≠ 0 bodies, HTTP errors (5xx, 429), slow replies and malformed JSON. Kline and
 * open-interest series can be fixed per symbol; open interest pages with an opaque `nextPageCursor`.
 */
export class FakeBybitRest {
  readonly requests: RecordedHttpRequest[] = [];
  /** Rows served by instruments-info (any category, status filter applied). */
  instruments: InstrumentRow[] = [];
  /** Base price for generated tickers/klines per symbol; default 100. */
  readonly prices = new Map<string, number>();
  /** Bybit returns only Trading rows when `status` is absent; set true to leak other statuses (filter tests). */
  serveAllStatuses = false;
  /**
   * Fixed kline rows per symbol (`[startTime, open, high, low, close, volume, turnover]` strings, any order)
   * served instead of generated ones, filtered by start/end and sent newest first like Bybit. Keyed by symbol
   * (any interval) or by `SYMBOL:interval` (that interval only, tried first), e.g. `BTCUSDT:60`.
   */
  readonly klineRows = new Map<string, string[][]>();
  /** Fixed open-interest rows per symbol or `SYMBOL:intervalTime` (tried first), served instead of generated ones (filtered by startTime/endTime). */
  readonly openInterestRows = new Map<string, OpenInterestRow[]>();
  /**
   * Bybit's per-endpoint rolling 1 s budget: when set, a request past this many in the last second gets
   * retCode 10006 with `X-Bapi-Limit-Status: 0` and `X-Bapi-Limit-Reset-Timestamp`, like the real server.
   */
  rateLimitPerSec: number | undefined;
  /** 10006 replies sent because of `rateLimitPerSec`. */
  rateLimitedReplies = 0;
  private readonly recentByPath = new Map<string, number[]>();
  /** Bybit's docs only show open interest newest first; `oldest-first` checks a client does not rely on it. */
  openInterestOrder: 'newest-first' | 'oldest-first' = 'newest-first';
  private readonly faults: QueuedFault[] = [];

  private constructor(private readonly server: http.Server) {
    server.on('request', (req, res) => void this.handle(req, res));
  }

  static async start(): Promise<FakeBybitRest> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeBybitRest(server);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Queues `fault` for `times` requests (to `path` when given), after letting `skip` matching requests through. */
  inject(fault: RestFault, options: { path?: string; times?: number; skip?: number } = {}): void {
    this.faults.push({ fault, path: options.path, remaining: options.times ?? 1, skip: options.skip ?? 0 });
  }

  /** Most requests (to `path` when given) that arrived within any span of `windowMs`. */
  maxRequestsPerWindow(windowMs: number, path?: string): number {
    const times = this.requests.filter((r) => path === undefined || r.path === path).map((r) => r.atMs).sort((a, b) => a - b);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while ((times[hi] as number) - (times[lo] as number) >= windowMs) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private takeFault(path: string): RestFault | undefined {
    const i = this.faults.findIndex((f) => f.path === undefined || f.path === path);
    const f = this.faults[i];
    if (!f) return undefined;
    if (f.skip > 0) {
      f.skip--;
      return undefined;
    }
    if (--f.remaining <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ path: url.pathname, query, atMs: performance.timeOrigin + performance.now() });
    const limited = this.overBudget(url.pathname);
    if (limited !== undefined && !res.destroyed) {
      this.rateLimitedReplies++;
      res.writeHead(200, { 'content-type': 'application/json', 'x-bapi-limit': String(this.rateLimitPerSec), 'x-bapi-limit-status': '0', 'x-bapi-limit-reset-timestamp': String(limited) });
      res.end(JSON.stringify({ retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: Date.now() }));
      return;
    }
    const fault = this.takeFault(url.pathname);
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
    const send = (status: number, body: string) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'x-bapi-limit': '600', 'x-bapi-limit-status': '599' });
      res.end(body);
    };
    const envelope = (retCode: number, retMsg: string, result: unknown) =>
      JSON.stringify({ retCode, retMsg, result, retExtInfo: {}, time: Date.now() });
    if (fault?.kind === 'http') return send(fault.status, fault.body ?? `<html><body>${fault.status}</body></html>`);
    if (fault?.kind === 'html' && !res.destroyed) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>We will be back soon</h1></body></html>');
      return;
    }
    if (fault?.kind === 'malformed') return send(200, '{"retCode":0,"retMsg":"OK","result":{"list":[{"symbol":');
    if (fault?.kind === 'retCode') return send(200, envelope(fault.retCode, fault.retMsg, {}));
    const result = this.route(url.pathname, query);
    if (result === undefined) return send(404, '{"code":404,"msg":"Not Found"}');
    if (typeof result === 'string') return send(200, envelope(10001, result, {}));
    send(200, envelope(0, 'OK', result));
  }

  /** With `rateLimitPerSec`: undefined when the request fits the rolling second, else when the budget resets (epoch ms). */
  private overBudget(path: string): number | undefined {
    if (this.rateLimitPerSec === undefined) return undefined;
    const now = Date.now();
    const recent = (this.recentByPath.get(path) ?? []).filter((t) => t > now - 1000);
    this.recentByPath.set(path, recent);
    if (recent.length >= this.rateLimitPerSec) return (recent[0] as number) + 1000;
    recent.push(now);
    return undefined;
  }

  /** Normal replies; a string is a retCode 10001 message, undefined is 404. */
  private route(path: string, q: Record<string, string>): unknown {
    const limitOf = (dflt: number, max: number) => Math.min(max, Math.max(1, Number(q.limit ?? dflt) || dflt));
    switch (path) {
      case '/v5/market/instruments-info': {
        const rows = this.instruments.filter((r) => (q.symbol ? r.symbol === q.symbol : true) && (q.status ? r.status === q.status : this.serveAllStatuses || r.status === 'Trading'));
        const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString().replace('offset=', '')) : 0;
        if (!Number.isInteger(offset) || offset < 0) return 'params error: cursor invalid';
        const limit = limitOf(500, 1000);
        const page = rows.slice(offset, offset + limit);
        const more = offset + limit < rows.length;
        const nextPageCursor = more ? Buffer.from(`offset=${offset + limit}`).toString('base64url') : '';
        return { category: q.category ?? 'linear', list: page, nextPageCursor };
      }
      case '/v5/market/tickers': {
        const rows = this.instruments.filter((r) => r.status === 'Trading' && (!q.symbol || r.symbol === q.symbol));
        if (q.symbol && rows.length === 0) return 'params error: symbol invalid';
        return { category: q.category ?? 'linear', list: rows.map((r) => this.ticker(r.symbol)) };
      }
      case '/v5/market/kline': {
        if (!q.symbol || !q.interval) return 'params error: symbol and interval are required';
        const stepMs = q.interval === 'D' ? 86_400_000 : Number(q.interval) * 60_000;
        if (!(stepMs > 0)) return 'params error: interval invalid';
        const end = Math.floor(Number(q.end ?? Date.now()) / stepMs) * stepMs;
        const start = Number(q.start ?? 0);
        const fixed = this.klineRows.get(`${q.symbol}:${q.interval}`) ?? this.klineRows.get(q.symbol);
        if (fixed) {
          const rows = fixed.filter((r) => Number(r[0]) >= start && Number(r[0]) <= Number(q.end ?? Infinity));
          rows.sort((a, b) => Number(b[0]) - Number(a[0]));
          return { category: q.category ?? 'linear', symbol: q.symbol, list: rows.slice(0, limitOf(200, 1000)) };
        }
        const base = this.prices.get(q.symbol) ?? 100;
        const list: string[][] = [];
        for (let t = end; t >= start && list.length < limitOf(200, 1000); t -= stepMs) {
          const o = base * (1 + 0.01 * Math.sin(t / stepMs));
          const c = base * (1 + 0.01 * Math.sin(t / stepMs + 1));
          list.push([String(t), o.toFixed(4), (Math.max(o, c) * 1.002).toFixed(4), (Math.min(o, c) * 0.998).toFixed(4), c.toFixed(4), '1234.5', (1234.5 * c).toFixed(4)]);
        }
        return { category: q.category ?? 'linear', symbol: q.symbol, list };
      }
      case '/v5/market/open-interest': {
        if (!q.symbol || !q.intervalTime) return 'params error: symbol and intervalTime are required';
        const stepMs = { '5min': 300_000, '15min': 900_000, '30min': 1_800_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 }[q.intervalTime];
        if (!stepMs) return 'params error: intervalTime invalid';
        const end = Math.floor(Number(q.endTime ?? Date.now()) / stepMs) * stepMs;
        const start = Number(q.startTime ?? 0);
        // Opaque cursor like Bybit's; here it encodes how many rows earlier pages already sent.
        const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString().replace('oi-offset=', '')) : 0;
        if (!Number.isInteger(offset) || offset < 0) return 'params error: cursor invalid';
        const limit = limitOf(50, 200);
        let all: OpenInterestRow[];
        const fixed = this.openInterestRows.get(`${q.symbol}:${q.intervalTime}`) ?? this.openInterestRows.get(q.symbol);
        if (fixed) {
          all = fixed.filter((r) => Number(r.timestamp) >= start && Number(r.timestamp) <= Number(q.endTime ?? Infinity));
          all.sort((a, b) => Number(b.timestamp) - Number(a.timestamp));
        } else {
          all = [];
          for (let t = end; t >= start && all.length <= offset + limit; t -= stepMs) {
            const oi = 50_000 + 1000 * Math.sin(t / stepMs);
            all.push({ openInterest: oi.toFixed(3), singleOpenInterest: (oi / 2).toFixed(3), timestamp: String(t) });
          }
        }
        const list = all.slice(offset, offset + limit);
        if (this.openInterestOrder === 'oldest-first') list.reverse();
        const more = offset + limit < all.length;
        const nextPageCursor = more ? Buffer.from(`oi-offset=${offset + limit}`).toString('base64url') : '';
        return { symbol: q.symbol, category: q.category ?? 'linear', list, nextPageCursor };
      }
      default:
        return undefined;
    }
  }

  private ticker(symbol: string): Record<string, string> {
    const p = (this.prices.get(symbol) ?? 100).toFixed(4);
    return {
      symbol, lastPrice: p, indexPrice: p, markPrice: p, prevPrice24h: p, price24hPcnt: '0.0012', highPrice24h: p,
      lowPrice24h: p, prevPrice1h: p, openInterest: '59891.732', openInterestValue: '3899996265.01',
      turnover24h: '1142118412.9021', volume24h: '17573.9120', fundingRate: '0.0001', nextFundingTime: '1786320000000',
      predictedDeliveryPrice: '', basisRate: '', deliveryFeeRate: '', deliveryTime: '0', ask1Size: '10.47', bid1Price: p,
      ask1Price: p, bid1Size: '5.95', basis: '', preOpenPrice: '', preQty: '', curPreListingPhase: '',
      fundingIntervalHour: '8', fundingCap: '0.005',
    };
  }
}
