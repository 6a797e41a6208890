/**
 * The one source of time for everything under `core/` and `actors/`.
 *
 * `now()` is epoch milliseconds and may carry a fraction (the live clock uses a monotonic high-resolution
 * source so sub-millisecond latencies can be measured). Timers are named: setting a timer with a name that
 * is already armed replaces it, which keeps "re-arm my watchdog" free of bookkeeping at call sites.
 */
export interface Clock {
  now(): number;
  /** Arms (or re-arms) the timer `name` to fire once at `fireAtMs` (epoch ms). */
  setTimer(name: string, fireAtMs: number, callback: (firedAtMs: number) => void): void;
  /** Disarms `name`; returns whether it was armed. */
  cancelTimer(name: string): boolean;
}

interface VirtualTimer {
  readonly name: string;
  readonly fireAtMs: number;
  readonly seq: number;
  readonly callback: (firedAtMs: number) => void;
}

/**
 * Deterministic clock for replay and tests. Time moves only through `advanceTo`, never backwards; due timers
 * fire in (time, arming order) order with `now()` equal to their fire time, so a replay takes the same
 * decisions whatever the wall clock does. Timers sit in a binary heap (re-armed or cancelled entries are
 * skipped lazily), so `advanceTo` costs O(1) when nothing is due, however many timers are armed.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<string, VirtualTimer>();
  private readonly heap: VirtualTimer[] = [];

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new Error(`VirtualClock: start time must be finite, got ${startMs}`);
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(name: string, fireAtMs: number, callback: (firedAtMs: number) => void): void {
    if (!Number.isFinite(fireAtMs)) throw new Error(`VirtualClock: timer ${name} has non-finite fire time`);
    const timer: VirtualTimer = { name, fireAtMs: Math.max(fireAtMs, this.current), seq: this.seq++, callback };
    this.timers.set(name, timer);
    this.push(timer);
  }

  cancelTimer(name: string): boolean {
    return this.timers.delete(name);
  }

  /** Number of armed timers (for tests and diagnostics). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * Moves time to `targetMs`, firing every timer due at or before it. Throws when asked to go backwards:
   * that is a broken invariant (a tape out of order), not something to smooth over.
   */
  advanceTo(targetMs: number): void {
    if (!Number.isFinite(targetMs)) throw new Error(`VirtualClock: cannot advance to ${targetMs}`);
    if (targetMs < this.current) {
      throw new Error(`VirtualClock: time cannot go backwards (now ${this.current}, asked ${targetMs})`);
    }
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.fireAtMs > targetMs) break;
      this.pop();
      if (this.timers.get(top.name) !== top) continue; // re-armed or cancelled since it was pushed
      this.timers.delete(top.name);
      this.current = top.fireAtMs;
      top.callback(top.fireAtMs);
    }
    this.current = targetMs;
  }

  private before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.fireAtMs < b.fireAtMs || (a.fireAtMs === b.fireAtMs && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
