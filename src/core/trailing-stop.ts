import { roundToStep } from './instrument-rounding.js';
import type { SignalDirection } from './trigger.js';

/**
 * The founder's trailing-stop ladder (Process H): profit > 10 % → stop to breakeven (fees included),
 * > 20 % → lock +10 %, > 50 % → lock +30 %. Profit is the position's return on margin (leveraged ROE, the
 * figure Bybit shows next to a position) by default, or the raw price move. Evaluated on every mark-price
 * update of a coin with a position; the stop only ever moves toward profit.
 */
export type TrailingBasis = 'roe' | 'price';

export interface TrailingStep {
  /** Profit (fraction) that must be exceeded. */
  readonly triggerFraction: number;
  /** Profit (fraction, same basis, net of fees) the stop then locks in; 0 = breakeven. */
  readonly lockFraction: number;
}

export interface TrailingConfig {
  readonly basis: TrailingBasis;
  /** Ascending by trigger. */
  readonly steps: readonly TrailingStep[];
  /** Fee the stop's exit pays (stop orders fill as taker). */
  readonly exitFeeRate: number;
}

export const DEFAULT_TRAILING_STEPS: readonly TrailingStep[] = [
  { triggerFraction: 0.1, lockFraction: 0 },
  { triggerFraction: 0.2, lockFraction: 0.1 },
  { triggerFraction: 0.5, lockFraction: 0.3 },
];

export interface TrailedPosition {
  readonly direction: SignalDirection;
  readonly avgEntryPrice: number;
  readonly leverage: number;
  /** Fee rate the entry paid (maker for limits, taker for market). */
  readonly entryFeeRate: number;
  readonly stopLossPrice: number;
}

export interface TrailingDecision {
  readonly stopLossPrice: number;
  /** True when the stop moved (tightened). */
  readonly moved: boolean;
  /** Index of the highest step reached, or -1. */
  readonly step: number;
  /** Gross profit at `markPrice` on the configured basis. */
  readonly profitFraction: number;
}

/** Gross profit at `markPrice`: price move in the trade's favour, × leverage on the ROE basis. */
export function trailingProfitFraction(position: Pick<TrailedPosition, 'direction' | 'avgEntryPrice' | 'leverage'>, markPrice: number, basis: TrailingBasis): number {
  const move = (position.direction === 'LONG' ? markPrice - position.avgEntryPrice : position.avgEntryPrice - markPrice) / position.avgEntryPrice;
  return basis === 'roe' ? move * position.leverage : move;
}

/**
 * Price at which closing (taker) nets `lockFraction` of profit after the entry and exit fees. With e entry,
 * fe/ft the fee rates and x = lockFraction ÷ leverage on the ROE basis (lockFraction on the price basis):
 * LONG p = e(1 + fe + x)/(1 − ft); SHORT p = e(1 − fe − x)/(1 + ft). lockFraction 0 is the fee-inclusive
 * breakeven.
 */
export function lockPrice(position: Omit<TrailedPosition, 'stopLossPrice'>, lockFraction: number, basis: TrailingBasis, exitFeeRate: number): number {
  const x = basis === 'roe' ? lockFraction / position.leverage : lockFraction;
  const e = position.avgEntryPrice;
  return position.direction === 'LONG' ? (e * (1 + position.entryFeeRate + x)) / (1 - exitFeeRate) : (e * (1 - position.entryFeeRate - x)) / (1 + exitFeeRate);
}

/**
 * The stop after a mark-price update: the lock price of the highest step whose trigger the profit exceeds, if
 * that is tighter than the current stop and still on the safe side of the mark (a stop the mark has already
 * crossed would fire at once); otherwise the current stop. Never loosens. With `tickSize` the candidate is put on
 * the tick grid first (rounded away from the mark, which can give back up to one tick of the locked profit).
 */
export function trailStop(position: TrailedPosition, markPrice: number, config: TrailingConfig, tickSize?: number): TrailingDecision {
  const profitFraction = trailingProfitFraction(position, markPrice, config.basis);
  let step = -1;
  for (let i = 0; i < config.steps.length; i++) if (profitFraction > config.steps[i]!.triggerFraction) step = i;
  const current = position.stopLossPrice;
  if (step < 0) return { stopLossPrice: current, moved: false, step, profitFraction };
  const long = position.direction === 'LONG';
  const raw = lockPrice(position, config.steps[step]!.lockFraction, config.basis, config.exitFeeRate);
  // On the tick grid, rounded away from the mark (LONG down, SHORT up) so the stop stays on the safe side.
  const candidate = tickSize === undefined ? raw : roundToStep(raw, tickSize, long ? 'down' : 'up');
  const tighter = long ? candidate > current : candidate < current;
  const safe = long ? candidate < markPrice : candidate > markPrice;
  if (tighter && safe) return { stopLossPrice: candidate, moved: true, step, profitFraction };
  return { stopLossPrice: current, moved: false, step, profitFraction };
}
