/**
 * Bootstraps the liquidation estimator at start from Bybit REST history (open interest + klines), so the
 * estimate has a week of exposure instead of starting empty.
 *
 * **Alignment.** An open-interest reading at `T` is taken as the OI at that instant, so the change since the
 * previous reading happened during the kline bar that *ends* at `T` (start `T − interval`). Per bar end time,
 * in ascending order: the bar's high and low go to `onPrice` (consuming levels the price crossed; within a
 * bar their order is unknown and does not matter for existing levels), then `onOpenInterest(T, oi, vwap)` with
 * the bar's VWAP (turnover / volume, the close when volume is 0) as the entry price of new OI, then
 * `onPrice(close)` so new high-leverage levels already beyond the close are consumed. A reading without its
 * bar is skipped (counted); bars without a reading (the still-open candle, gaps) only move the price.
 * ⚠ Bybit does not document whether OI `timestamp` is the start or end of its interval; this picks "instant".
 *
 * **Taker side.** Klines carry no taker buy/sell split, so no share is passed and the model splits new OI
 * 50/50 long/short. Live trades refine it afterwards.
 *
 * **Replay.** `onReply` sees every reply body (HTTP errors too) as text with its URL (public endpoints carry
 * no secrets) and receipt time. Retries request the identical URL, so keep the last body per URL;
 * `feedFromRecorded` on those bodies reproduces the live estimator state exactly (both paths run the same
 * parse and feed code). The body text is the SDK's parsed reply serialised again (the SDK hides the raw
 * bytes); a non-JSON body is reconstructed verbatim.
 */
import type { RestClientV5 } from 'bybit-api';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { EstimatorFeed } from '../core/coin-liquidity.js';
import { Backoff } from './backoff.js';
import { RestPacerClosedError, type RestPacer } from './rest-pacer.js';

export type BootstrapIntervalTime = '5min' | '15min' | '1h';
const INTERVALS: Readonly<Record<BootstrapIntervalTime, { ms: number; kline: '5' | '15' | '60' }>> = {
  '5min': { ms: 300_000, kline: '5' },
  '15min': { ms: 900_000, kline: '15' },
  '1h': { ms: 3_600_000, kline: '60' },
};

/** Stable failure reasons. `IP_BANNED` (HTTP 403) means stop all Bybit REST traffic for at least 10 min. */
export type BootstrapFailure = 'IP_BANNED' | 'HTTP' | 'NETWORK' | 'RET_CODE' | 'MALFORMED' | 'PAGING' | 'STOPPED' | 'BAD_OPTIONS' | 'CALLBACK';

/** Every way a bootstrap fails; never a raw SDK value. */
export class EstimatorBootstrapError extends Error {
  override readonly name = 'EstimatorBootstrapError';
  constructor(readonly reason: BootstrapFailure, message: string) {
    super(message);
  }
}

export interface KlineBar {
  readonly startMs: number;
  readonly openUsd: number;
  readonly highUsd: number;
  readonly lowUsd: number;
  readonly closeUsd: number;
  /** Base coin. */
  readonly volumeQty: number;
  readonly turnoverUsd: number;
}

export interface OpenInterestPoint {
  readonly tsMs: number;
  /** Contracts (base coin), as Bybit's `openInterest`. */
  readonly openInterestQty: number;
}

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal string').transform(Number);
const positive = decimal.refine((n) => n > 0, 'expected > 0');
const epochMs = z.string().regex(/^\d{1,15}$/, 'expected an integer ms string').transform(Number);
const envelopeSchema = z.object({ retCode: z.number(), retMsg: z.string(), result: z.unknown() });
const klineResult = z.object({
  symbol: z.string().optional(),
  list: z.array(z.tuple([epochMs, positive, positive, positive, positive, decimal, decimal]).rest(z.string())),
});
const oiResult = z.object({
  symbol: z.string().optional(),
  list: z.array(z.object({ openInterest: decimal, timestamp: epochMs })),
  nextPageCursor: z.string().nullish(),
});
const KLINE_COLUMNS = ['startTime', 'open', 'high', 'low', 'close', 'volume', 'turnover'];

function describeIssues(error: z.ZodError, root: unknown, kline: boolean): string {
  return error.issues
    .slice(0, 3)
    .map((i) => {
      let path = ['result', ...i.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))].join('');
      const col = i.path[0] === 'list' && typeof i.path[2] === 'number' ? KLINE_COLUMNS[i.path[2]] : undefined;
      if (kline && col !== undefined) path += ` (${col})`;
      const got = i.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), root);
      return `${path}: ${i.message} (got ${JSON.stringify(got)?.slice(0, 60) ?? 'undefined'})`;
    })
    .join('; ');
}

/** Checks the envelope and retCode; returns `result`. */
function openEnvelope(body: unknown, where: string): unknown {
  if (typeof body === 'string') throw new EstimatorBootstrapError('MALFORMED', `${where}: body is not JSON: ${body.slice(0, 80)}`);
  const env = envelopeSchema.safeParse(body);
  if (!env.success) throw new EstimatorBootstrapError('MALFORMED', `${where}: not a Bybit envelope: ${JSON.stringify(body)?.slice(0, 120)}`);
  if (env.data.retCode !== 0) {
    throw new EstimatorBootstrapError('RET_CODE', `${where}: retCode ${env.data.retCode} ${JSON.stringify(env.data.retMsg)}`);
  }
  return env.data.result;
}

function checkSymbol(got: string | undefined, symbol: string | undefined, where: string): void {
  if (got !== undefined && symbol !== undefined && got !== symbol) {
    throw new EstimatorBootstrapError('MALFORMED', `${where}: result.symbol is ${JSON.stringify(got)}, expected ${symbol}`);
  }
}

/** Validates one `/v5/market/kline` reply (rows in any order). Throws {@link EstimatorBootstrapError}. */
export function parseKlineBody(body: unknown, where = 'kline', symbol?: string): KlineBar[] {
  const result = openEnvelope(body, where);
  const parsed = klineResult.safeParse(result);
  if (!parsed.success) throw new EstimatorBootstrapError('MALFORMED', `${where}: ${describeIssues(parsed.error, result, true)}`);
  checkSymbol(parsed.data.symbol, symbol, where);
  return parsed.data.list.map(([startMs, openUsd, highUsd, lowUsd, closeUsd, volumeQty, turnoverUsd], i) => {
    if (!(lowUsd <= highUsd)) throw new EstimatorBootstrapError('MALFORMED', `${where}: result.list[${i}] low ${lowUsd} > high ${highUsd}`);
    return { startMs, openUsd, highUsd, lowUsd, closeUsd, volumeQty, turnoverUsd };
  });
}

/** Validates one `/v5/market/open-interest` reply (rows in any order). Throws {@link EstimatorBootstrapError}. */
export function parseOpenInterestBody(body: unknown, where = 'open-interest', symbol?: string): { points: OpenInterestPoint[]; nextPageCursor: string } {
  const result = openEnvelope(body, where);
  const parsed = oiResult.safeParse(result);
  if (!parsed.success) throw new EstimatorBootstrapError('MALFORMED', `${where}: ${describeIssues(parsed.error, result, false)}`);
  checkSymbol(parsed.data.symbol, symbol, where);
  const points = parsed.data.list.map((r) => ({ tsMs: r.timestamp, openInterestQty: r.openInterest }));
  return { points, nextPageCursor: parsed.data.nextPageCursor ?? '' };
}

/** What one feed did. `fed` counts OI readings applied (the first one only sets the model's baseline). */
export interface BootstrapFeedStats {
  readonly bars: number;
  readonly oiReadings: number;
  readonly fed: number;
  /** Readings skipped because the bar ending at their timestamp is missing. */
  readonly oiWithoutBar: number;
  readonly barsWithoutOi: number;
  /** Readings the estimator refused (non-finite, negative). */
  readonly rejected: number;
  readonly firstMs: number | undefined;
  readonly lastMs: number | undefined;
  /** Close of the newest bar: a sensible `refPrice` for a first snapshot. */
  readonly lastCloseUsd: number | undefined;
}

/** Ascending by time, first occurrence wins on duplicate timestamps (overlapping pages). */
function uniqueAscending<T>(rows: readonly T[], ts: (row: T) => number): T[] {
  const byTs = new Map<number, T>();
  for (const r of rows) if (!byTs.has(ts(r))) byTs.set(ts(r), r);
  return [...byTs.values()].sort((a, b) => ts(a) - ts(b));
}

function feedSeries(estimator: EstimatorFeed, points: readonly OpenInterestPoint[], rawBars: readonly KlineBar[], intervalMs: number): BootstrapFeedStats {
  const bars = uniqueAscending(rawBars, (b) => b.startMs);
  const oi = uniqueAscending(points, (p) => p.tsMs);
  const barByEnd = new Map(bars.map((b) => [b.startMs + intervalMs, b]));
  const oiByTs = new Map(oi.map((p) => [p.tsMs, p]));
  const times = [...new Set([...barByEnd.keys(), ...oiByTs.keys()])].sort((a, b) => a - b);
  let fed = 0;
  let oiWithoutBar = 0;
  let barsWithoutOi = 0;
  let rejected = 0;
  for (const t of times) {
    const bar = barByEnd.get(t);
    const reading = oiByTs.get(t);
    if (bar === undefined) {
      oiWithoutBar++;
      continue;
    }
    estimator.onPrice(bar.highUsd);
    estimator.onPrice(bar.lowUsd);
    if (reading === undefined) {
      barsWithoutOi++;
      continue;
    }
    const vwap = bar.volumeQty > 0 && bar.turnoverUsd > 0 ? bar.turnoverUsd / bar.volumeQty : bar.closeUsd;
    if (estimator.onOpenInterest(t, reading.openInterestQty, vwap)) fed++;
    else rejected++;
    estimator.onPrice(bar.closeUsd);
  }
  const firstMs = times[0];
  const lastMs = times.at(-1);
  return { bars: bars.length, oiReadings: oi.length, fed, oiWithoutBar, barsWithoutOi, rejected, firstMs, lastMs, lastCloseUsd: bars.at(-1)?.closeUsd };
}

function asBodies(bodies: string | readonly string[]): readonly string[] {
  return typeof bodies === 'string' ? [bodies] : bodies;
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Feeds `estimator` from recorded reply bodies (every open-interest page, every kline page, any order) with
 * no network: the replay path of {@link bootstrapEstimator}. Validates everything before feeding, so a bad
 * body throws {@link EstimatorBootstrapError} and leaves the estimator untouched. Open-interest pages must be
 * complete (a chain of n pages carries n − 1 cursors). `intervalTime` must be the recorded one (see the URL).
 */
export function feedFromRecorded(
  estimator: EstimatorFeed,
  oiBodies: string | readonly string[],
  klineBodies: string | readonly string[],
  options: { intervalTime?: BootstrapIntervalTime } = {},
): BootstrapFeedStats {
  const interval = INTERVALS[options.intervalTime ?? '1h'];
  if (interval === undefined) throw new EstimatorBootstrapError('BAD_OPTIONS', `unknown intervalTime ${String(options.intervalTime)}`);
  const sym = estimator.symbol;
  const points: OpenInterestPoint[] = [];
  const pages = asBodies(oiBodies);
  let pointing = 0;
  pages.forEach((text, i) => {
    const where = `recorded open-interest ${sym} body ${i + 1}`;
    const page = parseOpenInterestBody(parseText(text), where, sym);
    points.push(...page.points);
    if (page.points.length > 0 && page.nextPageCursor !== '') pointing++;
  });
  // n chained pages carry n − 1 cursors; as many cursors as pages means the recording stops early.
  if (pages.length > 0 && pointing >= pages.length) {
    throw new EstimatorBootstrapError('PAGING', `recorded open-interest ${sym}: ${pages.length} page(s) but every one points to a next page; pages are missing`);
  }
  const bars: KlineBar[] = [];
  asBodies(klineBodies).forEach((text, i) => {
    const where = `recorded kline ${sym} body ${i + 1}`;
    bars.push(...parseKlineBody(parseText(text), where, sym));
  });
  return feedSeries(estimator, points, bars, interval.ms);
}

export interface BootstrapOptions {
  readonly client: RestClientV5;
  /** Shared by every bootstrap request (retries included); see {@link RestPacer}. */
  readonly pacer: RestPacer;
  readonly clock: Clock;
  /** Default 7 days. */
  readonly lookbackMs?: number;
  /** Open-interest interval; klines of the same length are fetched. Default `1h`. */
  readonly intervalTime?: BootstrapIntervalTime;
  /** Every reply body (HTTP errors too) with its URL and receipt time, for tapes. */
  readonly onReply?: (url: string, bodyText: string, tsInit: number) => void;
  /** Attempts per request on retCode 10006/10016/429, HTTP 429/5xx and network errors. Default 4. */
  readonly maxAttempts?: number;
  /** Full-jitter retry delay ceiling doubles from base to cap. Defaults 500 / 10 000 ms. */
  readonly retryBaseMs?: number;
  readonly retryCapMs?: number;
  /** Uniform [0, 1) for jitter; seed it in tests. Default Math.random. */
  readonly random?: () => number;
  /** Host used in `onReply` URLs. Default: the client's base URL, else `https://api.bybit.com`. */
  readonly baseUrl?: string;
}

export interface BootstrapResult extends BootstrapFeedStats {
  readonly symbol: string;
  readonly oiPages: number;
  readonly klinePages: number;
  /** HTTP requests sent for this symbol, retries included. */
  readonly requests: number;
  readonly retries: number;
}

type Tally = (kind: 'request' | 'retry') => void;
const RETRYABLE_RET_CODES = new Set([10006, 10016, 429]);
const DAY_MS = 86_400_000;

/** What the SDK resolved with, as a body to validate and the text to record. */
function normaliseReply(value: unknown): { body: unknown; text: string } {
  if (typeof value === 'string') return { body: value, text: value };
  if (value === null || typeof value !== 'object') return { body: value, text: String(JSON.stringify(value)) };
  const { rateLimitApi: _rateLimits, ...rest } = value as Record<string, unknown>;
  if (!('0' in rest)) return { body: rest, text: JSON.stringify(rest) };
  // The SDK spreads a non-JSON body string into an object of characters: put the text back together.
  const text = Object.keys(rest).filter((k) => /^\d+$/.test(k)).map((k) => String(rest[k])).join('');
  return { body: text, text };
}

/** Turns what RestClientV5 throws into a clear error, whether to retry it, and the reply body if there was one. */
function describeFailure(err: unknown, where: string): { error: EstimatorBootstrapError; retryable: boolean; bodyText?: string } {
  if (typeof err === 'string') return { error: new EstimatorBootstrapError('NETWORK', `${where}: ${err}`), retryable: false };
  const e = (err && typeof err === 'object' ? err : {}) as { code?: unknown; message?: unknown; body?: unknown };
  if (typeof e.code === 'number') {
    const bodyText = typeof e.body === 'string' ? e.body : String(JSON.stringify(e.body));
    if (e.code === 403) {
      const msg = `${where}: HTTP 403 from Bybit: the IP is banned (over 600 requests per 5 s) or region-blocked; send no Bybit REST requests for at least 10 minutes`;
      return { error: new EstimatorBootstrapError('IP_BANNED', msg), retryable: false, bodyText };
    }
    const msg = `${where}: HTTP ${e.code} ${String(e.message ?? '')}: ${bodyText.slice(0, 200)}`;
    return { error: new EstimatorBootstrapError('HTTP', msg), retryable: e.code === 429 || e.code >= 500, bodyText };
  }
  const detail = typeof e.message === 'string' ? `${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message}` : String(err);
  return { error: new EstimatorBootstrapError('NETWORK', `${where}: ${detail}`), retryable: true };
}

function clientBaseUrl(client: RestClientV5): string | undefined {
  const url: unknown = (client as unknown as { baseUrl?: unknown }).baseUrl;
  return typeof url === 'string' && url.startsWith('http') ? url : undefined;
}

async function runBootstrap(symbol: string, estimator: EstimatorFeed, o: BootstrapOptions, tally: Tally): Promise<BootstrapResult> {
  const intervalTime = o.intervalTime ?? '1h';
  const interval = INTERVALS[intervalTime];
  const lookbackMs = o.lookbackMs ?? 7 * DAY_MS;
  if (interval === undefined) throw new EstimatorBootstrapError('BAD_OPTIONS', `bootstrap ${symbol}: unknown intervalTime ${String(intervalTime)}`);
  if (!(Number.isFinite(lookbackMs) && lookbackMs >= interval.ms)) {
    throw new EstimatorBootstrapError('BAD_OPTIONS', `bootstrap ${symbol}: lookbackMs must be >= ${interval.ms}, got ${lookbackMs}`);
  }
  if (estimator.symbol !== symbol) throw new EstimatorBootstrapError('BAD_OPTIONS', `bootstrap ${symbol}: estimator is for ${estimator.symbol}`);
  const base = o.baseUrl ?? clientBaseUrl(o.client) ?? 'https://api.bybit.com';
  let requests = 0;
  let retries = 0;
  const fetchBody = async (where: string, path: string, params: Record<string, string | number>, call: () => Promise<unknown>): Promise<unknown> => {
    const url = `${base}${path}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const backoff = new Backoff(o.random ?? Math.random, { baseMs: o.retryBaseMs ?? 500, capMs: o.retryCapMs ?? 10_000 });
    const maxAttempts = o.maxAttempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        await o.pacer.acquire();
      } catch (err) {
        const why = err instanceof RestPacerClosedError ? err.message : String(err);
        throw new EstimatorBootstrapError('STOPPED', `${where}: stopped before the request: ${why}`);
      }
      requests++;
      tally('request');
      let value: unknown;
      let failure: ReturnType<typeof describeFailure> | undefined;
      try {
        value = await call();
      } catch (err) {
        failure = describeFailure(err, where);
      }
      const reply = failure === undefined ? normaliseReply(value) : undefined;
      const text = reply?.text ?? failure?.bodyText;
      if (text !== undefined && o.onReply !== undefined) {
        try {
          o.onReply(url, text, o.clock.now());
        } catch (err) {
          throw new EstimatorBootstrapError('CALLBACK', `${where}: onReply threw: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      const last = attempt >= maxAttempts;
      if (failure !== undefined && (!failure.retryable || last)) throw failure.error;
      if (reply !== undefined) {
        const code = (reply.body as { retCode?: unknown } | null)?.retCode;
        if (last || typeof code !== 'number' || !RETRYABLE_RET_CODES.has(code)) return reply.body;
      }
      retries++;
      tally('retry');
      const delayMs = backoff.nextDelayMs();
      await new Promise<void>((resolve) => o.clock.setTimer(`estimator-bootstrap:${symbol}:retry`, o.clock.now() + delayMs, () => resolve()));
    }
  };

  const endMs = Math.floor(o.clock.now());
  const startMs = endMs - lookbackMs;
  const points: OpenInterestPoint[] = [];
  const seenCursors = new Set<string>();
  let cursor = '';
  let oiPages = 0;
  for (const maxPages = Math.ceil(lookbackMs / interval.ms / 200) + 3; ; ) {
    if (++oiPages > maxPages) throw new EstimatorBootstrapError('PAGING', `open-interest ${symbol}: more than ${maxPages} pages`);
    const where = `open-interest ${symbol} page ${oiPages}`;
    const params = { category: 'linear', symbol, intervalTime, startTime: startMs, endTime: endMs, limit: 200, ...(cursor ? { cursor } : {}) } as const;
    const page = parseOpenInterestBody(await fetchBody(where, '/v5/market/open-interest', params, () => o.client.getOpenInterest(params)), where, symbol);
    points.push(...page.points);
    if (page.points.length === 0 || page.nextPageCursor === '') break;
    if (seenCursors.has(page.nextPageCursor)) throw new EstimatorBootstrapError('PAGING', `${where}: cursor ${page.nextPageCursor} repeats`);
    seenCursors.add((cursor = page.nextPageCursor));
  }
  const bars: KlineBar[] = [];
  let klinePages = 0;
  for (let end = endMs, maxPages = Math.ceil(lookbackMs / interval.ms / 1000) + 3; ; ) {
    if (++klinePages > maxPages) throw new EstimatorBootstrapError('PAGING', `kline ${symbol}: more than ${maxPages} pages`);
    const where = `kline ${symbol} page ${klinePages}`;
    const params = { category: 'linear', symbol, interval: interval.kline, start: startMs, end, limit: 1000 } as const;
    const page = parseKlineBody(await fetchBody(where, '/v5/market/kline', params, () => o.client.getKline(params)), where, symbol);
    bars.push(...page);
    // Newest first, so the page's oldest row is where the next (older) page ends.
    const oldest = page.reduce((m, b) => Math.min(m, b.startMs), Infinity);
    if (page.length < params.limit || oldest <= startMs) break;
    if (!(oldest - 1 < end)) throw new EstimatorBootstrapError('PAGING', `${where}: oldest bar ${oldest} does not move back from end ${end}`);
    end = oldest - 1;
  }
  const stats = feedSeries(estimator, points, bars, interval.ms);
  return { symbol, ...stats, oiPages, klinePages, requests, retries };
}

/**
 * Fetches open-interest history (cursor pages of 200) and klines of the same interval (pages of 1000, newest
 * first) over `lookbackMs` through the shared pacer, validates both, and feeds `estimator` in time order (see
 * the module comment for the alignment). Retries retCode 10006/10016/429, HTTP 429/5xx and network errors with
 * jittered backoff on the clock. Rejects only with {@link EstimatorBootstrapError}; the estimator is untouched
 * unless every page arrived and validated.
 */
export function bootstrapEstimator(symbol: string, estimator: EstimatorFeed, options: BootstrapOptions): Promise<BootstrapResult> {
  return runBootstrap(symbol, estimator, options, () => undefined);
}

export interface BootstrapAllOptions extends BootstrapOptions {
  /** Symbols in flight at once (each has one request outstanding at most). Default 4; the pacer caps the rate. */
  readonly concurrency?: number;
  /** Called after each symbol starts and finishes. */
  readonly onProgress?: (progress: BootstrapProgress) => void;
}

export interface BootstrapProgress {
  readonly total: number;
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly requests: number;
  readonly retries: number;
}

export interface BootstrapSymbolError {
  readonly symbol: string;
  readonly reason: BootstrapFailure;
  readonly message: string;
}

export interface BootstrapAllResult<E extends EstimatorFeed = EstimatorFeed> {
  /** Only symbols whose bootstrap succeeded; the others can start from a fresh estimator. */
  readonly estimators: ReadonlyMap<string, E>;
  /** In input order. */
  readonly results: readonly BootstrapResult[];
  /** In input order. */
  readonly errors: readonly BootstrapSymbolError[];
  /** Never started because the run stopped. */
  readonly notStarted: readonly string[];
  readonly progress: BootstrapProgress;
  /** Why the run stopped early (HTTP 403 IP ban, or the pacer was closed); undefined when it ran through. */
  readonly stoppedReason: string | undefined;
}

/**
 * Bootstraps many symbols (duplicates dropped) with bounded concurrency, all requests through the one pacer.
 * A failing symbol is recorded and the run goes on; an HTTP 403 (Bybit banned the IP) closes the pacer, so
 * nothing else is sent from it, lets in-flight symbols fail as `STOPPED`, and reports `stoppedReason`. Never
 * rejects.
 */
export async function bootstrapAll<E extends EstimatorFeed>(
  symbols: readonly string[],
  makeEstimator: (symbol: string) => E,
  options: BootstrapAllOptions,
): Promise<BootstrapAllResult<E>> {
  const queue = [...new Set(symbols)];
  const counts = { total: queue.length, started: 0, succeeded: 0, failed: 0, requests: 0, retries: 0 };
  const tally: Tally = (kind) => {
    if (kind === 'request') counts.requests++;
    else counts.retries++;
  };
  const report = (): void => {
    try {
      options.onProgress?.({ ...counts });
    } catch {
      // A broken progress callback must not abort the bootstrap.
    }
  };
  const estimators = new Map<string, E>();
  const results = new Map<string, BootstrapResult>();
  const errors = new Map<string, BootstrapSymbolError>();
  let stoppedReason: string | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (stoppedReason === undefined && next < queue.length) {
      const symbol = queue[next++] as string;
      counts.started++;
      report();
      try {
        const estimator = makeEstimator(symbol);
        results.set(symbol, await runBootstrap(symbol, estimator, options, tally));
        estimators.set(symbol, estimator);
        counts.succeeded++;
      } catch (err) {
        const e = err instanceof EstimatorBootstrapError ? err : new EstimatorBootstrapError('BAD_OPTIONS', `bootstrap ${symbol}: ${String(err)}`);
        errors.set(symbol, { symbol, reason: e.reason, message: e.message });
        counts.failed++;
        if ((e.reason === 'IP_BANNED' || e.reason === 'STOPPED') && stoppedReason === undefined) {
          stoppedReason = e.message;
          options.pacer.close(e.message);
        }
      }
      report();
    }
  };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  const inOrder = <T>(m: Map<string, T>): T[] => queue.flatMap((s) => (m.has(s) ? [m.get(s) as T] : []));
  return {
    estimators,
    results: inOrder(results),
    errors: inOrder(errors),
    notStarted: queue.slice(next),
    progress: { ...counts },
    stoppedReason,
  };
}
