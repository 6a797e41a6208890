import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BookRefusal, FakeBybitBook, type BookEvent } from './fake-bybit-book.js';
import { FakeBybitPrivateWs } from './fake-bybit-private-ws.js';
import { executionJson, orderJson, positionJson, s, walletJson } from './fake-bybit-shapes.js';

/** A fault injected into the next matching request(s). */
export type ExchangeFault =
  /** Reply with this retCode instead of processing. */
  | { kind: 'retCode'; retCode: number; retMsg: string }
  /** Process the request (the order IS accepted), then hold the reply this long (past a client timeout). */
  | { kind: 'delayReply'; delayMs: number }
  /** Accept the TCP request, never process it, and destroy the socket after `afterMs`. */
  | { kind: 'hangUp'; afterMs: number };

/** Bybit's per-UID per-endpoint limits over a rolling 1 s (linear defaults from the rate-limit page). */
const DEFAULT_LIMITS: Record<string, number> = {
  '/v5/order/create': 10, '/v5/order/amend': 10, '/v5/order/cancel': 10, '/v5/order/cancel-all': 10, '/v5/order/create-batch': 10,
  '/v5/order/realtime': 50, '/v5/execution/list': 50, '/v5/position/list': 50, '/v5/position/set-leverage': 10,
  '/v5/position/trading-stop': 10, '/v5/position/switch-mode': 10, '/v5/account/wallet-balance': 50, '/v5/account/info': 50,
};

type Handler = (p: Record<string, unknown>) => { result: unknown; retExtInfo?: unknown };

/**
 * A local exchange speaking Bybit v5 private REST and the private WebSocket on one port, for tests and benches
 * that drive the real `bybit-api` client at it. REST is verified like Bybit: X-BAPI-API-KEY (10003),
 * X-BAPI-SIGN = hex HMAC-SHA256 over timestamp + key + recvWindow + (raw query | raw body) (10004), and the
 * timestamp inside `[now − recvWindow, now + 1000)` on the exchange's own clock, which `skewMs` moves (10002).
 * Each private endpoint is rate limited per key over a rolling second (10006) and every reply carries the
 * `X-Bapi-Limit*` headers. State and matching live in {@link FakeBybitBook}; tests move prices with `book.setPrice`.
 */
export class FakeBybitExchange {
  readonly book: FakeBybitBook;
  readonly privateWs: FakeBybitPrivateWs;
  readonly keys = new Map<string, string>();
  /** How far the exchange's clock is ahead of the local one (ms); negative = behind. */
  skewMs = 0;
  readonly limits = new Map<string, number>(Object.entries(DEFAULT_LIMITS));
  /** Every request seen: path, the retCode returned, and arrival time. */
  readonly log: { path: string; retCode: number; body: string; atMs: number }[] = [];
  private readonly hits = new Map<string, number[]>();
  private readonly faults: { path: string; fault: ExchangeFault; remaining: number }[] = [];
  private readonly routes = new Map<string, Handler>();

  private constructor(private readonly server: http.Server) {
    this.book = new FakeBybitBook(() => this.now());
    this.privateWs = new FakeBybitPrivateWs(server, (k) => this.keys.get(k), () => this.now());
    this.book.onEvent = (e) => this.publish(e);
    server.on('request', (req, res) => this.handle(req, res));
    this.defineRoutes();
  }

  static async start(opts: { port?: number; apiKey?: string; apiSecret?: string } = {}): Promise<FakeBybitExchange> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
    const ex = new FakeBybitExchange(server);
    ex.keys.set(opts.apiKey ?? 'test-key', opts.apiSecret ?? 'test-secret');
    return ex;
  }

  now(): number {
    return Date.now() + this.skewMs;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get privateWsUrl(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v5/private`;
  }

  /** Queues `fault` for the next `times` requests to `path`. */
  inject(path: string, fault: ExchangeFault, times = 1): void {
    this.faults.push({ path, fault, remaining: times });
  }

  /** Requests to `path` with retCode, e.g. how many creates the exchange actually accepted. */
  count(path: string, retCode?: number): number {
    return this.log.filter((r) => r.path === path && (retCode === undefined || r.retCode === retCode)).length;
  }

  async close(): Promise<void> {
    await this.privateWs.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private publish(e: BookEvent): void {
    if (e.topic === 'order') this.privateWs.push('order', [orderJson(e.order)]);
    else if (e.topic === 'execution') this.privateWs.push('execution', [executionJson(e.execution)]);
    else if (e.topic === 'position') this.privateWs.push('position', [positionJson(this.book, e.position)]);
    else this.privateWs.push('wallet', [walletJson(this.book)]);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
      const path = url.pathname;
      const send = (retCode: number, retMsg: string, result: unknown = {}, retExtInfo: unknown = {}, headers: Record<string, string> = {}) => {
        this.log.push({ path, retCode, body, atMs: Date.now() });
        const text = JSON.stringify({ retCode, retMsg, result, retExtInfo, time: Math.floor(this.now()) });
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.end(text);
      };
      if (path === '/v5/market/time') {
        const t = this.now();
        return send(0, 'OK', { timeSecond: String(Math.floor(t / 1000)), timeNano: `${Math.floor(t)}000000` });
      }
      if (path === '/v5/market/instruments-info') return send(0, 'OK', this.instrumentsResult(url.searchParams.get('symbol')));
      const faultAt = this.faults.findIndex((f) => f.path === path && f.remaining > 0);
      const fault = faultAt >= 0 ? this.faults[faultAt]!.fault : undefined;
      if (faultAt >= 0 && --this.faults[faultAt]!.remaining === 0) this.faults.splice(faultAt, 1);
      if (fault?.kind === 'hangUp') return void setTimeout(() => req.socket.destroy(), fault.afterMs);
      const auth = this.authenticate(req, req.method === 'GET' ? rawQuery : body);
      if (auth.retCode !== 0) return send(auth.retCode, auth.retMsg);
      const limitHeaders = this.rateLimit(auth.key, path);
      if (limitHeaders === undefined) return send(10006, 'Too many visits!', {}, {}, this.limitHeaders(auth.key, path));
      if (fault?.kind === 'retCode') return send(fault.retCode, fault.retMsg, {}, {}, limitHeaders);
      const route = this.routes.get(path);
      if (!route) return send(10001, `unknown path ${path}`, {}, {}, limitHeaders);
      let params: Record<string, unknown>;
      try {
        params = req.method === 'GET' ? Object.fromEntries(url.searchParams) : (JSON.parse(body || '{}') as Record<string, unknown>);
      } catch {
        return send(10001, 'params error: body is not JSON', {}, {}, limitHeaders);
      }
      let reply: () => void;
      try {
        const out = route(params);
        reply = () => send(0, 'OK', out.result, out.retExtInfo ?? {}, limitHeaders);
      } catch (err) {
        if (!(err instanceof BookRefusal)) throw err;
        reply = () => send(err.retCode, err.retMsg, {}, {}, limitHeaders);
      }
      if (fault?.kind === 'delayReply') setTimeout(reply, fault.delayMs);
      else reply();
    });
  }

  private authenticate(req: http.IncomingMessage, payload: string): { retCode: number; retMsg: string; key: string } {
    const key = String(req.headers['x-bapi-api-key'] ?? '');
    const ts = String(req.headers['x-bapi-timestamp'] ?? '');
    const recvWindow = String(req.headers['x-bapi-recv-window'] ?? '5000');
    const sign = String(req.headers['x-bapi-sign'] ?? '');
    const secret = this.keys.get(key);
    if (secret === undefined) return { retCode: 10003, retMsg: 'API key is invalid.', key };
    const now = Math.floor(this.now());
    const t = Number(ts);
    if (!(t >= now - Number(recvWindow) && t < now + 1000)) {
      return { retCode: 10002, retMsg: `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${now}],recv_window[${recvWindow}]`, key };
    }
    const expected = createHmac('sha256', secret).update(ts + key + recvWindow + payload).digest('hex');
    if (expected !== sign) return { retCode: 10004, retMsg: `error sign! origin_string[${ts + key + recvWindow + payload}]`, key };
    return { retCode: 0, retMsg: 'OK', key };
  }

  /** Counts the request; returns the limit headers, or undefined when it is over the limit. */
  private rateLimit(key: string, path: string): Record<string, string> | undefined {
    const limit = this.limits.get(path) ?? 50;
    const id = `${key} ${path}`;
    const t = Date.now();
    const recent = (this.hits.get(id) ?? []).filter((x) => x > t - 1000);
    if (recent.length >= limit) {
      this.hits.set(id, recent);
      return undefined;
    }
    recent.push(t);
    this.hits.set(id, recent);
    return this.limitHeaders(key, path);
  }

  private limitHeaders(key: string, path: string): Record<string, string> {
    const limit = this.limits.get(path) ?? 50;
    const recent = this.hits.get(`${key} ${path}`) ?? [];
    const reset = recent.length > 0 ? recent[0]! + 1000 + this.skewMs : this.now();
    return { 'X-Bapi-Limit': String(limit), 'X-Bapi-Limit-Status': String(Math.max(0, limit - recent.length)), 'X-Bapi-Limit-Reset-Timestamp': String(Math.floor(reset)) };
  }

  private instrumentsResult(symbol: string | null): unknown {
    const list = [...this.book.instruments.values()].filter((i) => symbol === null || i.symbol === symbol).map((i) => ({
      symbol: i.symbol, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: i.symbol.replace(/USDT$/, ''), quoteCoin: 'USDT',
      settleCoin: 'USDT', launchTime: '1585526400000', priceScale: '2',
      leverageFilter: { minLeverage: '1', maxLeverage: s(i.maxLeverage), leverageStep: '0.01' },
      priceFilter: { minPrice: s(i.tickSize), maxPrice: '1999999.8', tickSize: s(i.tickSize) },
      lotSizeFilter: { maxOrderQty: s(i.maxOrderQty), maxMktOrderQty: s(i.maxOrderQty), minOrderQty: s(i.minOrderQty), qtyStep: s(i.qtyStep), minNotionalValue: '5' },
    }));
    return { category: 'linear', list, nextPageCursor: '' };
  }

  private defineRoutes(): void {
    const b = this.book;
    const r = this.routes;
    r.set('/v5/account/wallet-balance', () => ({ result: { list: [walletJson(b)] } }));
    r.set('/v5/account/info', () => ({ result: { marginMode: b.marginMode, unifiedMarginStatus: 5, isMasterTrader: false, spotHedgingStatus: 'OFF', updatedTime: '0', dcpStatus: 'OFF', timeWindow: 10, smpGroup: 0 } }));
    r.set('/v5/position/list', (p) => {
      if (p.symbol === undefined && p.settleCoin === undefined) throw new BookRefusal(10001, 'params error: symbol or settleCoin is required');
      const rows = p.symbol !== undefined ? [b.position(String(p.symbol))] : [...b.positions.values()].filter((x) => x.size > 0);
      const list = rows.flatMap((x) => (b.positionMode === 'hedge' ? [positionJson(b, x, 1), positionJson(b, { ...x, side: '', size: 0 }, 2)] : [positionJson(b, x)]));
      return { result: { category: 'linear', list, nextPageCursor: '' } };
    });
    r.set('/v5/position/set-leverage', (p) => {
      const inst = b.instrument(String(p.symbol));
      if (p.buyLeverage !== p.sellLeverage && b.positionMode === 'one-way') throw new BookRefusal(10001, 'buy leverage must equal sell leverage in one-way mode');
      const lev = Number(p.buyLeverage);
      if (!(lev >= 1 && lev <= inst.maxLeverage)) throw new BookRefusal(10001, `leverage invalid: must be in [1, ${inst.maxLeverage}]`);
      const pos = b.position(inst.symbol);
      if (pos.leverage === lev) throw new BookRefusal(110043, 'Set leverage not modified');
      pos.leverage = lev;
      return { result: {} };
    });
    r.set('/v5/position/switch-mode', (p) => {
      const mode = Number(p.mode) === 3 ? 'hedge' : 'one-way';
      if (mode === b.positionMode) throw new BookRefusal(110025, 'Position mode is not modified');
      if ([...b.positions.values()].some((x) => x.size > 0)) throw new BookRefusal(110024, 'You have existing positions, so position mode cannot be switched');
      b.positionMode = mode;
      return { result: {} };
    });
    r.set('/v5/position/trading-stop', (p) => {
      if (Number(p.positionIdx) !== 0) throw new BookRefusal(10001, 'position idx not match position mode');
      const num = (v: unknown) => (v === undefined ? undefined : Number(v));
      b.tradingStop(String(p.symbol), num(p.stopLoss), num(p.takeProfit), p.slTriggerBy as string | undefined);
      return { result: {} };
    });
    r.set('/v5/order/create', (p) => {
      const o = b.create(p);
      return { result: { orderId: o.orderId, orderLinkId: o.orderLinkId } };
    });
    r.set('/v5/order/create-batch', (p) => {
      const items = Array.isArray(p.request) ? (p.request as Record<string, unknown>[]) : [];
      if (items.length > 10) throw new BookRefusal(10001, 'batch size must be at most 10');
      const list: unknown[] = [];
      const ext: unknown[] = [];
      for (const item of items) {
        try {
          const o = b.create(item);
          list.push({ category: 'linear', symbol: o.symbol, orderId: o.orderId, orderLinkId: o.orderLinkId, createAt: String(o.createdTime) });
          ext.push({ code: 0, msg: 'OK' });
        } catch (err) {
          if (!(err instanceof BookRefusal)) throw err;
          list.push({ category: 'linear', symbol: item.symbol, orderId: '', orderLinkId: item.orderLinkId ?? '', createAt: '' });
          ext.push({ code: err.retCode, msg: err.retMsg });
        }
      }
      return { result: { list }, retExtInfo: { list: ext } };
    });
    r.set('/v5/order/amend', (p) => {
      const o = b.amend(p);
      return { result: { orderId: o.orderId, orderLinkId: o.orderLinkId } };
    });
    r.set('/v5/order/cancel', (p) => {
      const o = b.cancel(b.findOrder({ orderId: p.orderId as string | undefined, orderLinkId: p.orderLinkId as string | undefined }));
      return { result: { orderId: o.orderId, orderLinkId: o.orderLinkId } };
    });
    r.set('/v5/order/cancel-all', (p) => {
      const list: unknown[] = [];
      for (const o of [...b.orders.values()]) {
        if (!b.isOpen(o) || (p.symbol !== undefined && o.symbol !== p.symbol)) continue;
        b.cancel(o);
        list.push({ orderId: o.orderId, orderLinkId: o.orderLinkId });
      }
      return { result: { list, success: '1' } };
    });
    r.set('/v5/order/realtime', (p) => {
      const byId = p.orderId !== undefined || p.orderLinkId !== undefined;
      const list = [...b.orders.values()]
        .filter((o) => (p.symbol === undefined || o.symbol === p.symbol) && (p.orderId === undefined || o.orderId === p.orderId))
        .filter((o) => p.orderLinkId === undefined || o.orderLinkId === p.orderLinkId)
        .filter((o) => byId || (Number(p.openOnly ?? 0) === 0 ? b.isOpen(o) : !b.isOpen(o)))
        .sort((x, y) => y.createdTime - x.createdTime)
        .map(orderJson);
      return { result: { category: 'linear', list, nextPageCursor: '' } };
    });
    r.set('/v5/execution/list', (p) => {
      const start = Number(p.startTime ?? 0);
      const limit = Math.min(100, Number(p.limit ?? 50));
      const list = b.executions
        .filter((e) => e.execTime >= start && (p.symbol === undefined || e.symbol === p.symbol) && (p.orderLinkId === undefined || e.orderLinkId === p.orderLinkId))
        .slice(-limit)
        .reverse()
        .map(executionJson);
      return { result: { category: 'linear', list, nextPageCursor: '' } };
    });
  }
}
