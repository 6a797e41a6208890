import { LiveClock } from '../src/cli/live-clock.js';
import { VirtualClock, type Clock } from '../src/core/clock.js';
import type { TapeRecord } from '../src/core/tape-record.js';
import { simulateMarket } from '../src/streams/market-simulator.js';

export const MIN = 60_000;
export const BENCH_START_MS = Date.UTC(2026, 0, 1);

/** Virtual time while warming up, then wall time continuing from where the virtual clock stopped. */
export class SwitchableClock implements Clock {
  readonly virtual: VirtualClock;
  private readonly live = new LiveClock();
  private offset: number | undefined;
  constructor(startMs: number) {
    this.virtual = new VirtualClock(startMs);
  }
  goLive(): void {
    this.offset = this.virtual.now() - this.live.now();
  }
  now(): number {
    return this.offset === undefined ? this.virtual.now() : this.live.now() + this.offset;
  }
  setTimer(name: string, fireAtMs: number, cb: (t: number) => void): void {
    this.virtual.setTimer(name, fireAtMs, cb);
  }
  cancelTimer(name: string): boolean {
    return this.virtual.cancelTimer(name);
  }
}

/**
 * The signal benches' market: 50 simulated symbols; SYM003 builds short exposure for 20 minutes, then from
 * minute 40 pumps into those shorts, so the ranker arms it and every confirming frame can raise a signal.
 */
export function signalBenchMarket(): TapeRecord[] {
  return [
    ...simulateMarket({
      seed: 'signal-bench',
      symbolCount: 50,
      startMs: BENCH_START_MS,
      durationMs: 48 * MIN,
      scenarios: [
        { symbol: 'SYM003USDT', kind: 'dump', startMs: BENCH_START_MS + 5 * MIN, durationMs: 20 * MIN, movePct: 6, oiChangePct: 40, volumeMult: 3 },
        { symbol: 'SYM003USDT', kind: 'pump', startMs: BENCH_START_MS + 40 * MIN, durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 },
      ],
    }),
  ].filter((r) => r.k === undefined);
}
