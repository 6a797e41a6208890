import v8 from 'node:v8';
import { loadConfig } from '../src/cli/config.js';
import { executionSettings, startExecution } from '../src/cli/execution.js';
import { VirtualClock } from '../src/core/clock.js';
import type { HistoryStep } from '../src/core/coin-liquidity.js';
import { Prng } from '../src/core/prng.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { Engine } from '../src/engine/engine.js';
import { simSymbolNames } from '../src/streams/market-simulator.js';
import { isMain, mb, round } from './stats.js';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const HOUR_MS = 3_600_000;

/** `days` of hourly estimator history as the bootstrap feeds it (bar high and low, then the OI reading at the VWAP, then the close). */
function bootstrapSteps(rng: Prng, endMs: number, days: number, price: number, oi: number): HistoryStep[] {
  const steps: HistoryStep[] = [];
  let p = price / (1 + (rng.next() - 0.5) * 0.1);
  let o = oi * 0.8;
  for (let h = days * 24; h > 0; h--) {
    p *= 1 + (rng.next() - 0.5) * 0.02;
    o *= 1 + (rng.next() - 0.45) * 0.02;
    const wick = 0.003 + rng.next() * 0.004;
    steps.push({ priceUsd: p * (1 + wick) }, { priceUsd: p * (1 - wick) }, { tsMs: endMs - h * HOUR_MS, openInterestQty: o, priceUsd: p }, { priceUsd: p });
  }
  return steps;
}

/**
 * Resident memory of the daemon's engine holding `symbols` symbols after `hours` of simulated data, with
 * execution wired in (the ExecutionActor and the paper broker, fed every engine output and the market tap, as
 * `run` wires them) and history loaded: each coin's liquidation estimate bootstrapped from `bootstrapDays` of
 * hourly OI and price history (the daemon's default 7), and the execution actor's per-coin wick history
 * (the only history structure the daemon keeps in memory) built from the minute bars of the hour. Every second,
 * each symbol gets a ticker delta (price, mark, OI) and a trade batch, as raw Bybit frames through the decoder,
 * so every window of every symbol is full. Prints where the memory goes: V8 heap (used, and committed including
 * the young generation), typed arrays (rolling windows, estimators), the Node baseline before anything was
 * built, and the rest (allocator overhead, code). Run node with --expose-gc for settled figures.
 */
export async function benchMemory(opts: { symbols?: number; hours?: number; bootstrapDays?: number } = {}): Promise<Record<string, number | string>> {
  const symbols = simSymbolNames(opts.symbols ?? 500);
  const seconds = Math.round((opts.hours ?? 1) * 3600);
  const bootstrapDays = opts.bootstrapDays ?? 7;
  gc();
  const before = process.memoryUsage();
  const start = Date.UTC(2026, 0, 1);
  const clock = new VirtualClock(start);
  let part: Awaited<ReturnType<typeof startExecution>> | undefined;
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS }, onOutput: (e) => part?.onEngineOutput(e) });
  const trading = loadConfig({}, '').trading;
  part = await startExecution({ clock, engine, ...executionSettings(trading, false) });
  const rng = new Prng('memory');
  const price = symbols.map(() => 1 + rng.next() * 100);
  const oi = symbols.map(() => 1e6 * (1 + rng.next()));
  symbols.forEach((s, i) =>
    engine.ingest(
      `{"topic":"tickers.${s}","type":"snapshot","ts":${start},"cs":1,"data":{"symbol":"${s}","lastPrice":"${price[i]!.toFixed(4)}","markPrice":"${price[i]!.toFixed(4)}","indexPrice":"${price[i]!.toFixed(4)}","openInterest":"${oi[i]!.toFixed(0)}","openInterestValue":"${(oi[i]! * price[i]!).toFixed(2)}","fundingRate":"0.0001","bid1Price":"${price[i]!.toFixed(4)}","ask1Price":"${price[i]!.toFixed(4)}","volume24h":"1000","turnover24h":"100000"}}`,
      start,
    ),
  );
  if (bootstrapDays > 0) symbols.forEach((s, i) => engine.history(s, bootstrapSteps(rng, start, bootstrapDays, price[i]!, oi[i]!)));
  let frames = symbols.length;
  const t0 = performance.now();
  for (let sec = 1; sec <= seconds; sec++) {
    const ts = start + sec * 1000;
    clock.advanceTo(ts);
    for (let i = 0; i < symbols.length; i++) {
      const s = symbols[i]!;
      price[i] = price[i]! * (1 + (rng.next() - 0.5) * 0.002);
      oi[i] = oi[i]! * (1 + (rng.next() - 0.5) * 0.001);
      const p = price[i]!.toFixed(4);
      engine.ingest(`{"topic":"tickers.${s}","type":"delta","ts":${ts},"cs":${sec},"data":{"symbol":"${s}","lastPrice":"${p}","markPrice":"${p}","openInterest":"${oi[i]!.toFixed(0)}","openInterestValue":"${(oi[i]! * price[i]!).toFixed(2)}"}}`, ts);
      engine.ingest(`{"topic":"publicTrade.${s}","type":"snapshot","ts":${ts},"data":[{"T":${ts},"s":"${s}","S":"${rng.next() < 0.5 ? 'Buy' : 'Sell'}","v":"${(1 + rng.next() * 10).toFixed(2)}","p":"${p}","L":"PlusTick","i":"x","BT":false,"RPI":false,"seq":${sec}}]}`, ts);
      frames += 2;
    }
  }
  const elapsedSec = (performance.now() - t0) / 1000;
  // Settle: a few full collections with pauses let V8's memory reducer return freed pages, as it does in a
  // long-running daemon between bursts.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 250));
  }
  const after = process.memoryUsage();
  if (engine.decoder.badFrames !== 0) throw new Error('bench: memory frames were refused');
  const held = engine.memoryBreakdown();
  const wickCoins = part.ref.peek()?.wicks.size ?? 0;
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  await part.stop();
  const rest = after.rss - before.rss - after.heapTotal - after.arrayBuffers;
  return {
    symbols: symbols.length,
    simulated_hours: seconds / 3600,
    bootstrap_days: bootstrapDays,
    frames,
    frames_per_sec: Math.round(frames / elapsedSec),
    rss_mb: mb(after.rss),
    node_baseline_rss_mb: mb(before.rss),
    heap_used_mb: mb(after.heapUsed),
    heap_committed_mb: mb(after.heapTotal),
    of_which_young_generation_mb: mb(newSpace?.space_size ?? NaN),
    typed_arrays_mb: mb(after.arrayBuffers),
    of_which_rolling_windows_mb: mb(held.windowBytes),
    of_which_estimators_mb: mb(held.estimatorBytes),
    estimator_cohorts_avg: round(held.cohorts / held.symbols, 0),
    estimator_cohorts_max: held.maxCohorts,
    wick_history_coins: wickCoins,
    rest_mb: mb(rest),
    engine_rss_growth_mb: mb(after.rss - before.rss),
    rss_per_symbol_kb: round((after.rss - before.rss) / symbols.length / 1024, 1),
    target: 'rss ≤ 150 MB with execution and history loaded',
  };
}

if (isMain(import.meta.url)) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const num = (name: string) => (arg(name) === undefined ? undefined : Number(arg(name)));
  console.log(JSON.stringify(await benchMemory({ symbols: num('symbols'), hours: num('hours'), bootstrapDays: num('bootstrap-days') }), null, 2));
}
