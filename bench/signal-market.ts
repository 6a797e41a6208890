import { performance } from 'node:perf_hooks';
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

/**
 * Feeds `records` to `engine`: those before `liveFrom` on virtual time (warm-up), then `goLive()` and the rest
 * paced at `ratePerSec` on wall time, each frame stamped with its wall receipt time. `onLive` runs at the switch.
 * Resolves with the number of frames delivered live.
 */
export async function driveMarket(
  engine: { ingest(text: string, tsInit: number): void },
  clock: SwitchableClock,
  records: readonly TapeRecord[],
  liveFrom: number,
  ratePerSec: number,
  onLive: () => void,
): Promise<number> {
  for (let i = 0; i < liveFrom; i++) {
    clock.virtual.advanceTo(records[i]!.t);
    engine.ingest(records[i]!.d, records[i]!.t);
  }
  clock.goLive();
  onLive();
  const timed = records.slice(liveFrom);
  const wallStart = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(timed.length, Math.floor(((performance.now() - wallStart) / 1000) * ratePerSec));
      while (sent < due) engine.ingest(timed[sent++]!.d, clock.now());
      if (sent < timed.length) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  return timed.length;
}
