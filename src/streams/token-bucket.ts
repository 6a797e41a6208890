/**
 * A request budget of `limit` tokens per rolling `windowMs`, where each spent token returns to the bucket
 * exactly `windowMs` after it was spent (a sliding-window log).
 *
 * Why not the textbook refill-at-a-rate bucket: a full bucket of L tokens plus a steady refill lets through
 * almost 2L requests in one minute, and CoinGlass counts requests per minute. Here, at every moment a token
 * is taken, the tokens taken in the window ending then are ≤ the limit in force: a hard guarantee, not an
 * average. Lowering the limit below what the window already holds simply blocks until enough tokens age out.
 *
 * Time comes from the caller (the injected clock's `now()`), which must never go backwards.
 */
export class TokenBucket {
  private readonly spentAt: number[] = [];
  private head = 0;
  private currentLimit: number;

  constructor(
    limit: number,
    readonly windowMs = 60_000,
  ) {
    if (!(windowMs > 0)) throw new Error(`TokenBucket: windowMs must be > 0, got ${windowMs}`);
    this.currentLimit = TokenBucket.checkLimit(limit);
  }

  private static checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`TokenBucket: limit must be an integer >= 1, got ${limit}`);
    return limit;
  }

  get limit(): number {
    return this.currentLimit;
  }

  setLimit(limit: number): void {
    this.currentLimit = TokenBucket.checkLimit(limit);
  }

  /** Tokens spent in the window (nowMs − windowMs, nowMs]. */
  used(nowMs: number): number {
    this.prune(nowMs);
    return this.spentAt.length - this.head;
  }

  /** Takes one token if the window has room. */
  tryTake(nowMs: number): boolean {
    if (this.used(nowMs) >= this.currentLimit) return false;
    this.spentAt.push(nowMs);
    return true;
  }

  /**
   * Marks `count` tokens spent at `nowMs` without a request of ours (another process on the same key, as
   * reported by the server). They age out like our own.
   */
  spend(count: number, nowMs: number): void {
    this.prune(nowMs);
    for (let i = 0; i < count; i++) this.spentAt.push(nowMs);
  }

  /** Earliest time ≥ nowMs at which `tryTake` can succeed (nowMs when it can now). */
  nextAvailableAt(nowMs: number): number {
    const used = this.used(nowMs);
    if (used < this.currentLimit) return nowMs;
    // The (used − limit + 1)-th oldest token must age out first.
    const idx = this.head + (used - this.currentLimit);
    return this.spentAt[idx]! + this.windowMs;
  }

  private prune(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    while (this.head < this.spentAt.length && this.spentAt[this.head]! <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.spentAt.length) {
      this.spentAt.splice(0, this.head);
      this.head = 0;
    }
  }
}
