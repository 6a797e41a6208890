import { baseCoin } from './thresholds.js';
import type { Signal } from './trigger.js';

/** Entry, stop-loss and take-profit for a signal, in USD prices. */
export interface TradePlanPrices {
  readonly entryPrice: number;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  /** The heatmap range the target cluster came from. */
  readonly range: string;
}

/** How far beyond the opposite cluster the stop sits (DESIGN: 2 %), and the fallback stop without one. */
export const STOP_BEYOND_OPPOSITE = 0.02;

/**
 * The founder's plan for a signal, prices only (sizing and ladders belong to execution): take profit just short
 * of the target cluster's centre (× 0.995 for BTC/ETH, × 0.998 for others, mirrored for shorts) to front-run
 * the whales; stop 2 % beyond the next opposite cluster, or 2 % from entry when there is none. Undefined when
 * the signal has no target or the levels sit on the wrong side of entry (a plan that cannot be traded).
 */
export function planSignalPrices(signal: Pick<Signal, 'symbol' | 'direction' | 'features' | 'target' | 'opposite'>): TradePlanPrices | undefined {
  const entry = signal.features.lastPrice;
  const target = signal.target;
  if (!(entry > 0) || target === undefined) return undefined;
  const major = baseCoin(signal.symbol) === 'BTC' || baseCoin(signal.symbol) === 'ETH';
  const frontRun = major ? 0.005 : 0.002;
  const long = signal.direction === 'LONG';
  const takeProfitPrice = long ? target.centre * (1 - frontRun) : target.centre * (1 + frontRun);
  const opposite = signal.opposite;
  const stopLossPrice = long
    ? (opposite !== undefined ? opposite.low : entry) * (1 - STOP_BEYOND_OPPOSITE)
    : (opposite !== undefined ? opposite.high : entry) * (1 + STOP_BEYOND_OPPOSITE);
  const sane = long ? stopLossPrice < entry && takeProfitPrice > entry : stopLossPrice > entry && takeProfitPrice < entry;
  if (!sane) return undefined;
  return { entryPrice: entry, stopLossPrice, takeProfitPrice, range: target.range };
}
