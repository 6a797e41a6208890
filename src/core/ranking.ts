import { DEFAULT_CLUSTER_CONFIG, detectClusters, type Cluster, type ClusterConfig } from './clusters.js';
import { heatmapAgeMs, levelsAtPrice, type HeatmapRange, type HeatmapSnapshot } from './heatmap.js';
import {
  assessImbalance,
  DEFAULT_IMBALANCE_CONFIG,
  type ImbalanceConfig,
  type ImbalanceDirection,
  type RangedCluster,
  type RangeImbalance,
} from './imbalance.js';
import { scoreCoin, type ScoreBreakdown } from './scoring.js';
import { resolveCoinThreshold, type CoinThreshold } from './coin-thresholds.js';
import { baseCoin, clusterPctOfTypical, DEFAULT_SIGNIFICANCE_CONFIG, thresholdFromFloorUsd, type SignificanceConfig, type TypicalSize } from './thresholds.js';

/**
 * Per-coin evaluation (heatmaps → clusters → imbalance → score) and the pure ranking of all coins.
 * The RankerActor calls `evaluateCoin` for every coin and `rankCoins` on the results; both are pure, so a
 * replay ranks exactly as the live run did.
 */

export interface EvaluationConfig {
  readonly cluster: ClusterConfig;
  readonly significance: SignificanceConfig;
  readonly imbalance: ImbalanceConfig;
  /** Per-coin significance overrides in USD, keyed by base coin (`BTC`). */
  readonly overridesUsd: Readonly<Record<string, number>>;
}

export const DEFAULT_EVALUATION_CONFIG: EvaluationConfig = {
  cluster: DEFAULT_CLUSTER_CONFIG,
  significance: DEFAULT_SIGNIFICANCE_CONFIG,
  imbalance: DEFAULT_IMBALANCE_CONFIG,
  overridesUsd: {},
};

export interface CoinEvaluationInput {
  readonly symbol: string;
  /** Latest snapshot per range (one per range; a later duplicate of a range replaces an earlier one). */
  readonly snapshots: readonly HeatmapSnapshot[];
  /** Current price: each level is classified above/below it (not the snapshot's price) and distances use it. */
  readonly refPrice: number;
  readonly nowMs: number;
  /** Used when `threshold` is not given: the coin's tier comes from it (and `overridesUsd`). */
  readonly marketCapUsd: number | undefined;
  /** The coin's resolved floor (override, market cap, proxy); defaults to one from `marketCapUsd`. */
  readonly threshold?: CoinThreshold;
  /** Learned typical cluster size of a range for one source (CoinGlass and the own estimate are kept apart). */
  readonly typicalSize: (range: HeatmapRange, source: HeatmapSnapshot['source']) => TypicalSize | undefined;
  /** Historical success rate of the setup for this coin, in [0, 1]. */
  readonly successRate: number;
  /** Range weights for this coin (learned from cluster hit rates, RANGE_WEIGHTS=learned); default `config.imbalance.weights`. */
  readonly rangeWeights?: Readonly<Partial<Record<HeatmapRange, number>>>;
}

export interface RangeEvaluation extends RangeImbalance {
  readonly thresholdUsd: number;
  /** Significant clusters of this range, ascending price. */
  readonly clusters: readonly Cluster[];
  readonly fetchedAt: number;
  readonly ageMs: number;
  readonly source: HeatmapSnapshot['source'];
  /** The learned typical size used for this range and source (undefined until one was observed). */
  readonly typical: TypicalSize | undefined;
}

export interface CoinAssessment {
  readonly symbol: string;
  readonly direction: ImbalanceDirection;
  readonly imbalance: number;
  readonly score: number;
  readonly scoreBreakdown: ScoreBreakdown;
  /** Target cluster as % of the typical cluster size of its range (unrounded). */
  readonly clusterPct: number;
  readonly target: RangedCluster | undefined;
  readonly opposite: RangedCluster | undefined;
  readonly ranges: readonly RangeEvaluation[];
  /** `fetchedAt` of each range's snapshot, so ages can be recomputed when a signal fires. */
  readonly heatmapFetchedAt: Readonly<Partial<Record<HeatmapRange, number>>>;
  readonly evaluatedAtMs: number;
  /** The coin's floor and its source (stored in `coin_thresholds`). */
  readonly threshold: CoinThreshold;
}

/**
 * Evaluates one coin. Significance per range starts from the coin's floor (`input.threshold`: override, tier from
 * market cap or its proxy) and, once the range's typical size for that snapshot's source is learned, takes the
 * higher of the two (or the learned one, per `significance.learned`). Cluster % compares the target with the
 * learned typical size of its range and source, or with the floor while nothing has been learned yet.
 */
export function evaluateCoin(
  input: CoinEvaluationInput,
  config: EvaluationConfig = DEFAULT_EVALUATION_CONFIG,
): CoinAssessment {
  const byRange = new Map<HeatmapRange, HeatmapSnapshot>();
  for (const s of input.snapshots) byRange.set(s.range, s);
  const threshold =
    input.threshold ?? resolveCoinThreshold(input.symbol, { envOverrideUsd: config.overridesUsd[baseCoin(input.symbol)], marketCapUsd: input.marketCapUsd });
  const perRange = new Map<HeatmapRange, { snapshot: HeatmapSnapshot; thresholdUsd: number; clusters: Cluster[]; typical: TypicalSize | undefined }>();
  for (const [range, snapshot] of byRange) {
    const typical = input.typicalSize(range, snapshot.source);
    const thresholdUsd = thresholdFromFloorUsd(threshold.floorUsd, threshold.exact, typical, config.significance);
    // Sides against the price now, not the snapshot's (possibly minutes-old) reference price.
    const clusters = detectClusters(levelsAtPrice(snapshot.levels, input.refPrice), input.refPrice, config.cluster).filter((c) => c.usd >= thresholdUsd);
    perRange.set(range, { snapshot, thresholdUsd, clusters, typical });
  }
  const assessment = assessImbalance(
    [...perRange].map(([range, r]) => ({ range, clusters: r.clusters })),
    input.refPrice,
    input.rangeWeights === undefined ? config.imbalance : { ...config.imbalance, weights: input.rangeWeights },
  );
  let clusterPct = 0;
  if (assessment.target !== undefined) {
    const typical = perRange.get(assessment.target.range)?.typical;
    const learned = typical !== undefined && typical.samples >= config.significance.minSamples && typical.usd > 0;
    clusterPct = clusterPctOfTypical(assessment.target.usd, learned ? typical.usd : threshold.floorUsd);
  }
  const scoreBreakdown = scoreCoin({
    imbalance: assessment.imbalance,
    direction: assessment.direction,
    clusterPct,
    successRate: input.successRate,
  });
  const heatmapFetchedAt: Partial<Record<HeatmapRange, number>> = {};
  const ranges: RangeEvaluation[] = assessment.perRange.map((ri) => {
    const r = perRange.get(ri.range);
    if (r === undefined) throw new Error(`evaluateCoin: range ${ri.range} vanished`);
    heatmapFetchedAt[ri.range] = r.snapshot.fetchedAt;
    return {
      ...ri,
      thresholdUsd: r.thresholdUsd,
      clusters: r.clusters,
      fetchedAt: r.snapshot.fetchedAt,
      ageMs: heatmapAgeMs(r.snapshot, input.nowMs),
      source: r.snapshot.source,
      typical: r.typical,
    };
  });
  return {
    symbol: input.symbol,
    direction: assessment.direction,
    imbalance: assessment.imbalance,
    score: scoreBreakdown.score,
    scoreBreakdown,
    clusterPct,
    target: assessment.target,
    opposite: assessment.opposite,
    ranges,
    heatmapFetchedAt,
    evaluatedAtMs: input.nowMs,
    threshold,
  };
}

/** The minimum a ranking needs from each coin. */
export interface RankableCoin {
  readonly symbol: string;
  readonly score: number;
  readonly direction: ImbalanceDirection;
}

export interface RankingConfig {
  /** How many coins to keep (the published leaderboard). */
  readonly topN: number;
  /** How many of the kept coins to arm triggers on. */
  readonly armedK: number;
}

export const DEFAULT_RANKING_CONFIG: RankingConfig = { topN: 10, armedK: 3 };

export interface Ranking<T extends RankableCoin> {
  /** Every coin, best first. */
  readonly ranked: readonly T[];
  /** The first `topN` of `ranked`. */
  readonly top: readonly T[];
  /** The first `armedK` coins of `top` that have a direction (a NONE coin cannot trigger). Always ⊆ top. */
  readonly armed: readonly T[];
}

/**
 * Sorts coins by score (descending; a NaN score ranks last) and breaks ties by symbol in code-unit order, so
 * the result does not depend on input order or locale. A symbol appearing twice is a caller bug and throws.
 */
export function rankCoins<T extends RankableCoin>(
  coins: readonly T[],
  config: RankingConfig = DEFAULT_RANKING_CONFIG,
): Ranking<T> {
  const seen = new Set<string>();
  for (const c of coins) {
    if (seen.has(c.symbol)) throw new Error(`rankCoins: duplicate symbol ${c.symbol}`);
    seen.add(c.symbol);
  }
  const key = (c: T): number => (Number.isNaN(c.score) ? -Infinity : c.score);
  const ranked = [...coins].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return kb > ka ? 1 : -1;
    return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
  });
  const top = ranked.slice(0, Math.max(0, Math.floor(config.topN)));
  const armed = top.filter((c) => c.direction !== 'NONE').slice(0, Math.max(0, Math.floor(config.armedK)));
  return { ranked, top, armed };
}

/**
 * The assessment re-scored with a learned success rate (pattern statistics from closed trades) instead of the
 * prior it was evaluated with. Everything else is kept; the ranker applies it to every stored assessment.
 */
export function withSuccessRate(assessment: CoinAssessment, successRate: number): CoinAssessment {
  const scoreBreakdown = scoreCoin({ imbalance: assessment.imbalance, direction: assessment.direction, clusterPct: assessment.clusterPct, successRate });
  return { ...assessment, scoreBreakdown, score: scoreBreakdown.score };
}
