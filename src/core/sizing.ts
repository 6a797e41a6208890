import { roundQtyDown, type InstrumentRules } from './instrument-rounding.js';
import { refuse, type Refusal } from './refusal.js';
import type { SignalDirection } from './trigger.js';

/** Bybit's base-tier linear perpetual fees: taker 0.055 %, maker 0.02 % of notional. */
export const BYBIT_TAKER_FEE_RATE = 0.00055;
export const BYBIT_MAKER_FEE_RATE = 0.0002;

export interface SizingConfig {
  /** Loss at the stop, fees included, as a fraction of equity (founder: 1 % → 0.01). */
  readonly riskFraction: number;
  /** Upper bound on leverage whatever the instrument allows. */
  readonly maxLeverage: number;
  /**
   * Leverage is capped at `volatilityBudgetFraction ÷ volatility` (volatility as a fraction, e.g. the coin's
   * typical daily range): a coin that moves 10 % a day gets at most 3× with the default 0.3.
   */
  readonly volatilityBudgetFraction: number;
  /** Distance kept between the stop and the estimated liquidation price, as a fraction of entry. */
  readonly liquidationBufferFraction: number;
  /** Maintenance margin rate used for the liquidation estimate (Bybit's first tier: 0.5 %). */
  readonly maintenanceMarginRate: number;
}

export const DEFAULT_SIZING_CONFIG: SizingConfig = {
  riskFraction: 0.01,
  maxLeverage: 10,
  volatilityBudgetFraction: 0.3,
  liquidationBufferFraction: 0.01,
  maintenanceMarginRate: 0.005,
};

/** One trade's risk budget in USDT: `riskFraction × equity`. */
export function riskBudgetUsd(equityUsd: number, config: Pick<SizingConfig, 'riskFraction'> = DEFAULT_SIZING_CONFIG): number {
  return equityUsd > 0 ? equityUsd * config.riskFraction : 0;
}

/**
 * Loss per unit of base coin if a position opened at `entryPrice` is stopped at `stopPrice`: the adverse
 * move plus the entry fee and the stop's (taker) exit fee. Positive when the stop is on the losing side.
 */
export function lossPerUnitAtStop(direction: SignalDirection, entryPrice: number, stopPrice: number, entryFeeRate: number, exitFeeRate: number): number {
  const move = direction === 'LONG' ? entryPrice - stopPrice : stopPrice - entryPrice;
  return move + entryFeeRate * entryPrice + exitFeeRate * stopPrice;
}

/**
 * Leverage for a position whose worst entry is `stopDistanceFraction` from its stop: the smallest of the
 * configured cap, the instrument's cap, the volatility cap, and the largest leverage whose liquidation price
 * (isolated: 1/L − mmr from entry) stays `liquidationBufferFraction` beyond the stop. Whole number, at least 1.
 * `volatilityFraction` undefined (no history yet) skips the volatility cap.
 */
export function leverageFor(
  stopDistanceFraction: number,
  volatilityFraction: number | undefined,
  rules: Pick<InstrumentRules, 'maxLeverage'>,
  config: SizingConfig = DEFAULT_SIZING_CONFIG,
): number {
  const byLiquidation = 1 / (stopDistanceFraction + config.maintenanceMarginRate + config.liquidationBufferFraction);
  const byVolatility = volatilityFraction !== undefined && volatilityFraction > 0 ? config.volatilityBudgetFraction / volatilityFraction : Infinity;
  const raw = Math.min(config.maxLeverage, rules.maxLeverage, byLiquidation, byVolatility);
  // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 at 3.
  return Math.max(1, Math.floor(raw + 1e-9));
}

/**
 * Estimated isolated-margin liquidation price: the price where the loss eats the initial margin down to the
 * maintenance margin. LONG: entry × (1 − 1/L + mmr); SHORT: entry × (1 + 1/L − mmr).
 */
export function liquidationPrice(direction: SignalDirection, avgEntryPrice: number, leverage: number, maintenanceMarginRate: number): number {
  return direction === 'LONG' ? avgEntryPrice * (1 - 1 / leverage + maintenanceMarginRate) : avgEntryPrice * (1 + 1 / leverage - maintenanceMarginRate);
}

export interface SingleEntrySize {
  readonly qty: number;
  readonly lossAtStopUsd: number;
  readonly marginUsd: number;
  /** True when free margin, not the risk budget, limited the size. */
  readonly marginLimited: boolean;
}

/**
 * Quantity for one entry so that the loss at the stop, fees included, is at most `budgetUsd`, also capped so
 * the initial margin (plus the entry fee) fits `freeMarginUsd`. Rounded down onto the lot grid; refused with
 * `QTY_BELOW_MIN` when that leaves less than the instrument's minimum.
 */
export function sizeSingleEntry(args: {
  readonly direction: SignalDirection;
  readonly entryPrice: number;
  readonly stopPrice: number;
  readonly budgetUsd: number;
  readonly freeMarginUsd: number;
  readonly leverage: number;
  readonly entryFeeRate: number;
  readonly exitFeeRate: number;
  readonly rules: Pick<InstrumentRules, 'qtyStep' | 'minOrderQty'>;
}): SingleEntrySize | Refusal {
  const perUnit = lossPerUnitAtStop(args.direction, args.entryPrice, args.stopPrice, args.entryFeeRate, args.exitFeeRate);
  if (!(perUnit > 0)) return refuse('STOP_NOT_BEYOND_ENTRY', `stop ${args.stopPrice} is not on the losing side of entry ${args.entryPrice}`);
  const byRisk = args.budgetUsd / perUnit;
  const byMargin = args.freeMarginUsd / (args.entryPrice * (1 / args.leverage + args.entryFeeRate));
  const qty = roundQtyDown(Math.min(byRisk, byMargin), args.rules);
  if (qty === 0) {
    return refuse('QTY_BELOW_MIN', `risk budget ${args.budgetUsd.toFixed(2)} USDT buys ${Math.min(byRisk, byMargin)} < min order qty ${args.rules.minOrderQty}`);
  }
  return { qty, lossAtStopUsd: qty * perUnit, marginUsd: (qty * args.entryPrice) / args.leverage, marginLimited: byMargin < byRisk };
}
