import type { Clock } from '../core/clock.js';
import { TokenBucket } from './token-bucket.js';

export interface RestPacerOptions {
  /** Requests allowed per rolling window. Default 20 (per 1 s): a sixth of Bybit's IP limit of 600 per 5 s. */
  readonly limit?: number;
  /** Default 1 000. */
  readonly windowMs?: number;
  /** Name of the clock timer; give each pacer its own. Default `rest-pacer`. */
  readonly timerName?: string;
}

/** `acquire()` was refused because the pacer was closed (for example after an HTTP 403 IP ban). */
export class RestPacerClosedError extends Error {
  override readonly name = 'RestPacerClosedError';
}

interface Waiter {
  readonly resolve: (grantedAtMs: number) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Paces REST requests to at most `limit` per rolling `windowMs` on the injected {@link Clock}, first come
 * first served. One pacer is shared by every request that counts against the same limit (Bybit's public
 * market endpoints share one per-IP budget of 600 requests per 5 s; going over bans the IP for ≥ 10 min with
 * HTTP 403), so call `acquire()` immediately before each request, retries included.
 *
 * Gotchas: the budget is counted when the slot is granted, not when the server sees the request, so keep the
 * limit well under the server's (network jitter can bunch requests up on arrival). With a virtual clock, waits
 * only end when the test advances the clock.
 */
export class RestPacer {
  readonly limit: number;
  readonly windowMs: number;
  private readonly bucket: TokenBucket;
  private readonly waiters: Waiter[] = [];
  private readonly timerName: string;
  private closedReason: string | undefined;
  private grantedCount = 0;
  private heldUntilMs = -Infinity;

  constructor(
    private readonly clock: Clock,
    options: RestPacerOptions = {},
  ) {
    this.limit = options.limit ?? 20;
    this.windowMs = options.windowMs ?? 1_000;
    this.bucket = new TokenBucket(this.limit, this.windowMs);
    this.timerName = options.timerName ?? 'rest-pacer';
  }

  /**
   * Resolves with the clock time at which a request slot was granted (FIFO). Rejects with
   * {@link RestPacerClosedError} once the pacer is closed.
   */
  acquire(): Promise<number> {
    if (this.closedReason !== undefined) return Promise.reject(new RestPacerClosedError(this.closedReason));
    return new Promise<number>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.drain();
    });
  }

  /** Rejects every waiting and future `acquire()` with `reason` and disarms the timer. Idempotent. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.clock.cancelTimer(this.timerName);
    for (const w of this.waiters.splice(0)) w.reject(new RestPacerClosedError(reason));
  }

  /**
   * Grants nothing before `untilMs` (clock time): the server said the budget is spent (Bybit retCode 10006,
   * HTTP 429, or `X-Bapi-Limit-Status: 0` until `X-Bapi-Limit-Reset-Timestamp`). A later hold extends an
   * earlier one, an earlier one never shortens it.
   */
  holdUntil(untilMs: number): void {
    if (!Number.isFinite(untilMs) || untilMs <= this.heldUntilMs) return;
    this.heldUntilMs = untilMs;
    if (this.waiters.length > 0 && this.closedReason === undefined) this.drain();
  }

  /** Clock time before which nothing is granted (-Infinity when not held). */
  get heldUntil(): number {
    return this.heldUntilMs;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Slots granted since construction. */
  get granted(): number {
    return this.grantedCount;
  }

  /** Slots granted in the current window. */
  usedInWindow(): number {
    return this.bucket.used(this.clock.now());
  }

  private drain(): void {
    const now = this.clock.now();
    if (now < this.heldUntilMs && this.waiters.length > 0) {
      this.clock.setTimer(this.timerName, this.heldUntilMs, () => this.drain());
      return;
    }
    while (this.waiters.length > 0 && this.bucket.tryTake(now)) {
      this.grantedCount++;
      (this.waiters.shift() as Waiter).resolve(now);
    }
    if (this.waiters.length === 0) return;
    this.clock.setTimer(this.timerName, this.bucket.nextAvailableAt(now), () => this.drain());
  }
}
