import type { SignalRaised } from '../src/actors/messages.js';
import { Engine } from '../src/engine/engine.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { DEFAULT_TRIGGER_CONFIG } from '../src/core/trigger.js';
import { SIMULATED_MARKET_LIQUIDITY } from '../src/streams/market-simulator.js';
import { BENCH_START_MS, driveMarket, MIN, signalBenchMarket, SwitchableClock } from './signal-market.js';
import { isMain, percentile, round } from './stats.js';


/**
 * Signal latency: tsInit of the frame that completes a trigger → the Signal leaving the actor. A simulated market
 * (50 symbols) builds short exposure on one coin for 35 minutes on virtual time, so the ranker arms it; then the
 * pump phase is delivered at 25k frames/s on wall time with the trigger cooldown off, so every confirming frame
 * of the armed coin raises a signal. Baseline: the receipt→processed latency of all other frames in the same run.
 */
export async function benchSignalLatency(opts: { ratePerSec?: number } = {}): Promise<Record<string, number | string>> {
  const rate = opts.ratePerSec ?? 25_000;
  const start = BENCH_START_MS;
  const records = signalBenchMarket();
  const liveFrom = records.findIndex((r) => r.t >= start + 44 * MIN);
  const clock = new SwitchableClock(records[0]!.t);
  const signalLatency: number[] = [];
  const frameLatency: number[] = [];
  let live = false;
  const engine = new Engine({
    clock,
    drain: { mode: 'sync' },
    symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS, trigger: { ...DEFAULT_TRIGGER_CONFIG, cooldownMs: 0 }, liquidity: SIMULATED_MARKET_LIQUIDITY },
    onOutput: (e) => {
      if (live && e.kind === 'signal') signalLatency.push((e as SignalRaised).emittedAt - e.signal.tsInit);
    },
    onLatency: (_k, ms) => {
      if (live) frameLatency.push(ms);
    },
  });
  const framesTimed = await driveMarket(engine, clock, records, liveFrom, rate, () => {
    live = true;
  });
  const s = Float64Array.from(signalLatency).sort();
  const f = Float64Array.from(frameLatency).sort();
  return {
    rate_frames_per_sec: rate,
    frames_timed: framesTimed,
    signals: s.length,
    signal_p50_ms: round(percentile(s, 50), 4),
    signal_p99_ms: round(percentile(s, 99), 4),
    all_frames_p50_ms: round(percentile(f, 50), 4),
    all_frames_p99_ms: round(percentile(f, 99), 4),
    ratio_signal_p99_to_frames_p99: round(percentile(s, 99) / percentile(f, 99), 2),
    target: 'signal p99 ≤ 1 ms',
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchSignalLatency(), null, 2));
}
