import { loadConfig } from '../src/cli/config.js';
import { executionSettings, startExecution } from '../src/cli/execution.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { DEFAULT_TRIGGER_CONFIG } from '../src/core/trigger.js';
import { Engine } from '../src/engine/engine.js';
import { SIMULATED_MARKET_LIQUIDITY } from '../src/streams/market-simulator.js';
import { BENCH_START_MS, driveMarket, MIN, signalBenchMarket, SwitchableClock } from './signal-market.js';
import { isMain, percentile, round } from './stats.js';


/**
 * Signal → order latency: tsInit of the frame that completes a trigger → the entry order handed to the Broker
 * port (the paper broker), through dedupe, freshness, the founder's plan, sizing and the risk check. Same market
 * as the signal-latency bench (50 symbols, short exposure built on virtual time, the pump at 25k frames/s on wall
 * time, trigger cooldown off). After each entry the bench closes the position so the next signal trades again
 * (reversals off, daily loss limit out of the way); the first orders, on virtual time, warm the path. Baseline: receipt→processed latency of all frames in the run.
 */
interface RoundSamples {
  readonly orderLatency: number[];
  readonly frameLatency: number[];
  readonly handoff: number[];
  readonly signalToEmit: number[];
  readonly signals: number;
  readonly refused: Record<string, number>;
  readonly framesTimed: number;
}

/**
 * One pass over the market yields ~30 orders, so its p99 is its slowest order; the bench pools `rounds` passes
 * (each a fresh engine and execution actor in this process) so the percentile has samples behind it.
 */
export async function benchOrderLatency(opts: { ratePerSec?: number; rounds?: number } = {}): Promise<Record<string, number | string>> {
  const rate = opts.ratePerSec ?? 25_000;
  const rounds = opts.rounds ?? 5;
  const all: RoundSamples[] = [];
  for (let i = 0; i < rounds; i++) all.push(await orderLatencyRound(rate));
  const pool = (k: 'orderLatency' | 'frameLatency' | 'handoff' | 'signalToEmit') => Float64Array.from(all.flatMap((r) => r[k])).sort();
  const refused: Record<string, number> = {};
  for (const r of all) for (const [k, v] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + v;
  const o = pool('orderLatency');
  const f = pool('frameLatency');
  const h = pool('handoff');
  const se = pool('signalToEmit');
  return {
    rate_frames_per_sec: rate,
    rounds,
    frames_timed: all.reduce((a, r) => a + r.framesTimed, 0),
    signals: all.reduce((a, r) => a + r.signals, 0),
    orders: o.length,
    refused: JSON.stringify(refused),
    signal_to_order_p50_ms: round(percentile(o, 50), 4),
    signal_to_order_p99_ms: round(percentile(o, 99), 4),
    signal_to_order_max_ms: round(o[o.length - 1] ?? NaN, 4),
    signal_emitted_p50_ms: round(percentile(se, 50), 4),
    signal_emitted_p99_ms: round(percentile(se, 99), 4),
    execution_only_p50_ms: round(percentile(h, 50), 4),
    execution_only_p99_ms: round(percentile(h, 99), 4),
    all_frames_p50_ms: round(percentile(f, 50), 4),
    all_frames_p99_ms: round(percentile(f, 99), 4),
    ratio_order_p99_to_frames_p99: round(percentile(o, 99) / percentile(f, 99), 2),
    target: 'signal → order p99 ≤ 0.2 ms',
  };
}

async function orderLatencyRound(rate: number): Promise<RoundSamples> {
  const start = BENCH_START_MS;
  const records = signalBenchMarket();
  // Signals start near minute 42; the first two minutes of them run on virtual time and warm the execution path.
  const liveFrom = records.findIndex((r) => r.t >= start + 44 * MIN);
  const clock = new SwitchableClock(records[0]!.t);
  const orderLatency: number[] = [];
  const frameLatency: number[] = [];
  let live = false;
  let signals = 0;
  let handoffStart = 0;
  const signalToEmit: number[] = [];
  const handoff: number[] = [];
  const engine = new Engine({
    clock,
    drain: { mode: 'sync' },
    symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS, trigger: { ...DEFAULT_TRIGGER_CONFIG, cooldownMs: 0 }, liquidity: SIMULATED_MARKET_LIQUIDITY },
    onOutput: (e) => {
      if (live && e.kind === 'signal') {
        signals++;
        signalToEmit.push(e.emittedAt - e.signal.tsInit);
        handoffStart = clock.now();
      }
      part?.onEngineOutput(e);
    },
    onLatency: (_k, ms) => {
      if (live) frameLatency.push(ms);
    },
  });
  const trading = loadConfig({ ENTRY_STYLES: 'SYM003:aggressive', REVERSAL_ENABLED: 'false', DAILY_LOSS_LIMIT_PCT: '100', PAPER_INITIAL_BALANCE_USD: '1000000000' }, '').trading;
  const refused: Record<string, number> = {};
  let closes = 0;
  const part: Awaited<ReturnType<typeof startExecution>> | undefined = await startExecution({
    clock,
    engine,
    ...executionSettings(trading, false),
    onOutput: (o) => {
      if (o.kind === 'order-refused') refused[o.reason] = (refused[o.reason] ?? 0) + 1;
      if (o.kind !== 'order-sent') return;
      if (live) {
        orderLatency.push(o.latencyMs);
        handoff.push(clock.now() - handoffStart);
      }
      // Flatten at once so the next signal can trade again (after the measured span: the order was handed over).
      closes++;
      part!.broker.submit({ kind: 'close-position', symbol: o.symbol, orderLinkId: `c${closes}` });
    },
  });
  const framesTimed = await driveMarket(engine, clock, records, liveFrom, rate, () => {
    live = true;
  });
  return { orderLatency, frameLatency, handoff, signalToEmit, signals, refused, framesTimed };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchOrderLatency(), null, 2));
}
