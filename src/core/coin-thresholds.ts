import { baseCoin } from './thresholds.js';

/**
 * Where a coin's significance floor comes from, most authoritative first. An operator override (environment,
 * then the `coin_thresholds.override_usd` column) is used as is; otherwise the founder's tiers apply to the
 * best market-cap figure available: CoinGlass `coins-markets` (Standard plan and up), else a proxy from the
 * coin's Bybit open-interest value, else the lowest tier.
 */
export const THRESHOLD_SOURCES = ['override-env', 'override-db', 'founder-fixed', 'coinglass-market-cap', 'bybit-oi-proxy', 'default'] as const;
export type ThresholdSource = (typeof THRESHOLD_SOURCES)[number];

export interface CoinThreshold {
  /** The founder's floor for this coin (or the operator's figure), USD. */
  readonly floorUsd: number;
  readonly source: ThresholdSource;
  /** Market cap the tier was read from (CoinGlass, or the proxy's estimate); undefined for overrides and fixed coins. */
  readonly marketCapUsd: number | undefined;
  /** An operator figure: used exactly, never raised by the learned typical size. */
  readonly exact: boolean;
}

export interface CoinThresholdInputs {
  readonly envOverrideUsd?: number | undefined;
  readonly dbOverrideUsd?: number | undefined;
  /** From CoinGlass `coins-markets`. */
  readonly marketCapUsd?: number | undefined;
  /** The coin's Bybit `openInterestValue` (USD), the proxy when no market cap is known. */
  readonly oiValueUsd?: number | undefined;
}

/**
 * Bybit open-interest value as a share of market cap, for the proxy. CoinGlass's own `coins-markets` example
 * shows all-exchange OI at 3.3 % (BTC) and 9.3 % (ETH) of market cap, and Bybit carries roughly a fifth of
 * that, so Bybit OI ≈ 1–2 % of market cap for large coins and more for small, leveraged ones. Taking 2 % means
 * market cap ≈ 50 × Bybit OI value: tier "> $10B" from $200M of Bybit OI, "> $1B" from $20M. A coin with
 * unusually high leverage is placed in a higher tier than its true market cap (a stricter floor), never lower.
 */
export const BYBIT_OI_SHARE_OF_MARKET_CAP = 0.02;

/** Market cap estimated from Bybit OI value (see `BYBIT_OI_SHARE_OF_MARKET_CAP`). */
export function proxyMarketCapUsd(oiValueUsd: number): number {
  return oiValueUsd / BYBIT_OI_SHARE_OF_MARKET_CAP;
}

/** The founder's market-cap tiers: > $10B → $50M, > $1B → $20M, else $10M. */
export function marketCapTierUsd(marketCapUsd: number | undefined): number {
  const cap = marketCapUsd ?? 0;
  if (cap > 10e9) return 50e6;
  if (cap > 1e9) return 20e6;
  return 10e6;
}

const valid = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n > 0;

/** The coin's floor and where it came from (see the source order above). Pure. */
export function resolveCoinThreshold(symbolOrCoin: string, inputs: CoinThresholdInputs): CoinThreshold {
  const coin = baseCoin(symbolOrCoin);
  if (valid(inputs.envOverrideUsd)) return { floorUsd: inputs.envOverrideUsd, source: 'override-env', marketCapUsd: undefined, exact: true };
  if (valid(inputs.dbOverrideUsd)) return { floorUsd: inputs.dbOverrideUsd, source: 'override-db', marketCapUsd: undefined, exact: true };
  if (coin === 'BTC') return { floorUsd: 100e6, source: 'founder-fixed', marketCapUsd: inputs.marketCapUsd, exact: false };
  if (coin === 'ETH') return { floorUsd: 2e9, source: 'founder-fixed', marketCapUsd: inputs.marketCapUsd, exact: false };
  if (valid(inputs.marketCapUsd)) {
    return { floorUsd: marketCapTierUsd(inputs.marketCapUsd), source: 'coinglass-market-cap', marketCapUsd: inputs.marketCapUsd, exact: false };
  }
  if (valid(inputs.oiValueUsd)) {
    const cap = proxyMarketCapUsd(inputs.oiValueUsd);
    return { floorUsd: marketCapTierUsd(cap), source: 'bybit-oi-proxy', marketCapUsd: cap, exact: false };
  }
  return { floorUsd: 10e6, source: 'default', marketCapUsd: undefined, exact: false };
}
