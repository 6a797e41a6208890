import { detectClusters, type Cluster, type ClusterConfig } from './clusters.js';
import { levelsAtPrice, type HeatmapRange, type HeatmapSnapshot, type LiquidationSide } from './heatmap.js';

/** How far the own estimate's largest cluster on one side is from CoinGlass's. */
export interface SideDistance {
  readonly side: LiquidationSide;
  readonly externalCentreUsd: number;
  readonly estimateCentreUsd: number;
  /** |estimate − external| / external centre, percent. */
  readonly centreDistancePct: number;
  readonly externalUsd: number;
  readonly estimateUsd: number;
  /** estimate / external cluster USD (1 = same size). */
  readonly sizeRatio: number;
}

/** CoinGlass vs the own estimate for one coin and range, at one instant. */
export interface SourceDistance {
  readonly symbol: string;
  readonly range: HeatmapRange;
  readonly atMs: number;
  readonly priceUsd: number;
  readonly externalClusters: number;
  readonly estimateClusters: number;
  /** Total estimated USD / total CoinGlass USD (NaN when CoinGlass shows nothing). */
  readonly totalUsdRatio: number;
  /** Largest cluster per side compared; absent when either source has none on that side. */
  readonly long: SideDistance | undefined;
  readonly short: SideDistance | undefined;
}

const largest = (cs: readonly Cluster[], side: LiquidationSide): Cluster | undefined => {
  let best: Cluster | undefined;
  for (const c of cs) if (c.side === side && (best === undefined || c.usd > best.usd)) best = c;
  return best;
};

/**
 * Compares a CoinGlass snapshot with the own estimate of the same coin and range: clusters of each (sides at
 * `priceUsd`), then the largest cluster per side by centre price and size. It measures how far the free model
 * is from the paid one where both exist, so its levels can be trusted (or not) where only it exists.
 */
export function compareSources(external: HeatmapSnapshot, estimate: HeatmapSnapshot, priceUsd: number, config: ClusterConfig): SourceDistance {
  const ce = detectClusters(levelsAtPrice(external.levels, priceUsd), priceUsd, config);
  const cs = detectClusters(levelsAtPrice(estimate.levels, priceUsd), priceUsd, config);
  const side = (s: LiquidationSide): SideDistance | undefined => {
    const a = largest(ce, s);
    const b = largest(cs, s);
    if (a === undefined || b === undefined) return undefined;
    return {
      side: s, externalCentreUsd: a.centre, estimateCentreUsd: b.centre, centreDistancePct: (Math.abs(b.centre - a.centre) / a.centre) * 100,
      externalUsd: a.usd, estimateUsd: b.usd, sizeRatio: b.usd / a.usd,
    };
  };
  const total = (cl: readonly Cluster[]) => cl.reduce((x, c) => x + c.usd, 0);
  const ext = total(ce);
  return {
    symbol: external.symbol, range: external.range, atMs: external.fetchedAt, priceUsd, externalClusters: ce.length, estimateClusters: cs.length,
    totalUsdRatio: ext > 0 ? total(cs) / ext : Number.NaN, long: side('long'), short: side('short'),
  };
}
