import { baseCoin } from '../core/thresholds.js';
import type { CoinMarket } from '../streams/coinglass-schemas.js';
import type { Config } from './config.js';

/** Plans whose key may call `coins-markets` (Standard and up, per CoinGlass's plan table). */
export const MARKET_CAP_PLANS: readonly Config['coinglassPlan'][] = ['standard', 'professional', 'enterprise'];

/**
 * Market cap per Bybit symbol from `coins-markets` rows keyed by coin. Bybit prefixes some coins with a
 * multiplier (`1000PEPEUSDT`, `10000SATSUSDT`, `1000000MOGUSDT`); CoinGlass lists them by the bare coin, so the
 * prefix is tried stripped when the full base is not found. Symbols without a market cap are left out.
 */
export function marketCapsBySymbol(markets: readonly CoinMarket[], symbols: readonly string[]): Map<string, number> {
  const byCoin = new Map<string, number>();
  for (const m of markets) if (m.marketCapUsd !== undefined) byCoin.set(m.coin, m.marketCapUsd);
  const out = new Map<string, number>();
  for (const symbol of symbols) {
    const base = baseCoin(symbol);
    const cap = byCoin.get(base) ?? byCoin.get(base.replace(/^10+(?=[A-Z])/, ''));
    if (cap !== undefined) out.set(symbol, cap);
  }
  return out;
}
