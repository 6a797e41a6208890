import type { Cluster } from './clusters.js';
import { HEATMAP_RANGES, type HeatmapRange } from './heatmap.js';

/**
 * Liquidation imbalance: how much of the significant liquidation fuel sits above the price (shorts) versus
 * below it (longs). Price tends to be pulled toward the bigger pool, so shorts-heavy books point LONG.
 */

/** Direction a coin's book points to; NONE between the bands or without significant clusters. */
export type ImbalanceDirection = 'LONG' | 'SHORT' | 'NONE';

/** Significant clusters of one range's snapshot. */
export interface RangeClusters {
  readonly range: HeatmapRange;
  readonly clusters: readonly Cluster[];
}

export interface ImbalanceConfig {
  /**
   * Weight of each range in the aggregate; a missing range weighs 0. 12h/24h stay at 0 by default: they are
   * noise for signals but are still reported per range.
   */
  readonly weights: Readonly<Partial<Record<HeatmapRange, number>>>;
  /**
   * Direction bands: LONG when the aggregate imbalance is above `longAbove`, SHORT when below `shortBelow`,
   * NONE in between. The founder's code uses 0.65 / 0.35 (a clear two-to-one majority of fuel on one side);
   * the engine used 0.55 / 0.45 before, still available as a setting.
   */
  readonly longAbove: number;
  readonly shortBelow: number;
  /**
   * How ranges combine. `sum` (the founder's): shorts above and longs below are summed across the weighted
   * ranges, each range's dollars times its weight, and the ratio is taken once, so a range holding more fuel
   * has more say. `mean`: the weighted mean of each range's own ratio, so every range has its configured say
   * whatever its dollar size (the engine's behaviour before).
   */
  readonly mode: ImbalanceMode;
}

export const IMBALANCE_MODES = ['sum', 'mean'] as const;
export type ImbalanceMode = (typeof IMBALANCE_MODES)[number];

/** The founder's bands (0.65 / 0.35) over the founder's signal ranges. */
export const DEFAULT_IMBALANCE_CONFIG: ImbalanceConfig = { weights: { '7d': 1, '14d': 1, '30d': 1 }, longAbove: 0.65, shortBelow: 0.35, mode: 'sum' };

export interface RangeImbalance {
  readonly range: HeatmapRange;
  readonly shortsAboveUsd: number;
  readonly longsBelowUsd: number;
  /** shorts / (shorts + longs); undefined when the range has no significant cluster. */
  readonly imbalance: number | undefined;
  readonly weight: number;
}

/** A cluster together with the range whose snapshot it came from. */
export interface RangedCluster extends Cluster {
  readonly range: HeatmapRange;
}

export interface ImbalanceAssessment {
  /** Weighted aggregate in [0, 1]; 0.5 when no weighted range has a significant cluster. */
  readonly imbalance: number;
  readonly direction: ImbalanceDirection;
  /** One entry per input range, in canonical range order. */
  readonly perRange: readonly RangeImbalance[];
  /** Largest significant cluster on the direction's side (above for LONG, below for SHORT). */
  readonly target: RangedCluster | undefined;
  /** Nearest significant cluster on the other side of the price (where the stop-loss goes beyond). */
  readonly opposite: RangedCluster | undefined;
}

/** Imbalance of one pool pair; 0.5 for an empty book. Founder's example: 500M / (500M + 200M) = 0.714… */
export function imbalanceOf(shortsAboveUsd: number, longsBelowUsd: number): number {
  const total = shortsAboveUsd + longsBelowUsd;
  return total > 0 ? shortsAboveUsd / total : 0.5;
}

/**
 * Aggregates imbalance over ranges and picks the direction, target and opposite clusters.
 *
 * Only ranges with weight > 0 and at least one significant cluster count. In `sum` mode (default, the
 * founder's) the aggregate is ΣwS / (ΣwS + ΣwL) over those ranges. In `mean` mode it is the weighted mean of
 * each range's signed balance (S − L)/(S + L), so each range has its configured say whatever its dollar size
 * (a 30d map holds far more dollars than a 7d one). Both work on a signed balance mapped back to [0, 1] as
 * (1 + balance)/2: swapping the sides negates it bit-for-bit, so mirroring flips the direction exactly, and
 * the direction bands are applied to the balance.
 * `refPrice` (the current price) measures the distance to the opposite cluster.
 */
export function assessImbalance(
  ranges: readonly RangeClusters[],
  refPrice: number,
  config: ImbalanceConfig = DEFAULT_IMBALANCE_CONFIG,
): ImbalanceAssessment {
  const ordered = [...ranges].sort((a, b) => rangeIndex(a.range) - rangeIndex(b.range));
  const perRange: RangeImbalance[] = [];
  let weightedBalance = 0;
  let weightSum = 0;
  let weightedShorts = 0;
  let weightedLongs = 0;
  for (const { range, clusters } of ordered) {
    let shorts = 0;
    let longs = 0;
    for (const c of clusters) {
      if (c.side === 'short') shorts += c.usd;
      else longs += c.usd;
    }
    const rawWeight = config.weights[range] ?? 0;
    const weight = Number.isFinite(rawWeight) && rawWeight > 0 ? rawWeight : 0;
    const total = shorts + longs;
    const rangeImbalance = total > 0 ? shorts / total : undefined;
    perRange.push({ range, shortsAboveUsd: shorts, longsBelowUsd: longs, imbalance: rangeImbalance, weight });
    if (weight > 0 && total > 0) {
      weightedBalance += weight * ((shorts - longs) / total);
      weightSum += weight;
      weightedShorts += weight * shorts;
      weightedLongs += weight * longs;
    }
  }
  const balance =
    weightSum === 0
      ? 0
      : config.mode === 'mean'
        ? weightedBalance / weightSum
        : (weightedShorts - weightedLongs) / (weightedShorts + weightedLongs);
  const imbalance = Math.min(1, Math.max(0, (1 + balance) / 2));
  // Bands compared on the signed balance (2·imbalance − 1). Edges are rounded to 1e-9 so symmetric bands
  // (0.55 / 0.45 gives 0.10000000000000009 and 0.09999999999999998 unrounded) become exact negatives of each
  // other, and mirroring a book flips the direction exactly.
  const longEdge = roundEdge(2 * config.longAbove - 1);
  const shortEdge = -roundEdge(1 - 2 * config.shortBelow);
  const direction: ImbalanceDirection = weightSum === 0 ? 'NONE' : balance > longEdge ? 'LONG' : balance < shortEdge ? 'SHORT' : 'NONE';

  let target: RangedCluster | undefined;
  let opposite: RangedCluster | undefined;
  if (direction !== 'NONE') {
    const targetSide = direction === 'LONG' ? 'short' : 'long';
    let bestTarget: [Cluster, HeatmapRange] | undefined;
    let bestOpposite: [Cluster, HeatmapRange] | undefined;
    for (const { range, clusters } of ordered) {
      if (!((config.weights[range] ?? 0) > 0)) continue;
      for (const c of clusters) {
        if (c.side === targetSide) {
          if (bestTarget === undefined || betterTarget(c, range, bestTarget[0], bestTarget[1], refPrice)) bestTarget = [c, range];
        } else if (bestOpposite === undefined || nearer(c, range, bestOpposite[0], bestOpposite[1], refPrice)) {
          bestOpposite = [c, range];
        }
      }
    }
    if (bestTarget !== undefined) target = { ...bestTarget[0], range: bestTarget[1] };
    if (bestOpposite !== undefined) opposite = { ...bestOpposite[0], range: bestOpposite[1] };
  }
  return { imbalance, direction, perRange, target, opposite };
}

function roundEdge(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}

function rangeIndex(range: HeatmapRange): number {
  return HEATMAP_RANGES.indexOf(range);
}

/** Distance from the price to the cluster's nearest edge. */
function distance(c: Cluster, refPrice: number): number {
  return c.side === 'short' ? Math.abs(c.low - refPrice) : Math.abs(refPrice - c.high);
}

/** Larger USD wins; then the nearer one; then the shorter range; deterministic whatever the input order. */
function betterTarget(a: Cluster, ra: HeatmapRange, b: Cluster, rb: HeatmapRange, refPrice: number): boolean {
  if (a.usd !== b.usd) return a.usd > b.usd;
  const da = distance(a, refPrice);
  const db = distance(b, refPrice);
  if (da !== db) return da < db;
  return rangeIndex(ra) < rangeIndex(rb);
}

/** Nearer wins; then the larger; then the shorter range. */
function nearer(a: Cluster, ra: HeatmapRange, b: Cluster, rb: HeatmapRange, refPrice: number): boolean {
  const da = distance(a, refPrice);
  const db = distance(b, refPrice);
  if (da !== db) return da < db;
  if (a.usd !== b.usd) return a.usd > b.usd;
  return rangeIndex(ra) < rangeIndex(rb);
}
