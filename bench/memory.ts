import { Engine } from '../src/engine/engine.js';
import { VirtualClock } from '../src/core/clock.js';
import { Prng } from '../src/core/prng.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { simSymbolNames } from '../src/streams/market-simulator.js';
import { isMain, mb, round } from './stats.js';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Resident memory of the engine holding `symbols` symbols after `hours` of simulated data: every second, each
 * symbol gets a ticker delta (price, mark, OI) and a trade batch, as raw Bybit frames through the decoder, so
 * every window of every symbol is full. Run node with --expose-gc for settled figures.
 */
export async function benchMemory(opts: { symbols?: number; hours?: number } = {}): Promise<Record<string, number | string>> {
  const symbols = simSymbolNames(opts.symbols ?? 500);
  const seconds = Math.round((opts.hours ?? 1) * 3600);
  gc();
  const before = process.memoryUsage();
  const start = Date.UTC(2026, 0, 1);
  const clock = new VirtualClock(start);
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } });
  const rng = new Prng('memory');
  const price = symbols.map(() => 1 + rng.next() * 100);
  const oi = symbols.map(() => 1e6 * (1 + rng.next()));
  symbols.forEach((s, i) =>
    engine.ingest(
      `{"topic":"tickers.${s}","type":"snapshot","ts":${start},"cs":1,"data":{"symbol":"${s}","lastPrice":"${price[i]!.toFixed(4)}","markPrice":"${price[i]!.toFixed(4)}","indexPrice":"${price[i]!.toFixed(4)}","openInterest":"${oi[i]!.toFixed(0)}","openInterestValue":"${(oi[i]! * price[i]!).toFixed(2)}","fundingRate":"0.0001","bid1Price":"${price[i]!.toFixed(4)}","ask1Price":"${price[i]!.toFixed(4)}","volume24h":"1000","turnover24h":"100000"}}`,
      start,
    ),
  );
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
  return {
    symbols: symbols.length,
    simulated_hours: seconds / 3600,
    frames,
    frames_per_sec: Math.round(frames / elapsedSec),
    rss_mb: mb(after.rss),
    heap_used_mb: mb(after.heapUsed),
    array_buffers_mb: mb(after.arrayBuffers),
    process_baseline_rss_mb: mb(before.rss),
    engine_rss_growth_mb: mb(after.rss - before.rss),
    rss_per_symbol_kb: round((after.rss - before.rss) / symbols.length / 1024, 1),
    target: 'rss ≤ 200 MB',
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchMemory(), null, 2));
}
