/**
 * CoinGlass v4 REST client: liquidation heatmaps (pair and aggregated, model 1/2/3, default 2), liquidation
 * maps, open-interest history and supported pairs. One attempt per call; retries, pacing and 429 backoff
 * belong to `CoinGlassScheduler`.
 *
 * **Time axis → levels.** A heatmap is a sparse grid `[x, y, usd]`: x indexes `price_candlesticks` (time),
 * y indexes `y_axis` (price). CoinGlass draws it as horizontal bands: a level is repeated in every column
 * from the candle that opened it until price runs through it, so each column is a full picture of what was
 * resting at that time. We keep **the latest column only** (`latest-column`): that is the liquidation
 * leverage still resting at each price *now*. Summing over x would multiply a level by how long it has been
 * alive (a week-old band would outweigh a fresh one 2000:1 on the 7d map), and the max over x would keep
 * levels that price already ran through. The alternative `sum-uncrossed` exists for the case a live capture
 * shows levels emitted once (each `CoinGlassHeatmap.diagnostics.meanColumnsPerRow` ≈ 1); check that number
 * on the first live payload. The reference price is the newest candle's close, so the sides (core
 * `inferSide`) match the picture CoinGlass drew; replaying the same body gives the same snapshot.
 *
 * **Secrets.** The key travels only in the `CG-API-KEY` header. URLs handed to `onReply` and every error
 * message are built without it, and any echo of it in a reply (message or body) is replaced by `***`.
 */
import { buildHeatmapSnapshot, type BuiltHeatmapSnapshot, type HeatmapSnapshot } from '../core/heatmap.js';
import {
  COINGLASS_HEATMAP_RANGES, LIQUIDATION_MAP_RANGES, envelopeSchema, parseCoinsMarketsData, parseOpenInterestHistoryData, parseSupportedPairsData,
  reduceHeatmapData, reduceLiquidationMapData, describeZodIssues,
  type CoinGlassHeatmapRange, type HeatmapDiagnostics, type HeatmapModel, type HeatmapReduction, type LiquidationMapLevel,
  type CoinMarket, type LiquidationMapRange, type OpenInterestBar, type ParseOutcome, type SupportedPair,
} from './coinglass-schemas.js';

export const DEFAULT_COINGLASS_URL = 'https://open-api-v4.coinglass.com';

export type CoinGlassErrorKind = 'http' | 'api' | 'rate-limited' | 'shape' | 'timeout' | 'network';

/** Everything a CoinGlass call can fail with. Never carries the API key. */
export class CoinGlassError extends Error {
  override readonly name = 'CoinGlassError';
  constructor(
    readonly kind: CoinGlassErrorKind,
    message: string,
    readonly details: {
      /** Path and query, no host, no key. */
      readonly url: string;
      readonly httpStatus?: number;
      /** Body `code` when the reply had an envelope. */
      readonly code?: string;
      /** Body `msg` (key echoes masked). */
      readonly serverMessage?: string;
      /** From `Retry-After` when the server sent it. */
      readonly retryAfterMs?: number;
    },
  ) {
    super(message);
  }

  get retryAfterMs(): number | undefined {
    return this.details.retryAfterMs;
  }

  /** Worth trying again later: rate limits, timeouts, network failures, 5xx and 408. */
  get retryable(): boolean {
    const s = this.details.httpStatus ?? 0;
    return this.kind === 'rate-limited' || this.kind === 'timeout' || this.kind === 'network' || (this.kind === 'http' && (s >= 500 || s === 408));
  }

  /** The key or the plan is refused (401/403, "Upgrade plan", "API key …"): polling must stop, not retry. */
  get fatal(): boolean {
    if (this.kind !== 'http' && this.kind !== 'api') return false;
    const s = this.details.httpStatus ?? 0;
    const code = this.details.code;
    return s === 401 || s === 403 || code === '401' || code === '403' || /upgrade|\bplan\b|api.?key|unauthori[sz]ed|forbidden/i.test(this.details.serverMessage ?? '');
  }
}

/** Rate-limit headers of the last reply (`API-KEY-MAX-LIMIT`, `API-KEY-USE-LIMIT`), when sent. */
export interface CoinGlassRateLimit {
  readonly maxPerMinute?: number;
  readonly usedInWindow?: number;
  readonly tsInit: number;
}

export interface CoinGlassHeatmap {
  readonly snapshot: HeatmapSnapshot;
  readonly droppedLevelCount: number;
  readonly model: HeatmapModel;
  /** `pair` = one exchange's instrument; `aggregated` = the coin across exchanges. */
  readonly scope: 'pair' | 'aggregated';
  /** Newest candle in the payload (ms): how current CoinGlass's own data was. */
  readonly lastCandleAtMs: number;
  readonly diagnostics: HeatmapDiagnostics;
}

export interface CoinGlassLiquidationMap {
  readonly symbol: string;
  readonly range: LiquidationMapRange;
  /** Unsided: a map carries no price series, use {@link liquidationMapSnapshot} with your own price. */
  readonly levels: readonly LiquidationMapLevel[];
  readonly fetchedAt: number;
}

export type OpenInterestInterval = '1m' | '3m' | '5m' | '15m' | '30m' | '1h' | '4h' | '6h' | '8h' | '12h' | '1d' | '1w';

export interface OpenInterestQuery {
  readonly interval: OpenInterestInterval;
  /** ≤ 1000 (server default 1000). */
  readonly limit?: number;
  readonly startTimeMs?: number;
  readonly endTimeMs?: number;
  readonly unit?: 'usd' | 'coin';
}

/** Whatever a reply turned into; `fromRecorded` returns the same for the same URL and body. */
export type CoinGlassReply =
  | { readonly endpoint: 'heatmap'; readonly value: CoinGlassHeatmap }
  | { readonly endpoint: 'liquidation-map'; readonly value: CoinGlassLiquidationMap }
  | { readonly endpoint: 'open-interest-history'; readonly value: readonly OpenInterestBar[] }
  | { readonly endpoint: 'supported-exchange-pairs'; readonly value: Readonly<Record<string, SupportedPair[]>> }
  | { readonly endpoint: 'coins-markets'; readonly value: readonly CoinMarket[] };

type ReplyValue<E extends CoinGlassReply['endpoint']> = Extract<CoinGlassReply, { readonly endpoint: E }>['value'];

export type CoinGlassResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: CoinGlassError };

export interface CoinGlassClientOptions {
  /** Sent as `CG-API-KEY`; never logged, never in URLs or errors. */
  readonly apiKey: string;
  /** Default {@link DEFAULT_COINGLASS_URL} (`COINGLASS_URL`). */
  readonly baseUrl?: string;
  /** Per request, headers and body together. Default 10 000. */
  readonly timeoutMs?: number;
  /** Default 2. */
  readonly heatmapModel?: HeatmapModel;
  /** Default `latest-column` (see the file header). */
  readonly heatmapReduction?: HeatmapReduction;
  /** tsInit of a reply and `fetchedAt` of its snapshot. Default `Date.now`; pass the engine clock's `now`. */
  readonly now?: () => number;
  /** Snapshot symbol for a request. Default: the pair as given, or `<COIN>USDT` for aggregated endpoints. */
  readonly snapshotSymbol?: (request: { readonly coin?: string; readonly exchange?: string; readonly pair?: string }) => string;
  /** Every reply, error or not: full URL (never a key), raw body (key echoes masked), tsInit, HTTP status. For tapes. */
  readonly onReply?: (url: string, bodyText: string, tsInit: number, httpStatus: number) => void;
  /** Rate-limit headers, on every reply that carries them. Feed `CoinGlassScheduler.noteServerLimits`. */
  readonly onRateLimit?: (limit: CoinGlassRateLimit) => void;
}

/** Plain counters for the metrics sink (streams do not import prom-client). */
export interface CoinGlassClientStats {
  requests: number;
  ok: number;
  errors: Record<CoinGlassErrorKind, number>;
  /** Heatmap/map levels dropped by the core (non-positive USD, exactly at the reference price). */
  droppedLevels: number;
  /** Heatmap cells whose y index pointed past `y_axis`. */
  droppedCells: number;
  /** onReply/onRateLimit callbacks that threw (swallowed so a sink bug cannot fail a fetch). */
  hookErrors: number;
  lastError: string;
}

const HEATMAP_PATH = /\/api\/futures\/liquidation\/(heatmap|aggregated-heatmap)\/model([123])$/;

/** See the file header. One instance per key; safe to share between callers. */
export class CoinGlassClient {
  private readonly baseUrl: string;
  /** baseUrl without any userinfo: what recorded URLs start with. */
  private readonly publicBase: string;
  private readonly counters: CoinGlassClientStats = {
    requests: 0, ok: 0, errors: { http: 0, api: 0, 'rate-limited': 0, shape: 0, timeout: 0, network: 0 },
    droppedLevels: 0, droppedCells: 0, hookErrors: 0, lastError: '',
  };
  private lastLimit: CoinGlassRateLimit | undefined;

  constructor(private readonly opts: CoinGlassClientOptions) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_COINGLASS_URL).replace(/\/+$/, '');
    const pub = new URL(this.baseUrl);
    pub.username = '';
    pub.password = '';
    this.publicBase = pub.toString().replace(/\/+$/, '');
  }

  pairHeatmap(q: { exchange: string; pair: string; range: CoinGlassHeatmapRange; model?: HeatmapModel }): Promise<CoinGlassHeatmap> {
    const model = q.model ?? this.opts.heatmapModel ?? 2;
    return this.call(`/api/futures/liquidation/heatmap/model${model}`, { exchange: q.exchange, symbol: q.pair, range: q.range }, 'heatmap');
  }

  aggregatedHeatmap(q: { coin: string; range: CoinGlassHeatmapRange; model?: HeatmapModel }): Promise<CoinGlassHeatmap> {
    const model = q.model ?? this.opts.heatmapModel ?? 2;
    return this.call(`/api/futures/liquidation/aggregated-heatmap/model${model}`, { symbol: q.coin, range: q.range }, 'heatmap');
  }

  liquidationMap(q: { exchange: string; pair: string; range: LiquidationMapRange }): Promise<CoinGlassLiquidationMap> {
    return this.call('/api/futures/liquidation/map', { exchange: q.exchange, symbol: q.pair, range: q.range }, 'liquidation-map');
  }

  aggregatedLiquidationMap(q: { coin: string; range: LiquidationMapRange }): Promise<CoinGlassLiquidationMap> {
    return this.call('/api/futures/liquidation/aggregated-map', { symbol: q.coin, range: q.range }, 'liquidation-map');
  }

  openInterestHistory(q: OpenInterestQuery & { exchange: string; pair: string }): Promise<readonly OpenInterestBar[]> {
    return this.call('/api/futures/open-interest/history', { exchange: q.exchange, symbol: q.pair, ...ohlcParams(q) }, 'open-interest-history');
  }

  aggregatedOpenInterestHistory(q: OpenInterestQuery & { coin: string }): Promise<readonly OpenInterestBar[]> {
    return this.call('/api/futures/open-interest/aggregated-history', { symbol: q.coin, ...ohlcParams(q) }, 'open-interest-history');
  }

  supportedExchangePairs(q: { exchange?: string } = {}): Promise<Readonly<Record<string, SupportedPair[]>>> {
    return this.call('/api/futures/supported-exchange-pairs', q.exchange ? { exchange: q.exchange } : {}, 'supported-exchange-pairs');
  }

  /** One page of `coins-markets` (market caps; Standard plan and up). An empty page means past the last. */
  coinsMarkets(q: { page: number; perPage: number; exchanges?: readonly string[] }): Promise<readonly CoinMarket[]> {
    const params: Record<string, string> = { page: String(q.page), per_page: String(q.perPage) };
    if (q.exchanges !== undefined) params.exchange_list = q.exchanges.join(',');
    return this.call('/api/futures/coins-markets', params, 'coins-markets');
  }

  /**
   * Replay path: a recorded reply (URL as given to `onReply`, raw body, its tsInit and status) becomes exactly
   * what the live call returned or failed with. Never throws; retry-after is lost (headers are not recorded).
   */
  fromRecorded(url: string, bodyText: string, tsInit: number, httpStatus = 200): CoinGlassResult<CoinGlassReply> {
    const at = url.indexOf('/api/');
    const relative = at < 0 ? url : url.slice(at);
    try {
      return { ok: true, value: this.interpret(relative, httpStatus, bodyText, tsInit, undefined) };
    } catch (err) {
      return { ok: false, error: this.count(this.toError(err, relative)) };
    }
  }

  stats(): CoinGlassClientStats {
    return { ...this.counters, errors: { ...this.counters.errors } };
  }

  get lastRateLimit(): CoinGlassRateLimit | undefined {
    return this.lastLimit;
  }

  private async call<E extends CoinGlassReply['endpoint']>(path: string, params: Record<string, string>, endpoint: E): Promise<ReplyValue<E>> {
    const query = new URLSearchParams(params).toString();
    const url = `${path}${query ? `?${query}` : ''}`;
    this.counters.requests++;
    const signal = AbortSignal.timeout(this.opts.timeoutMs ?? 10_000);
    let status: number;
    let bodyText: string;
    let headers: Headers;
    try {
      const res = await fetch(`${this.baseUrl}${url}`, { headers: { 'CG-API-KEY': this.opts.apiKey, accept: 'application/json' }, signal });
      status = res.status;
      headers = res.headers;
      bodyText = await res.text();
    } catch (err) {
      const kind = signal.aborted ? 'timeout' : 'network';
      const why = kind === 'timeout' ? `timed out after ${this.opts.timeoutMs ?? 10_000} ms` : `network error: ${describeCause(err)}`;
      throw this.count(new CoinGlassError(kind, this.mask(`CoinGlass GET ${url}: ${why}`), { url }));
    }
    const tsInit = (this.opts.now ?? Date.now)();
    bodyText = this.mask(bodyText);
    this.hook(() => this.opts.onReply?.(`${this.publicBase}${url}`, bodyText, tsInit, status));
    const limit = readRateLimit(headers, tsInit);
    if (limit !== undefined) {
      this.lastLimit = limit;
      this.hook(() => this.opts.onRateLimit?.(limit));
    }
    try {
      const reply = this.interpret(url, status, bodyText, tsInit, headers);
      if (reply.endpoint !== endpoint) throw new Error(`reply parsed as ${reply.endpoint}, expected ${endpoint}`);
      this.counters.ok++;
      return reply.value as ReplyValue<E>;
    } catch (err) {
      throw this.count(this.toError(err, url));
    }
  }

  /** Status + body → reply, or throws CoinGlassError. Shared by live calls and replay. */
  private interpret(url: string, status: number, bodyText: string, tsInit: number, headers: Headers | undefined): CoinGlassReply {
    let body: unknown;
    try {
      body = JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    const env = envelopeSchema.safeParse(body);
    const code = env.success ? env.data.code : undefined;
    const msg = env.success ? (env.data.msg ?? '') : bodyText.slice(0, 120);
    const fail = (kind: CoinGlassErrorKind, why: string, code?: string): never => {
      const retryAfterMs = kind === 'rate-limited' && headers ? parseRetryAfter(headers.get('retry-after'), tsInit) : undefined;
      const serverMessage = this.mask(msg);
      throw new CoinGlassError(kind, this.mask(`CoinGlass GET ${url}: ${why}`), { url, httpStatus: status, code, serverMessage, retryAfterMs });
    };
    if (status === 429 || code === '429') fail('rate-limited', `rate limit exceeded (HTTP ${status}, code ${code ?? '-'}) ${JSON.stringify(msg)}`, code);
    if (status < 200 || status > 299) {
      const hint = status === 401 || status === 403 ? 'CoinGlass rejected the API key: ' : '';
      fail('http', `${hint}HTTP ${status}${code ? ` code ${code}` : ''} ${JSON.stringify(msg)}`, code);
    }
    if (body === undefined) fail('shape', `body is not JSON: ${JSON.stringify(bodyText.slice(0, 80))}`);
    if (!env.success) fail('shape', `not a CoinGlass envelope: ${describeZodIssues(env.error, '', body)}`);
    if (code !== '0') fail('api', `code ${code} ${JSON.stringify(msg)}`, code);
    const data = (env.data as { data?: unknown }).data;
    if (data === undefined || data === null) fail('shape', 'data: missing in a code "0" reply');
    const parsedUrl = new URL(url, 'http://recorded.invalid');
    const p = (name: string) => parsedUrl.searchParams.get(name) ?? '';
    const path = parsedUrl.pathname;
    const ok = <T>(o: ParseOutcome<T>): T => (o.ok ? o.value : fail('shape', o.problem));

    const heat = HEATMAP_PATH.exec(path);
    if (heat) {
      const range = p('range') as CoinGlassHeatmapRange;
      if (!COINGLASS_HEATMAP_RANGES.includes(range)) fail('shape', `url: unknown heatmap range ${JSON.stringify(p('range'))}`);
      const scope = heat[1] === 'heatmap' ? 'pair' : 'aggregated';
      const reduced = ok(reduceHeatmapData(data, this.opts.heatmapReduction ?? 'latest-column'));
      this.counters.droppedCells += reduced.diagnostics.cellsOutsideYAxis;
      const built = buildHeatmapSnapshot({
        symbol: this.symbolFor(scope === 'pair' ? { exchange: p('exchange'), pair: p('symbol') } : { coin: p('symbol') }),
        range, source: 'coinglass', refPrice: reduced.refPriceUsd, fetchedAt: tsInit, levels: reduced.levels,
      });
      this.counters.droppedLevels += built.droppedLevelCount;
      const model = Number(heat[2]) as HeatmapModel;
      const value: CoinGlassHeatmap = { ...built, model, scope, lastCandleAtMs: reduced.lastCandleAtMs, diagnostics: reduced.diagnostics };
      return { endpoint: 'heatmap', value };
    }
    if (path.endsWith('/api/futures/liquidation/map') || path.endsWith('/api/futures/liquidation/aggregated-map')) {
      const range = p('range') as LiquidationMapRange;
      if (!(range in LIQUIDATION_MAP_RANGES)) fail('shape', `url: unknown liquidation map range ${JSON.stringify(p('range'))}`);
      const symbol = this.symbolFor(path.endsWith('/map') ? { exchange: p('exchange'), pair: p('symbol') } : { coin: p('symbol') });
      return { endpoint: 'liquidation-map', value: { symbol, range, levels: ok(reduceLiquidationMapData(data)), fetchedAt: tsInit } };
    }
    if (path.endsWith('/api/futures/open-interest/history') || path.endsWith('/api/futures/open-interest/aggregated-history')) {
      return { endpoint: 'open-interest-history', value: ok(parseOpenInterestHistoryData(data)) };
    }
    if (path.endsWith('/api/futures/supported-exchange-pairs')) {
      return { endpoint: 'supported-exchange-pairs', value: ok(parseSupportedPairsData(data)) };
    }
    if (path.endsWith('/api/futures/coins-markets')) {
      return { endpoint: 'coins-markets', value: ok(parseCoinsMarketsData(data)) };
    }
    return fail('shape', 'url: not an endpoint this client knows');
  }

  private symbolFor(req: { coin?: string; exchange?: string; pair?: string }): string {
    if (this.opts.snapshotSymbol) return this.opts.snapshotSymbol(req);
    return req.pair ?? `${req.coin ?? ''}USDT`;
  }

  /** Replaces any echo of the key (servers do echo bad keys) with `***`. */
  private mask(text: string): string {
    const key = this.opts.apiKey;
    return key.length >= 4 ? text.split(key).join('***') : text;
  }

  private hook(fn: () => void): void {
    try {
      fn();
    } catch {
      this.counters.hookErrors++;
    }
  }

  private toError(err: unknown, url: string): CoinGlassError {
    if (err instanceof CoinGlassError) return err;
    return new CoinGlassError('shape', this.mask(`CoinGlass GET ${url}: ${err instanceof Error ? err.message : String(err)}`), { url });
  }

  private count(err: CoinGlassError): CoinGlassError {
    this.counters.errors[err.kind]++;
    this.counters.lastError = err.message;
    return err;
  }
}

/** Sides a liquidation map against `refPriceUsd` (a map has no price series of its own). */
export function liquidationMapSnapshot(map: CoinGlassLiquidationMap, refPriceUsd: number): BuiltHeatmapSnapshot {
  return buildHeatmapSnapshot({
    symbol: map.symbol, range: LIQUIDATION_MAP_RANGES[map.range], source: 'coinglass', refPrice: refPriceUsd,
    fetchedAt: map.fetchedAt, levels: map.levels,
  });
}

function ohlcParams(q: OpenInterestQuery): Record<string, string> {
  const out: Record<string, string> = { interval: q.interval };
  if (q.limit !== undefined) out.limit = String(q.limit);
  if (q.startTimeMs !== undefined) out.start_time = String(q.startTimeMs);
  if (q.endTimeMs !== undefined) out.end_time = String(q.endTimeMs);
  if (q.unit !== undefined) out.unit = q.unit;
  return out;
}

function readRateLimit(headers: Headers, tsInit: number): CoinGlassRateLimit | undefined {
  const num = (name: string): number | undefined => {
    const v = headers.get(name);
    const n = v === null ? Number.NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const maxPerMinute = num('api-key-max-limit');
  const usedInWindow = num('api-key-use-limit');
  if (maxPerMinute === undefined && usedInWindow === undefined) return undefined;
  return { maxPerMinute, usedInWindow, tsInit };
}

/** `Retry-After` as delta-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

