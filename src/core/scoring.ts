import type { ImbalanceDirection } from './imbalance.js';

/**
 * The founder's score: imbalance × 50 + min(cluster % of typical, 200) × 0.3 + success rate × 20. The notes say
 * "out of 120", but the formula's maximum is 50 + 60 + 20 = 130; the formula is kept exact, so scores lie in
 * [0, 130].
 *
 * Choice for SHORT: the imbalance term uses (1 − imbalance), the share of fuel on the side the trade goes to,
 * so a strongly long-heavy book (imbalance 0.2 → SHORT) scores as high as the mirrored shorts-heavy book
 * (0.8 → LONG). Without it every SHORT setup would be ranked below every LONG one. For NONE the larger of the
 * two is used; such coins are ranked but never armed.
 *
 * Quantisation: the inputs are rounded to the precision of the founder's notes (imbalance to 0.001, cluster %
 * to whole percent) and the score to 0.01. That reproduces the worked example exactly (0.714, 159 %, 0.85 →
 * 35.7 + 47.7 + 17 = 100.4, where unrounded inputs would give 100.51) and keeps scores identical across
 * machines and replays; the ranking breaks the resulting ties by symbol.
 */

export interface ScoreInput {
  /** Aggregate imbalance in [0, 1] (shorts above share). */
  readonly imbalance: number;
  readonly direction: ImbalanceDirection;
  /** Target cluster size as % of the coin's typical cluster (159.3 = 159.3 %). */
  readonly clusterPct: number;
  /** Historical success rate of this setup in [0, 1]. */
  readonly successRate: number;
}

export interface ScoreBreakdown {
  /** Quantised directional imbalance used for the first term. */
  readonly directionalImbalance: number;
  readonly imbalanceTerm: number;
  /** Quantised cluster %, before the 200 % cap. */
  readonly clusterPct: number;
  readonly clusterTerm: number;
  readonly successTerm: number;
  /** Sum of the terms, rounded to 0.01; in [0, 130]. */
  readonly score: number;
}

export const SCORE_IMBALANCE_WEIGHT = 50;
export const SCORE_CLUSTER_WEIGHT = 0.3;
export const SCORE_CLUSTER_PCT_CAP = 200;
export const SCORE_SUCCESS_WEIGHT = 20;

/**
 * Rounds half away from zero to `decimals` places. A few-ulp nudge makes decimal halves stored just below
 * (1.005 → 100.49999999999999) round up as written.
 */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const scaled = value * f;
  const r = Math.round(Math.abs(scaled) * (1 + 8 * Number.EPSILON));
  return (Math.sign(scaled) * r) / f;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** Scores a coin. Non-finite inputs count as 0 (a coin with broken data sinks to the bottom, it does not throw). */
export function scoreCoin(input: ScoreInput): ScoreBreakdown {
  const imb = clamp01(input.imbalance);
  const raw = input.direction === 'LONG' ? imb : input.direction === 'SHORT' ? 1 - imb : Math.max(imb, 1 - imb);
  const directionalImbalance = roundTo(raw, 3);
  const clusterPct = Number.isFinite(input.clusterPct) && input.clusterPct > 0 ? roundTo(input.clusterPct, 0) : 0;
  const successRate = clamp01(input.successRate);
  const imbalanceTerm = roundTo(directionalImbalance * SCORE_IMBALANCE_WEIGHT, 2);
  const clusterTerm = roundTo(Math.min(clusterPct, SCORE_CLUSTER_PCT_CAP) * SCORE_CLUSTER_WEIGHT, 2);
  const successTerm = roundTo(successRate * SCORE_SUCCESS_WEIGHT, 2);
  return {
    directionalImbalance,
    imbalanceTerm,
    clusterPct,
    clusterTerm,
    successTerm,
    score: roundTo(imbalanceTerm + clusterTerm + successTerm, 2),
  };
}
