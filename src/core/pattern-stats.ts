/**
 * What whalestack learns from closed trades, per coin and heatmap range (`coin_liquidation_patterns`):
 * successes, failures, the success rate the ranker scores with, and the sizes of the target clusters that
 * worked. A coin with few trades is shrunk toward a prior: the rate is the mean of a Beta(α, β) posterior,
 * (successes + α) / (trades + α + β), with α = β = 1 by default, so a coin with no trades scores 0.5 (the
 * ranker's former fixed value), one win gives 0.67, and ten wins out of ten give 0.92, not 1.
 */
export interface PatternStats {
  readonly symbol: string;
  readonly range: string;
  readonly successCount: number;
  readonly failureCount: number;
  /** Mean target-cluster size over all trades, USD. */
  readonly avgClusterUsd: number;
  /** Exponentially weighted typical target-cluster size (α 0.2: the last ~5 trades weigh most), USD. */
  readonly typicalClusterUsd: number;
  /** Smallest target cluster that still produced a success; undefined before the first success. */
  readonly minClusterUsd: number | undefined;
  /** Mean seconds from open to a successful close; undefined before the first success. */
  readonly avgTimeToTargetSec: number | undefined;
}

export interface SuccessPrior {
  readonly alpha: number;
  readonly beta: number;
}

export const DEFAULT_SUCCESS_PRIOR: SuccessPrior = { alpha: 1, beta: 1 };

const TYPICAL_EWMA_ALPHA = 0.2;

export interface TradeOutcome {
  readonly success: boolean;
  readonly clusterUsd: number;
  readonly durationSec: number;
}

/** The stats after one more closed trade. */
export function recordOutcome(symbol: string, range: string, before: PatternStats | undefined, outcome: TradeOutcome): PatternStats {
  const s = before ?? { symbol, range, successCount: 0, failureCount: 0, avgClusterUsd: 0, typicalClusterUsd: 0, minClusterUsd: undefined, avgTimeToTargetSec: undefined };
  const n = s.successCount + s.failureCount;
  const successCount = s.successCount + (outcome.success ? 1 : 0);
  return {
    symbol,
    range,
    successCount,
    failureCount: s.failureCount + (outcome.success ? 0 : 1),
    avgClusterUsd: (s.avgClusterUsd * n + outcome.clusterUsd) / (n + 1),
    typicalClusterUsd: n === 0 ? outcome.clusterUsd : s.typicalClusterUsd + TYPICAL_EWMA_ALPHA * (outcome.clusterUsd - s.typicalClusterUsd),
    minClusterUsd: outcome.success ? Math.min(s.minClusterUsd ?? Infinity, outcome.clusterUsd) : s.minClusterUsd,
    avgTimeToTargetSec: outcome.success ? ((s.avgTimeToTargetSec ?? 0) * s.successCount + outcome.durationSec) / successCount : s.avgTimeToTargetSec,
  };
}

/** Posterior-mean success rate in (0, 1); the prior's mean when `stats` is undefined. */
export function successRate(stats: Pick<PatternStats, 'successCount' | 'failureCount'> | undefined, prior: SuccessPrior = DEFAULT_SUCCESS_PRIOR): number {
  const s = stats?.successCount ?? 0;
  const f = stats?.failureCount ?? 0;
  return (s + prior.alpha) / (s + f + prior.alpha + prior.beta);
}

/**
 * One success rate per coin for the ranker: trades pooled over the coin's ranges, then shrunk by the prior.
 * Keys are symbols.
 */
export function successRatesBySymbol(all: readonly PatternStats[], prior: SuccessPrior = DEFAULT_SUCCESS_PRIOR): Map<string, number> {
  const pooled = new Map<string, { successCount: number; failureCount: number }>();
  for (const p of all) {
    const acc = pooled.get(p.symbol) ?? { successCount: 0, failureCount: 0 };
    acc.successCount += p.successCount;
    acc.failureCount += p.failureCount;
    pooled.set(p.symbol, acc);
  }
  const out = new Map<string, number>();
  for (const [symbol, acc] of pooled) out.set(symbol, successRate(acc, prior));
  return out;
}
