import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One band of a generated heatmap: `usd` resting at `priceUsd` from column `fromColumn` to `toColumn`. */
export interface FakeHeatmapBand {
  readonly priceUsd: number;
  readonly usd: number;
  readonly fromColumn: number;
  /** Inclusive; omit for "still resting" (until the last column). */
  readonly toColumn?: number;
}

export interface FakeHeatmapSpec {
  /** Close of the newest candle. */
  readonly refPriceUsd: number;
  /** Number of candles (x columns). Default 48. */
  readonly columns?: number;
  readonly bands: readonly FakeHeatmapBand[];
  /** Open time of the first candle, SECONDS (as CoinGlass sends). Default 1_786_000_000. */
  readonly startSec?: number;
  /** Candle spacing in seconds. Default 1800. */
  readonly stepSec?: number;
}

/**
 * A heatmap `data` object in the documented v4 shape: `y_axis` (prices, ascending), sparse
 * `liquidation_leverage_data` `[x, y, usd]` with one cell per column while a band rests (how the chart
 * draws it), and string OHLCV `price_candlesticks` with times in seconds. A band that ends early is given a
 * candle whose range runs through its price in the next column, as if price had liquidated it.
 */
export function heatmapData(spec: FakeHeatmapSpec): { y_axis: number[]; liquidation_leverage_data: [number, number, number][]; price_candlesticks: (number | string)[][] } {
  const columns = spec.columns ?? 48;
  const startSec = spec.startSec ?? 1_786_000_000;
  const stepSec = spec.stepSec ?? 1800;
  const yAxis = [...new Set(spec.bands.map((b) => b.priceUsd))].sort((a, b) => a - b);
  const ref = spec.refPriceUsd;
  const highs = new Array<number>(columns).fill(ref * 1.001);
  const lows = new Array<number>(columns).fill(ref * 0.999);
  const cells: [number, number, number][] = [];
  for (const band of spec.bands) {
    const y = yAxis.indexOf(band.priceUsd);
    const last = Math.min(band.toColumn ?? columns - 1, columns - 1);
    for (let x = band.fromColumn; x <= last; x++) cells.push([x, y, band.usd]);
    if (last + 1 < columns) {
      highs[last + 1] = Math.max(highs[last + 1]!, band.priceUsd * 1.001);
      lows[last + 1] = Math.min(lows[last + 1]!, band.priceUsd * 0.999);
    }
  }
  const candles = highs.map((h, x) => [startSec + x * stepSec, ref.toFixed(2), h.toFixed(2), lows[x]!.toFixed(2), ref.toFixed(2), '63753192.1129']);
  return { y_axis: yAxis, liquidation_leverage_data: cells, price_candlesticks: candles };
}

/** Something the next matching request(s) get instead of the normal reply. */
export type CoinGlassFault =
  /** HTTP 200 with an error envelope, as CoinGlass does for plan errors. */
  | { kind: 'api'; code: string; msg: string }
  | { kind: 'http'; status: number; body?: string }
  /** 429 as HTTP status (`via: 'status'`) or as body code with HTTP 200 (`via: 'body'`). */
  | { kind: 'rate-limited'; via: 'status' | 'body'; retryAfterSec?: number }
  /** Normal envelope, `data` passed through `mutate` first. */
  | { kind: 'malformed'; mutate: (data: unknown) => unknown }
  | { kind: 'raw'; status?: number; body: string }
  /** Waits before sending anything. */
  | { kind: 'slow'; delayMs: number }
  /** Sends headers and half the body, then waits. */
  | { kind: 'stall-body'; delayMs: number };

export interface CoinGlassRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly keyOk: boolean;
}

interface QueuedFault {
  readonly fault: CoinGlassFault;
  readonly path: string | undefined;
  remaining: number;
}

type Route = (q: Record<string, string>) => unknown;

/**
 * A local HTTP server speaking CoinGlass v4: `CG-API-KEY` checked on every request (missing → HTTP 200
 * `{"code":"400","msg":"API key missing."}` as observed; wrong → HTTP 401 whose message echoes the key it got,
 * to prove clients mask it), `{code:"0",msg,data}` envelopes, `API-KEY-MAX-LIMIT`/`API-KEY-USE-LIMIT` headers,
 * required-parameter checks, unknown paths → 404 "Endpoint not found", and injectable faults.
 */
export class FakeCoinGlass {
  readonly requests: CoinGlassRequest[] = [];
  /** Sent as `API-KEY-MAX-LIMIT`; undefined sends neither limit header. */
  maxLimitPerMinute: number | undefined = 1200;
  /** Heatmap data for a request (pair and aggregated, any model). */
  heatmap: (req: { scope: 'pair' | 'aggregated'; model: number; symbol: string; range: string; exchange?: string }) => unknown = () =>
    heatmapData({
      refPriceUsd: 100,
      bands: [
        { priceUsd: 90, usd: 2_000_000, fromColumn: 3 },
        { priceUsd: 95, usd: 1_000_000, fromColumn: 10 },
        { priceUsd: 97, usd: 700_000, fromColumn: 5, toColumn: 20 },
        { priceUsd: 104, usd: 3_000_000, fromColumn: 0 },
        { priceUsd: 110, usd: 500_000, fromColumn: 40 },
      ],
    });
  liquidationMap: (req: { symbol: string; range: string; exchange?: string }) => unknown = (req) => ({
    data: {
      '95.5': [[95.5, 1_000_000, req.exchange ? 25 : null, null], [95.5, 250_000, req.exchange ? 50 : null, null]],
      '104.25': [[104.25, 3_000_000, req.exchange ? 10 : null, null]],
    },
  });
  openInterest: (req: Record<string, string>) => unknown = () => [
    { time: 1_786_003_600_000, open: '2608846475', high: '2620807645', low: '2327236202', close: '2340177420' },
    { time: 1_786_000_000_000, open: '2644845344', high: '2692643311', low: '2576975597', close: '2608846475' },
  ];
  supportedPairs: unknown = {
    Binance: [{ instrument_id: 'BTCUSDT', base_asset: 'BTC', quote_asset: 'USDT' }],
    Bybit: [{ instrument_id: 'BTCUSDT', base_asset: 'BTC', quote_asset: 'USDT' }, { instrument_id: 'ETHUSDT', base_asset: 'ETH', quote_asset: 'USDT' }],
  };
  /** `coins-markets` rows (all pages); served `per_page` at a time. */
  coinsMarkets: readonly Record<string, unknown>[] = [
    { symbol: 'BTC', current_price: 84773.6, market_cap_usd: 1683310500117.051, open_interest_usd: 55002072334.9376 },
    { symbol: 'ETH', current_price: 1582.55, market_cap_usd: 190821695398.62064, open_interest_usd: 17657693967.0459 },
  ];
  private readonly faults: QueuedFault[] = [];
  private readonly routes = new Map<string, { required: readonly string[]; data: Route }>();
  private minuteStartMs = 0;
  private usedThisMinute = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly apiKey: string,
  ) {
    server.on('request', (req, res) => void this.handle(req, res));
    for (const model of [1, 2, 3]) {
      this.routes.set(`/api/futures/liquidation/heatmap/model${model}`, {
        required: ['exchange', 'symbol', 'range'],
        data: (q) => this.heatmap({ scope: 'pair', model, symbol: q.symbol!, range: q.range!, exchange: q.exchange }),
      });
      this.routes.set(`/api/futures/liquidation/aggregated-heatmap/model${model}`, {
        required: ['symbol', 'range'],
        data: (q) => this.heatmap({ scope: 'aggregated', model, symbol: q.symbol!, range: q.range! }),
      });
    }
    this.routes.set('/api/futures/liquidation/map', { required: ['exchange', 'symbol', 'range'], data: (q) => this.liquidationMap({ symbol: q.symbol!, range: q.range!, exchange: q.exchange }) });
    this.routes.set('/api/futures/liquidation/aggregated-map', { required: ['symbol', 'range'], data: (q) => this.liquidationMap({ symbol: q.symbol!, range: q.range! }) });
    this.routes.set('/api/futures/open-interest/history', { required: ['exchange', 'symbol', 'interval'], data: (q) => this.openInterest(q) });
    this.routes.set('/api/futures/open-interest/aggregated-history', { required: ['symbol', 'interval'], data: (q) => this.openInterest(q) });
    this.routes.set('/api/futures/supported-exchange-pairs', { required: [], data: () => this.supportedPairs });
    this.routes.set('/api/futures/coins-markets', {
      required: [],
      data: (q) => {
        const perPage = Math.max(1, Number(q.per_page ?? 100));
        const page = Math.max(1, Number(q.page ?? 1));
        return this.coinsMarkets.slice((page - 1) * perPage, page * perPage);
      },
    });
  }

  static async start(apiKey: string, port = 0): Promise<FakeCoinGlass> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return new FakeCoinGlass(server, apiKey);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Queues `fault` for the next `times` requests (to `path` when given). */
  inject(fault: CoinGlassFault, options: { path?: string; times?: number } = {}): void {
    this.faults.push({ fault, path: options.path, remaining: options.times ?? 1 });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private takeFault(path: string): CoinGlassFault | undefined {
    const i = this.faults.findIndex((f) => f.path === undefined || f.path === path);
    const f = this.faults[i];
    if (!f) return undefined;
    if (--f.remaining <= 0) this.faults.splice(i, 1);
    return f.fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const key = req.headers['cg-api-key'];
    const keyOk = key === this.apiKey;
    this.requests.push({ path: url.pathname, query, keyOk });
    const now = Date.now();
    if (now - this.minuteStartMs >= 60_000) {
      this.minuteStartMs = now;
      this.usedThisMinute = 0;
    }
    this.usedThisMinute++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.maxLimitPerMinute !== undefined) {
      headers['API-KEY-MAX-LIMIT'] = String(this.maxLimitPerMinute);
      headers['API-KEY-USE-LIMIT'] = String(this.usedThisMinute);
    }
    const send = (status: number, body: string, extra: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { ...headers, ...extra });
      res.end(body);
    };
    const envelope = (code: string, msg: string, data?: unknown) => JSON.stringify(data === undefined ? { code, msg } : { code, msg, data });

    if (typeof key !== 'string' || key === '') return send(200, envelope('400', 'API key missing.'));
    if (!keyOk) return send(401, envelope('401', `Invalid API key: ${key}`));
    const fault = this.takeFault(url.pathname);
    if (fault?.kind === 'slow') await this.sleep(fault.delayMs);
    if (fault?.kind === 'api') return send(200, envelope(fault.code, fault.msg));
    if (fault?.kind === 'http') return send(fault.status, fault.body ?? `<html><body>${fault.status}</body></html>`, { 'content-type': 'text/html' });
    if (fault?.kind === 'raw') return send(fault.status ?? 200, fault.body);
    if (fault?.kind === 'rate-limited') {
      const retry: Record<string, string> = fault.retryAfterSec === undefined ? {} : { 'Retry-After': String(fault.retryAfterSec) };
      return send(fault.via === 'status' ? 429 : 200, envelope('429', 'Rate limit exceeded'), retry);
    }
    const route = this.routes.get(url.pathname);
    if (route === undefined) return send(404, envelope('404', 'Endpoint not found'));
    const missing = route.required.find((p) => !query[p]);
    if (missing !== undefined) return send(200, envelope('400', `Missing parameter: ${missing}`));
    let data = route.data(query);
    if (fault?.kind === 'malformed') data = fault.mutate(structuredClone(data));
    const body = envelope('0', 'success', data);
    if (fault?.kind === 'stall-body') {
      res.writeHead(200, headers);
      res.write(body.slice(0, body.length >> 1));
      await this.sleep(fault.delayMs);
      if (!res.destroyed) res.end(body.slice(body.length >> 1));
      return;
    }
    send(200, body);
  }
}
