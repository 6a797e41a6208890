import { performance } from 'node:perf_hooks';
import { CoinLiquidity } from '../src/core/coin-liquidity.js';
import { VirtualClock } from '../src/core/clock.js';
import type { MarketEvent } from '../src/core/events.js';
import { buildHeatmapSnapshot, HEATMAP_RANGES, type HeatmapSnapshot } from '../src/core/heatmap.js';
import { Prng } from '../src/core/prng.js';
import { evaluateCoin, rankCoins } from '../src/core/ranking.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { BybitDecoder } from '../src/streams/bybit-decoder.js';
import { Engine } from '../src/engine/engine.js';
import { simulatedFrames } from './ingest.js';
import { isMain, median, round } from './stats.js';

function syntheticSnapshots(symbol: string, rng: Prng, nowMs: number): HeatmapSnapshot[] {
  const ref = 10 + rng.next() * 1000;
  return HEATMAP_RANGES.slice(0, 8).map(
    (range) =>
      buildHeatmapSnapshot({
        symbol,
        range,
        source: 'coinglass',
        refPrice: ref,
        fetchedAt: nowMs,
        levels: Array.from({ length: 200 }, (_, i) => ({ priceUsd: ref * (0.8 + (0.4 * i) / 200), usd: rng.next() ** 3 * 50_000_000 })),
      }).snapshot,
  );
}

/**
 * Ranker: evaluating 500 coins × 8 ranges × 200 levels (clusters, significance, imbalance, score) and ranking
 * them. Estimator: the own-estimate model's cost per frame as a share of the engine's whole ingest cost on the
 * same 500-symbol frames.
 */
export async function benchRanker(): Promise<Record<string, number | string>> {
  const rng = new Prng('ranker');
  const now = Date.UTC(2026, 0, 1);
  const coins = Array.from({ length: 500 }, (_, i) => ({ symbol: `SYM${String(i).padStart(3, '0')}USDT`, snapshots: syntheticSnapshots(`SYM${i}`, rng, now) }));
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const assessed = coins.map((c) =>
      evaluateCoin({ symbol: c.symbol, snapshots: c.snapshots, refPrice: c.snapshots[0]!.refPrice, nowMs: now, marketCapUsd: undefined, typicalSize: () => undefined, successRate: 0.5 }),
    );
    rankCoins(assessed);
    times.push(performance.now() - t0);
  }

  // Estimator share, steady state: engine and estimator both warmed on the first minute, timed on the second.
  const frames = simulatedFrames(500, 120_000, 11);
  const half = frames.findIndex((f) => f.t >= frames[0]!.t + 60_000);
  const events: MarketEvent[] = [];
  const decoder = new BybitDecoder();
  for (const f of frames) decoder.decode(f.d, f.t, (ev) => events.push(ev));
  const eventsHalf = events.findIndex((ev) => ev.tsInit >= frames[half]!.t);
  const feed = (models: Map<string, CoinLiquidity>, list: readonly MarketEvent[]) => {
    for (const ev of list) {
      let m = models.get(ev.symbol);
      if (m === undefined) models.set(ev.symbol, (m = new CoinLiquidity(ev.symbol)));
      if (ev.kind === 'ticker') m.onTicker(ev);
      else if (ev.kind === 'trades') m.onTrades(ev);
      else m.onLiquidations(ev);
    }
  };
  const engineMs: number[] = [];
  const estimatorMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const clock = new VirtualClock(frames[0]!.t);
    const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } });
    const ingest = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        clock.advanceTo(frames[i]!.t);
        engine.ingest(frames[i]!.d, frames[i]!.t);
      }
    };
    ingest(0, half);
    let t0 = performance.now();
    ingest(half, frames.length);
    engineMs.push(performance.now() - t0);
    const models = new Map<string, CoinLiquidity>();
    feed(models, events.slice(0, eventsHalf));
    const timed = events.slice(eventsHalf);
    t0 = performance.now();
    feed(models, timed);
    estimatorMs.push(performance.now() - t0);
  }
  const timedFrames = frames.length - half;
  const e = median(engineMs);
  const est = median(estimatorMs);
  return {
    rank_500_coins_x_8_ranges_ms_median: round(median(times), 1),
    rank_500_coins_x_8_ranges_ms_max: round(Math.max(...times), 1),
    estimator_ns_per_frame: round((est * 1e6) / timedFrames, 0),
    engine_ns_per_frame: round((e * 1e6) / timedFrames, 0),
    estimator_share_of_ingest: round(est / e, 3),
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchRanker(), null, 2));
}
