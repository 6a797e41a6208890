import type { SignalDirection } from './trigger.js';

/**
 * Closing a trade (Process I): PnL in USDT and percent with every fee paid on the way in and out. Partial
 * fills at different prices are volume-weighted.
 */
export interface Fill {
  readonly priceUsd: number;
  readonly qty: number;
  readonly feeUsd: number;
}

export type ExitReason = 'TAKE_PROFIT' | 'STOP_LOSS' | 'TRAILING_STOP' | 'MANUAL' | 'LIQUIDATION' | 'REVERSAL';

export interface ClosedTradeResult {
  readonly qty: number;
  readonly avgEntryPrice: number;
  readonly avgExitPrice: number;
  readonly grossPnlUsd: number;
  readonly feesUsd: number;
  /** Net of all fees. */
  readonly pnlUsd: number;
  /** Net PnL over the entry notional, in percent (the `trades.pnl_pct` column). */
  readonly pnlPct: number;
  /** Net PnL over the initial margin (notional ÷ leverage), in percent: what the trailing ladder measures. */
  readonly roePct: number;
  /** Net PnL > 0: the trade counts as a success for pattern learning. */
  readonly success: boolean;
}

function vwap(fills: readonly Fill[]): { qty: number; price: number; fees: number } {
  let qty = 0;
  let notional = 0;
  let fees = 0;
  for (const f of fills) {
    qty += f.qty;
    notional += f.qty * f.priceUsd;
    fees += f.feeUsd;
  }
  return { qty, price: qty > 0 ? notional / qty : NaN, fees };
}

/**
 * Result of a closed trade from its entry and exit fills. Throws when exit quantity differs from entry
 * quantity beyond float noise (a broken invariant, not a business case: a trade is closed only when flat).
 */
export function closeTrade(direction: SignalDirection, entries: readonly Fill[], exits: readonly Fill[], leverage: number): ClosedTradeResult {
  const inn = vwap(entries);
  const out = vwap(exits);
  if (!(inn.qty > 0) || Math.abs(inn.qty - out.qty) > 1e-9 * Math.max(1, inn.qty)) throw new Error(`closeTrade: entry qty ${inn.qty} ≠ exit qty ${out.qty}`);
  const gross = direction === 'LONG' ? (out.price - inn.price) * inn.qty : (inn.price - out.price) * inn.qty;
  const fees = inn.fees + out.fees;
  const pnlUsd = gross - fees;
  const notional = inn.price * inn.qty;
  return {
    qty: inn.qty,
    avgEntryPrice: inn.price,
    avgExitPrice: out.price,
    grossPnlUsd: gross,
    feesUsd: fees,
    pnlUsd,
    pnlPct: (pnlUsd / notional) * 100,
    roePct: (pnlUsd / (notional / leverage)) * 100,
    success: pnlUsd > 0,
  };
}
