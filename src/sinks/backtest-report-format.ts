import type { BacktestMetric } from '../core/backtest-report-input.js';

/**
 * Number and time formatting for the report's tables. Display only: the exact numbers go into `data-value`
 * attributes next to these strings, so a script (or the browser test) never has to parse formatted text.
 */

const NON_FINITE = (v: number): string | undefined => (Number.isNaN(v) ? 'n/a' : v === Infinity ? '∞' : v === -Infinity ? '−∞' : undefined);

/** Fixed decimals with thin grouping of thousands; a minus sign that reads as one. */
export function formatFixed(value: number, decimals: number): string {
  const odd = NON_FINITE(value);
  if (odd !== undefined) return odd;
  const text = Math.abs(value).toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return value < 0 && Number(text.replace(/,/g, '')) !== 0 ? `−${text}` : text;
}

/** Decimals a price needs to show its moves: 2 for BTC-sized prices, more for sub-dollar coins. */
export function priceDecimals(price: number): number {
  const abs = Math.abs(price);
  if (!Number.isFinite(abs) || abs >= 1000) return 2;
  if (abs >= 1) return 4;
  if (abs === 0) return 2;
  // Four significant digits below 1 (0.01234 → 5 decimals), at most 10.
  return Math.min(10, 3 - Math.floor(Math.log10(abs)));
}

/** A quantity to six significant digits (160,862 coins of a meme coin, 0.0219798 BTC). */
export function formatQty(qty: number): string {
  const abs = Math.abs(qty);
  const decimals = !Number.isFinite(abs) || abs === 0 ? 0 : Math.max(0, Math.min(10, 5 - Math.floor(Math.log10(abs))));
  return formatFixed(qty, decimals);
}

export function formatPrice(price: number): string {
  return formatFixed(price, priceDecimals(price));
}

/** A metric with its unit: `71.43 %`, `1,234.56 USDT`, `2.10×`, `42`. */
export function formatMetric(metric: Pick<BacktestMetric, 'value' | 'unit'>): string {
  const { value, unit } = metric;
  switch (unit) {
    case '%':
      return `${formatFixed(value, 2)} %`;
    case 'USDT':
      return `${formatFixed(value, 2)} USDT`;
    case 'x':
      return `${formatFixed(value, 2)}×`;
    case 'count':
      return formatFixed(value, Number.isInteger(value) ? 0 : 2);
    default:
      return formatFixed(value, 3);
  }
}

/** Signed money for PnL cells: `+12.34` or `−5.00`. */
export function formatSigned(value: number, decimals = 2): string {
  const text = formatFixed(value, decimals);
  return value > 0 && Number.isFinite(value) ? `+${text}` : text;
}

/** UTC time to the minute, as the charts show it (`2026-03-01 14:05`). */
export function formatTime(tsMs: number): string {
  if (!Number.isFinite(tsMs)) return 'n/a';
  const d = new Date(tsMs);
  if (Number.isNaN(d.getTime())) return 'n/a';
  return d.toISOString().slice(0, 16).replace('T', ' ');
}
