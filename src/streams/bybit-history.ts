import type { Clock } from '../core/clock.js';
import {
  PAGE_LIMIT,
  SERIES_STEP_MS,
  keepInWindow,
  type HistoryBar,
  type HistoryOpenInterestPoint,
  type KlineInterval,
  type OpenInterestInterval,
  type TimeRange,
} from '../core/history-plan.js';
import { Backoff } from './backoff.js';
import { EstimatorBootstrapError, parseKlineBody, parseOpenInterestBody, type BootstrapFailure } from './estimator-bootstrap.js';
import { RestPacerClosedError, type RestPacer } from './rest-pacer.js';

/** Stable reasons a history request failed. `IP_BANNED` (HTTP 403) means: no Bybit REST traffic for ≥ 10 min. */
export type HistoryFailure = Exclude<BootstrapFailure, 'BAD_OPTIONS' | 'CALLBACK'>;

export class HistoryFetchError extends Error {
  override readonly name = 'HistoryFetchError';
  constructor(readonly reason: HistoryFailure, message: string) {
    super(message);
  }
}

export interface BybitHistoryClientOptions {
  readonly baseUrl: string;
  /** Shared with every other Bybit public REST caller of the process. */
  readonly pacer: RestPacer;
  readonly clock: Clock;
  /** Per request. Default 15 000. */
  readonly timeoutMs?: number;
  /** Attempts on HTTP 5xx and network errors (rate limits retry without a cap). Default 5. */
  readonly maxAttempts?: number;
  /** Wait after a rate-limit reply without a reset header, and the retry backoff base. Default 1 000 ms. */
  readonly retryBaseMs?: number;
  readonly random?: () => number;
  /** Told about every rate-limit reply (10006 / HTTP 429), for logs and tests. */
  readonly onRateLimited?: (info: { readonly path: string; readonly untilMs: number }) => void;
}

/** Counters since construction. */
export interface HistoryClientStats {
  requests: number;
  rateLimited: number;
  retries: number;
}

const RATE_LIMIT_RET_CODES = new Set([10006, 10018]);

/**
 * Bybit v5 public market history over plain HTTP (`fetch`, so the `X-Bapi-Limit-*` headers are visible):
 * klines and open interest for one window at a time, validated with zod (see estimator-bootstrap's parsers),
 * filtered to the window asked for. Every attempt goes through the shared {@link RestPacer}. Rate limits
 * (retCode 10006, HTTP 429, or a reply that says the budget is spent) hold the pacer until Bybit's reset time
 * and are retried without limit: they slow a run down and never fail it. HTTP 403 is an IP ban and is final.
 */
export class BybitHistoryClient {
  readonly stats: HistoryClientStats = { requests: 0, rateLimited: 0, retries: 0 };
  private timerSeq = 0;

  constructor(private readonly o: BybitHistoryClientOptions) {}

  /** Klines with open time in `window` (≤ 1000 bars), ascending. */
  async klines(symbol: string, interval: KlineInterval, window: TimeRange, signal?: AbortSignal): Promise<HistoryBar[]> {
    const where = `kline ${symbol} ${interval} ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()}`;
    const query = { category: 'linear', symbol, interval, start: window.fromMs, end: window.toMs, limit: PAGE_LIMIT.kline };
    const body = await this.get('/v5/market/kline', query, where, signal);
    const bars = translate(() => parseKlineBody(body, where, symbol));
    const rows = bars.map((b) => ({ symbol, interval, tsMs: b.startMs, open: b.openUsd, high: b.highUsd, low: b.lowUsd, close: b.closeUsd, volume: b.volumeQty, turnover: b.turnoverUsd }));
    return keepInWindow(rows, window, SERIES_STEP_MS[interval]);
  }

  /**
   * Open interest with timestamps in `window`, ascending, following `nextPageCursor` until Bybit sends an
   * empty one (a window of ≤ 200 steps is normally one page). `maxPages` guards against a cursor that never ends.
   */
  async openInterest(symbol: string, interval: OpenInterestInterval, window: TimeRange, signal?: AbortSignal, maxPages = 50): Promise<{ points: HistoryOpenInterestPoint[]; pages: number }> {
    const points: HistoryOpenInterestPoint[] = [];
    const seen = new Set<string>();
    let cursor = '';
    let pages = 0;
    for (;;) {
      pages++;
      const where = `open-interest ${symbol} ${interval} ${new Date(window.fromMs).toISOString()}..${new Date(window.toMs).toISOString()} page ${pages}`;
      if (pages > maxPages) throw new HistoryFetchError('PAGING', `${where}: more than ${maxPages} pages; the cursor never ends`);
      const query = { category: 'linear', symbol, intervalTime: interval, startTime: window.fromMs, endTime: window.toMs, limit: PAGE_LIMIT.oi, ...(cursor ? { cursor } : {}) };
      const body = await this.get('/v5/market/open-interest', query, where, signal);
      const page = translate(() => parseOpenInterestBody(body, where, symbol));
      for (const p of page.points) points.push({ symbol, interval, tsMs: p.tsMs, openInterest: p.openInterestQty });
      if (page.points.length === 0 || page.nextPageCursor === '') break;
      if (seen.has(page.nextPageCursor)) throw new HistoryFetchError('PAGING', `${where}: cursor ${page.nextPageCursor} repeats`);
      seen.add((cursor = page.nextPageCursor));
    }
    return { points: keepInWindow(points, window, SERIES_STEP_MS[interval]), pages };
  }

  /** One GET with pacing and retries; returns the parsed JSON body (or the text when it is not JSON). */
  private async get(path: string, query: Record<string, string | number>, where: string, signal: AbortSignal | undefined): Promise<unknown> {
    const url = `${this.o.baseUrl.replace(/\/$/, '')}${path}?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`;
    const backoff = new Backoff(this.o.random ?? Math.random, { baseMs: this.o.retryBaseMs ?? 1_000, capMs: 30_000 });
    const maxAttempts = this.o.maxAttempts ?? 5;
    for (let failures = 0; ; ) {
      if (signal?.aborted) throw new HistoryFetchError('STOPPED', `${where}: stopped`);
      try {
        await untilGrantedOrAborted(this.o.pacer.acquire(), signal);
      } catch (err) {
        if (signal?.aborted) throw new HistoryFetchError('STOPPED', `${where}: stopped`);
        throw new HistoryFetchError('STOPPED', `${where}: ${err instanceof RestPacerClosedError ? err.message : String(err)}`);
      }
      this.stats.requests++;
      let status: number;
      let text: string;
      let headers: Headers;
      try {
        const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.o.timeoutMs ?? 15_000)]) : AbortSignal.timeout(this.o.timeoutMs ?? 15_000) });
        status = res.status;
        headers = res.headers;
        text = await res.text();
      } catch (err) {
        if (signal?.aborted) throw new HistoryFetchError('STOPPED', `${where}: stopped`);
        if (++failures >= maxAttempts) throw new HistoryFetchError('NETWORK', `${where}: ${err instanceof Error ? err.message : String(err)} (${failures} attempts)`);
        await this.retryWait(backoff.nextDelayMs(), signal);
        continue;
      }
      const body = parseJson(text);
      const retCode = typeof body === 'object' && body !== null ? (body as { retCode?: unknown }).retCode : undefined;
      const resetAt = Number(headers.get('x-bapi-limit-reset-timestamp'));
      const now = this.o.clock.now();
      const until = Number.isFinite(resetAt) && resetAt > now && resetAt < now + 120_000 ? resetAt : now + backoff.nextDelayMs() + (this.o.retryBaseMs ?? 1_000);
      if (status === 429 || (typeof retCode === 'number' && RATE_LIMIT_RET_CODES.has(retCode))) {
        this.stats.rateLimited++;
        this.o.pacer.holdUntil(until);
        this.o.onRateLimited?.({ path, untilMs: until });
        continue;
      }
      if (status === 403) {
        throw new HistoryFetchError('IP_BANNED', `${where}: HTTP 403 from Bybit: the IP is banned (over 600 requests per 5 s) or region-blocked; send no Bybit REST requests for at least 10 minutes`);
      }
      if (status >= 500 || status === 408) {
        if (++failures >= maxAttempts) throw new HistoryFetchError('HTTP', `${where}: HTTP ${status}: ${text.slice(0, 200)} (${failures} attempts)`);
        await this.retryWait(backoff.nextDelayMs(), signal);
        continue;
      }
      if (status !== 200) throw new HistoryFetchError('HTTP', `${where}: HTTP ${status}: ${text.slice(0, 200)}`);
      // The budget is spent for this window: let the next request wait for the reset instead of earning a 10006.
      if (headers.get('x-bapi-limit-status') === '0' && Number.isFinite(resetAt)) this.o.pacer.holdUntil(Math.min(resetAt, now + 120_000));
      return body;
    }
  }

  private retryWait(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.stats.retries++;
    const name = `bybit-history:retry:${this.timerSeq++}`;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.o.clock.cancelTimer(name);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.o.clock.setTimer(name, this.o.clock.now() + delayMs, done);
    });
  }
}

/** A pacer slot, or a rejection as soon as `signal` aborts (a rate-limit hold can last a minute; Ctrl-C must not). */
function untilGrantedOrAborted(granted: Promise<number>, signal: AbortSignal | undefined): Promise<number> {
  if (signal === undefined) return granted;
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<number>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    granted.then(
      (t) => {
        signal.removeEventListener('abort', onAbort);
        resolve(t);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The shared parsers throw the estimator's error type; history callers see their own. */
function translate<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof EstimatorBootstrapError) throw new HistoryFetchError(err.reason === 'RET_CODE' ? 'RET_CODE' : 'MALFORMED', err.message);
    throw err;
  }
}
