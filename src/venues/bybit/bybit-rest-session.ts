import { createHmac } from 'node:crypto';
import { RestClientV5 } from 'bybit-api';
import type { VenueCounters, VenueLog } from './venue-types.js';

/** What one REST call came to. `unknown` means no answer (timeout, network, HTTP error): the request may have been processed. */
export type RestOutcome<T> =
  | { readonly ok: true; readonly retCode: number; readonly result: T; readonly retExtInfo: unknown }
  | { readonly ok: false; readonly kind: 'refused'; readonly retCode: number; readonly retMsg: string }
  | { readonly ok: false; readonly kind: 'unknown'; readonly error: string };

interface RawReply<T> {
  retCode: number;
  retMsg: string;
  result: T;
  retExtInfo?: unknown;
  rateLimitApi?: { remainingRequests: number; maxRequests: number; resetAtTimestamp: number } | undefined;
}

export interface BybitRestSessionOptions {
  readonly restUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly recvWindowMs: number;
  readonly requestTimeoutMs: number;
  readonly log: VenueLog;
  readonly counters: VenueCounters;
  /** Called with every call's latency, for a Prometheus histogram. */
  readonly onLatency?: (endpoint: string, ms: number) => void;
  /** Give up waiting out 10006 after this many tries (the call is then refused with 10006). */
  readonly maxRateLimitRetries?: number;
}

/** The SDK's time sync is private in its typings but documented as "use force: true if automatic time sync is disabled". */
interface SdkTimeSync {
  syncTime(force: boolean): Promise<unknown>;
  timeOffset: number | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `RestClientV5` with the behaviour a trading venue needs around it, so callers see one outcome per call:
 * - rate limits slow calls down instead of failing them: the `X-Bapi-Limit*` headers (parsed by the SDK with
 *   `parseAPIRateLimits`) make the next call on an exhausted endpoint wait for the reset, and `10006` waits for
 *   the reset and retries (the exchange did not process the request, so a retry cannot duplicate anything);
 * - `10002` (timestamp outside recv_window) resynchronises the SDK's clock offset from `/v5/market/time` and
 *   retries once;
 * - every other retCode is returned as a refusal with Bybit's code and message; no answer at all is `unknown`.
 * It never throws. The axios timeout is set here: the SDK's default is five minutes. The SDK's periodic time
 * sync stays off (it has been seen to cause the drift it should prevent, bybit-api #119); the offset is measured
 * only when the exchange says the clock is off.
 */
export class BybitRestSession {
  readonly client: RestClientV5;
  private readonly limits = new Map<string, { remaining: number; resetAtServerMs: number }>();

  constructor(private readonly opts: BybitRestSessionOptions) {
    this.client = new RestClientV5(
      {
        key: opts.apiKey, secret: opts.apiSecret, baseUrl: opts.restUrl, recv_window: opts.recvWindowMs, parseAPIRateLimits: true, keepAlive: true,
        // HMAC keys are signed synchronously with node:crypto instead of the SDK's async Web Crypto path (same
        // hex digest, less latency per order); RSA keys (a PEM secret) keep the SDK's own signer.
        ...(opts.apiSecret.includes('PRIVATE KEY') ? {} : { customSignMessageFn: async (msg: string, secret: string) => createHmac('sha256', secret).update(msg).digest('hex') }),
      },
      { timeout: opts.requestTimeoutMs },
    );
  }

  /** Local clock → exchange clock, as last measured (0 until a resync). Also used to sign the private WS auth. */
  get timeOffsetMs(): number {
    return (this.client as unknown as SdkTimeSync).timeOffset ?? 0;
  }

  /** Measures the exchange's clock from `/v5/market/time` and makes every later signature use it. */
  async resyncTime(): Promise<number> {
    this.opts.counters.timeResyncs++;
    await (this.client as unknown as SdkTimeSync).syncTime(true);
    this.opts.log.warn({ timeOffsetMs: this.timeOffsetMs }, 'bybit: clock offset resynchronised from /v5/market/time');
    return this.timeOffsetMs;
  }

  /**
   * Runs `send` with pacing, 10006 and 10002 handling. `okCodes` are retCodes that mean success for this call
   * (110043 "leverage not modified", 34040 "not modified").
   */
  async call<T>(endpoint: string, send: (c: RestClientV5) => Promise<RawReply<T>>, okCodes: readonly number[] = []): Promise<RestOutcome<T>> {
    const c = this.opts.counters;
    let resynced = false;
    for (let attempt = 0; ; attempt++) {
      await this.waitForBudget(endpoint);
      const t0 = performance.now();
      let reply: RawReply<T>;
      try {
        reply = await send(this.client);
      } catch (err) {
        this.record(endpoint, performance.now() - t0);
        const code = errorCode(err);
        c.restErrorsByCode[code] = (c.restErrorsByCode[code] ?? 0) + 1;
        return { ok: false, kind: 'unknown', error: `${endpoint}: ${code} ${errorText(err)}` };
      }
      this.record(endpoint, performance.now() - t0);
      if (reply.rateLimitApi) this.limits.set(endpoint, { remaining: reply.rateLimitApi.remainingRequests, resetAtServerMs: reply.rateLimitApi.resetAtTimestamp });
      if (typeof reply?.retCode !== 'number') {
        c.restErrorsByCode.malformed = (c.restErrorsByCode.malformed ?? 0) + 1;
        return { ok: false, kind: 'unknown', error: `${endpoint}: reply is not a Bybit envelope` };
      }
      if (reply.retCode === 0 || okCodes.includes(reply.retCode)) return { ok: true, retCode: reply.retCode, result: reply.result, retExtInfo: reply.retExtInfo };
      c.restErrorsByCode[String(reply.retCode)] = (c.restErrorsByCode[String(reply.retCode)] ?? 0) + 1;
      if (reply.retCode === 10006 && attempt < (this.opts.maxRateLimitRetries ?? 50)) {
        c.rateLimitWaits++;
        const reset = reply.rateLimitApi?.resetAtTimestamp;
        const waitMs = reset === undefined ? 100 : reset - (Date.now() + this.timeOffsetMs);
        await sleep(Math.min(Math.max(waitMs, 20), 2000));
        continue;
      }
      if (reply.retCode === 10002 && !resynced) {
        resynced = true;
        await this.resyncTime();
        continue;
      }
      return { ok: false, kind: 'refused', retCode: reply.retCode, retMsg: String(reply.retMsg) };
    }
  }

  /** When the last reply said the endpoint's budget is spent, wait for its reset before sending. */
  private async waitForBudget(endpoint: string): Promise<void> {
    const l = this.limits.get(endpoint);
    if (l === undefined || l.remaining > 0) return;
    const waitMs = l.resetAtServerMs - (Date.now() + this.timeOffsetMs);
    this.limits.delete(endpoint);
    if (waitMs <= 0) return;
    this.opts.counters.rateLimitWaits++;
    await sleep(Math.min(waitMs, 2000));
  }

  private record(endpoint: string, ms: number): void {
    const c = this.opts.counters;
    c.restCalls++;
    c.restLatencyMsSum += ms;
    if (ms > c.restLatencyMsMax) c.restLatencyMsMax = ms;
    this.opts.onLatency?.(endpoint, ms);
  }
}

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'number') return `http_${e.code}`;
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || (typeof e.message === 'string' && /timeout/i.test(e.message))) return 'timeout';
  }
  return 'network';
}

function errorText(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
