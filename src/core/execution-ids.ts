import type { InstrumentRules } from './instrument-rounding.js';

/**
 * Stable identifiers for execution. The signal id is the one the `signals` row carries (symbol + receipt time),
 * so a trade, its orders and its signal join. Client order ids (`orderLinkId`, Bybit: ≤ 36 characters, unique
 * per account) derive from the signal id, the purpose and the rung, so a retried or replayed command produces
 * the same id and the venue refuses the duplicate instead of placing a second order.
 */
export function signalIdOf(symbol: string, tsInit: number): string {
  return `${symbol}-${Math.round(tsInit)}`;
}

/** Purpose letters: e = entry (rung), c = close, r = reversal entry (rung). */
export type OrderPurpose = 'e' | 'c' | 'r';

/** `e3-BTCUSDT-mbq2x0fk`: purpose+rung, symbol (cut to 20), receipt time in base 36; never over 36 chars. */
export function orderLinkIdFor(symbol: string, tsInit: number, purpose: OrderPurpose, rung: number): string {
  return `${purpose}${rung}-${symbol.slice(0, 20)}-${Math.round(tsInit).toString(36)}`.slice(0, 36);
}

/**
 * Instrument filters when `instruments-info` is not available (replay of a tape without it, tests): a tick of
 * five significant digits of the price, a lot worth about 1 USDT at most, leverage up to 25×. Live trading
 * uses the exchange's filters.
 */
export function fallbackInstrumentRules(symbol: string, priceUsd: number): InstrumentRules {
  const tickSize = 10 ** (Math.floor(Math.log10(priceUsd)) - 4);
  const qtyStep = 10 ** Math.floor(Math.log10(1 / priceUsd));
  return { symbol, tickSize: Number(tickSize.toPrecision(1)), qtyStep: Number(qtyStep.toPrecision(1)), minOrderQty: Number(qtyStep.toPrecision(1)), maxLeverage: 25 };
}
