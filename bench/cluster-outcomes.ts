import { performance } from 'node:perf_hooks';
import { VirtualClock } from '../src/core/clock.js';
import { ClusterOutcomeTracker } from '../src/core/cluster-outcomes.js';
import type { Cluster } from '../src/core/clusters.js';
import { buildHeatmapSnapshot } from '../src/core/heatmap.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { Engine } from '../src/engine/engine.js';
import { simulatedFrames } from './ingest.js';
import { isMain, median, round } from './stats.js';

type Frame = { readonly t: number; readonly d: string };

function newEngine(firstT: number): { engine: Engine; clock: VirtualClock } {
  const clock = new VirtualClock(firstT);
  return { clock, engine: new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } }) };
}

function feed(engine: Engine, clock: VirtualClock, frames: readonly Frame[]): void {
  for (const f of frames) {
    clock.advanceTo(f.t);
    engine.ingest(f.d, f.t);
  }
}

/**
 * Gives every coin a CoinGlass 30d map of `perSide` clusters above and below the price, 20–80 % away (never
 * reached in the timed minute), each its own cluster: the coin's tracker then follows 2 × perSide of them.
 */
function loadClusters(engine: Engine, atMs: number, perSide: number): number {
  for (const symbol of engine.symbols()) {
    const price = engine.decoder.tickerState(symbol)?.lastPrice ?? NaN;
    if (!(price > 0)) continue;
    engine.coinInputs(symbol, { dbOverrideUsd: 1 });
    const levels = [];
    for (let i = 0; i < perSide; i++) {
      const d = 0.2 + (0.6 * i) / perSide;
      levels.push({ priceUsd: price * (1 + d), usd: 1e6 }, { priceUsd: price * (1 - d), usd: 1e6 });
    }
    engine.heatmap(buildHeatmapSnapshot({ symbol, range: '30d', source: 'coinglass', refPrice: price, fetchedAt: atMs, levels }).snapshot);
  }
  return engine.clusterOutcomes().reduce((a, c) => a + c.following, 0);
}

/**
 * Cost of following clusters on the ingest path: engine frames/s with every coin following 2 × `perSide`
 * clusters, as a ratio to the same engine following none, alternating rounds on the same frames; plus the
 * tracker's own cost per price update with 1,000 open clusters (none resolving) against a bare loop.
 */
export function benchClusterOutcomes(opts: { symbols?: number; durationMs?: number; rounds?: number; perSide?: number } = {}): Record<string, number | string> {
  const durationMs = opts.durationMs ?? 120_000;
  const frames = simulatedFrames(opts.symbols ?? 200, durationMs);
  const half = frames.findIndex((f) => f.t >= frames[0]!.t + durationMs / 2);
  const warm = frames.slice(0, half);
  const timed = frames.slice(half);
  const plainFps: number[] = [];
  const loadedFps: number[] = [];
  let followed = 0;
  for (let r = 0; r < (opts.rounds ?? 5); r++) {
    const plain = newEngine(frames[0]!.t);
    feed(plain.engine, plain.clock, warm);
    const loaded = newEngine(frames[0]!.t);
    feed(loaded.engine, loaded.clock, warm);
    followed = loadClusters(loaded.engine, loaded.clock.now(), opts.perSide ?? 100);
    let t0 = performance.now();
    feed(plain.engine, plain.clock, timed);
    plainFps.push(timed.length / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    feed(loaded.engine, loaded.clock, timed);
    loadedFps.push(timed.length / ((performance.now() - t0) / 1000));
  }
  const clusters: Cluster[] = [];
  for (let i = 0; i < 500; i++) clusters.push({ low: 120 + i, high: 120 + i, centre: 120 + i, usd: 1, levelCount: 1, side: 'short' }, { low: 80 - i / 10, high: 80 - i / 10, centre: 80 - i / 10, usd: 1, levelCount: 1, side: 'long' });
  const tracker = new ClusterOutcomeTracker('X', 30 * 86_400_000);
  tracker.follow(0, 100, [{ range: '30d', source: 'estimate', clusters }]);
  const n = 2_000_000;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) tracker.onPrice(i, 95 + (i % 10));
  const trackerNs = ((performance.now() - t0) * 1e6) / n;
  let sink = 0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) sink += 95 + (i % 10) > clusters[0]!.centre ? 1 : 0;
  const loopNs = ((performance.now() - t0) * 1e6) / n;
  const e = median(plainFps);
  const el = median(loadedFps);
  return {
    frames_timed: timed.length,
    clusters_followed: followed,
    engine_frames_per_sec: Math.round(e),
    engine_following_clusters_frames_per_sec: Math.round(el),
    ratio_following_to_none: round(el / e, 3),
    tracker_ns_per_price_update_1000_open: round(trackerNs, 1),
    bare_loop_ns: round(loopNs + sink * 0, 1),
    engine_ns_per_frame: round(1e9 / e, 0),
  };
}

if (isMain(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(JSON.stringify(benchClusterOutcomes(quick ? { symbols: 100, durationMs: 60_000, rounds: 3 } : {}), null, 2));
}
