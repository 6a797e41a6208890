import type { SignalDirection } from './trigger.js';

/**
 * The wick stop's input: the coin's worst historical wick against a trade, from minute bars. A LONG is hurt by
 * lower wicks, (min(open, close) − low) / min(open, close); a SHORT by upper wicks, (high − max(open, close)) /
 * max(open, close). Until `minBars` bars exist the answer is undefined and the plan uses its default (8 %).
 */
export interface WickBar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export const DEFAULT_MIN_WICK_BARS = 1440;

/** Max adverse wick as a fraction, or undefined with fewer than `minBars` valid bars. */
export function maxAdverseWickFraction(bars: readonly WickBar[], direction: SignalDirection, minBars: number = DEFAULT_MIN_WICK_BARS): number | undefined {
  let max = 0;
  let valid = 0;
  for (const b of bars) {
    if (!(b.low > 0 && b.high >= b.low && b.open > 0 && b.close > 0)) continue;
    valid++;
    const wick = direction === 'LONG' ? (Math.min(b.open, b.close) - b.low) / Math.min(b.open, b.close) : (b.high - Math.max(b.open, b.close)) / Math.max(b.open, b.close);
    if (wick > max) max = wick;
  }
  return valid >= minBars ? max : undefined;
}
