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
 * decisions whatever the wall clock does.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<string, VirtualTimer>();

  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new Error(`VirtualClock: start time must be finite, got ${startMs}`);
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(name: string, fireAtMs: number, callback: (firedAtMs: number) => void): void {
    if (!Number.isFinite(fireAtMs)) throw new Error(`VirtualClock: timer ${name} has non-finite fire time`);
    this.timers.set(name, { name, fireAtMs: Math.max(fireAtMs, this.current), seq: this.seq++, callback });
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
      const next = this.nextDue(targetMs);
      if (next === undefined) break;
      this.timers.delete(next.name);
      this.current = next.fireAtMs;
      next.callback(next.fireAtMs);
    }
    this.current = targetMs;
  }

  private nextDue(targetMs: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.fireAtMs > targetMs) continue;
      if (best === undefined || t.fireAtMs < best.fireAtMs || (t.fireAtMs === best.fireAtMs && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
