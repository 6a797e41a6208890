/** Tuning for {@link Backoff}. */
export interface BackoffOptions {
  /** Ceiling of the first delay; each further attempt doubles it. */
  readonly baseMs?: number;
  /** Ceiling no delay ever exceeds, however many attempts failed. */
  readonly capMs?: number;
}

/**
 * Exponential backoff with "full jitter": attempt n waits a uniform random delay in
 * [0, min(capMs, baseMs · 2ⁿ)). Jitter spreads reconnects of many connections (and many processes) so
 * they do not hit Bybit together after an outage; Bybit allows only 500 connections per 5 min per IP.
 *
 * `random` is injected (a seeded PRNG in tests) so delays are reproducible. Call `reset()` once a
 * connection has proved healthy, not merely on open: a socket that opens and dies at once must keep
 * backing off.
 */
export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private attempt = 0;

  constructor(
    private readonly random: () => number,
    options: BackoffOptions = {},
  ) {
    this.baseMs = options.baseMs ?? 500;
    this.capMs = options.capMs ?? 30_000;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new Error(`Backoff: need 0 < baseMs <= capMs, got baseMs=${this.baseMs} capMs=${this.capMs}`);
    }
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Upper bound of the delay the next `nextDelayMs()` call draws from. */
  ceilingMs(): number {
    // 2^attempt overflows to Infinity long after it passed capMs, so Math.min keeps it finite.
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
  }

  /** Draws the delay before the next attempt and counts the attempt. */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs();
    this.attempt++;
    const r = this.random();
    const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5;
    return Math.floor(unit * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
