import type { HeatmapLevel, LiquidationSide } from './heatmap.js';

/**
 * A run of adjacent liquidation levels on one side of the price. `centre` is the USD-weighted mean price, the
 * point where the bulk of the liquidations sits (take-profits are placed near it).
 */
export interface Cluster {
  readonly low: number;
  readonly high: number;
  readonly centre: number;
  readonly usd: number;
  readonly side: LiquidationSide;
  readonly levelCount: number;
}

export interface ClusterConfig {
  /**
   * Two consecutive significant levels belong to the same cluster when the gap between their prices is at
   * most this fraction of the snapshot's reference price (0.005 = 0.5 %). The reference price, not the level
   * price, is the scale so that grouping is the same on both sides of the price (mirror symmetric).
   */
  readonly maxGapFraction: number;
  /** Levels below this USD notional are noise and do not take part in clustering. */
  readonly minLevelUsd: number;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = { maxGapFraction: 0.005, minLevelUsd: 0 };

/**
 * The levels that take part in clustering: ESTIMATED (realized liquidations are history, not fuel) and at
 * least `minLevelUsd`. Order is preserved.
 */
export function significantLevels(levels: readonly HeatmapLevel[], minLevelUsd: number): HeatmapLevel[] {
  return levels.filter((l) => l.label === 'ESTIMATED' && l.usd >= minLevelUsd);
}

/**
 * Groups the significant levels into clusters. Levels are sorted by price; a new cluster starts when the side
 * changes or the gap to the previous level exceeds `maxGapFraction × refPrice`. Every significant level lands
 * in exactly one cluster (the clusters partition them). Returned clusters are sorted by ascending price.
 */
export function detectClusters(
  levels: readonly HeatmapLevel[],
  refPrice: number,
  config: ClusterConfig = DEFAULT_CLUSTER_CONFIG,
): Cluster[] {
  if (!(config.maxGapFraction >= 0)) throw new Error(`clusters: maxGapFraction must be >= 0, got ${config.maxGapFraction}`);
  const sorted = significantLevels(levels, config.minLevelUsd).sort((a, b) => a.priceUsd - b.priceUsd);
  const maxGap = config.maxGapFraction * refPrice;
  const clusters: Cluster[] = [];
  let low = 0;
  let high = 0;
  let usd = 0;
  let weighted = 0;
  let count = 0;
  let side: LiquidationSide = 'long';
  const close = (): void => {
    // Clamped: the weighted mean can land one ulp outside [low, high].
    const centre = Math.min(high, Math.max(low, weighted / usd));
    if (count > 0) clusters.push({ low, high, centre, usd, side, levelCount: count });
  };
  for (const level of sorted) {
    if (count > 0 && level.side === side && level.priceUsd - high <= maxGap) {
      high = level.priceUsd;
      usd += level.usd;
      weighted += level.priceUsd * level.usd;
      count++;
      continue;
    }
    close();
    low = level.priceUsd;
    high = level.priceUsd;
    usd = level.usd;
    weighted = level.priceUsd * level.usd;
    count = 1;
    side = level.side;
  }
  close();
  return clusters;
}
