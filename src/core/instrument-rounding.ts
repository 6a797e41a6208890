/**
 * Instrument filters from Bybit `instruments-info` (priceFilter.tickSize, lotSizeFilter.qtyStep/minOrderQty,
 * leverageFilter.maxLeverage) and exact rounding onto them. Prices and quantities are binary doubles, so
 * "round to 0.1" is done on the integer step count and printed back with the step's decimals: 113 680 × 0.98
 * is 113 679.99999999999 in floating point and must come out as 113 680.0, not 113 679.9.
 */
export interface InstrumentRules {
  readonly symbol: string;
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxLeverage: number;
}

export type RoundingMode = 'down' | 'up' | 'nearest';

/** Decimal places of a step such as 0.1, 0.0025 or 1e-7 (as Bybit prints it). */
export function stepDecimals(step: number): number {
  const text = String(step);
  const exp = /e-(\d+)$/.exec(text);
  if (exp !== null) {
    const mantissa = text.slice(0, exp.index);
    const dot = mantissa.indexOf('.');
    return Number(exp[1]) + (dot < 0 ? 0 : mantissa.length - dot - 1);
  }
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * `value` rounded to a multiple of `step`. A value within 1e-9 steps of a multiple is that multiple whatever
 * the mode (floating-point noise is not a real fraction of a tick). 'down'/'up' are toward −∞/+∞.
 */
export function roundToStep(value: number, step: number, mode: RoundingMode): number {
  if (!(step > 0) || !Number.isFinite(value)) throw new Error(`roundToStep: bad value ${value} or step ${step}`);
  const n = value / step;
  const r = Math.round(n);
  const k = Math.abs(n - r) <= 1e-9 * Math.max(1, Math.abs(n)) ? r : mode === 'down' ? Math.floor(n) : mode === 'up' ? Math.ceil(n) : r;
  return Number((k * step).toFixed(stepDecimals(step)));
}

/** A price on the tick grid. */
export function roundPrice(price: number, rules: Pick<InstrumentRules, 'tickSize'>, mode: RoundingMode): number {
  return roundToStep(price, rules.tickSize, mode);
}

/**
 * A quantity on the lot grid, always rounded down (a larger quantity would be a larger loss at the stop);
 * 0 when the result is below `minOrderQty` (the caller refuses or drops the order).
 */
export function roundQtyDown(qty: number, rules: Pick<InstrumentRules, 'qtyStep' | 'minOrderQty'>): number {
  if (!(qty > 0)) return 0;
  const q = roundToStep(qty, rules.qtyStep, 'down');
  return q >= rules.minOrderQty ? q : 0;
}
