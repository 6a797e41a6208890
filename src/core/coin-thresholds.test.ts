import { describe, expect, it } from 'vitest';
import { marketCapTierUsd, proxyMarketCapUsd, resolveCoinThreshold } from './coin-thresholds.js';

describe('coin thresholds', () => {
  it("maps market cap to the founder's tiers", () => {
    expect(marketCapTierUsd(60e9)).toBe(50e6);
    expect(marketCapTierUsd(10e9)).toBe(20e6);
    expect(marketCapTierUsd(1.5e9)).toBe(20e6);
    expect(marketCapTierUsd(1e9)).toBe(10e6);
    expect(marketCapTierUsd(undefined)).toBe(10e6);
  });

  it('takes the most authoritative source: env override, table override, BTC/ETH, CoinGlass market cap, Bybit OI proxy, default', () => {
    const all = { envOverrideUsd: 7e6, dbOverrideUsd: 8e6, marketCapUsd: 60e9, oiValueUsd: 1e6 };
    expect(resolveCoinThreshold('SOLUSDT', all)).toEqual({ floorUsd: 7e6, source: 'override-env', marketCapUsd: undefined, exact: true });
    expect(resolveCoinThreshold('SOLUSDT', { ...all, envOverrideUsd: undefined })).toMatchObject({ floorUsd: 8e6, source: 'override-db', exact: true });
    expect(resolveCoinThreshold('BTCUSDT', { marketCapUsd: 2e12 })).toMatchObject({ floorUsd: 100e6, source: 'founder-fixed', exact: false });
    expect(resolveCoinThreshold('ETHUSDT', {})).toMatchObject({ floorUsd: 2e9, source: 'founder-fixed' });
    expect(resolveCoinThreshold('SOLUSDT', { marketCapUsd: 60e9, oiValueUsd: 1e6 })).toEqual({
      floorUsd: 50e6, source: 'coinglass-market-cap', marketCapUsd: 60e9, exact: false,
    });
    // Proxy: market cap ≈ 50 × Bybit OI value. $250M of OI → ~$12.5B → > $10B tier; $25M → $1.25B; $5M → $250M.
    expect(proxyMarketCapUsd(250e6)).toBeCloseTo(12.5e9, 0);
    expect(resolveCoinThreshold('SOLUSDT', { oiValueUsd: 250e6 })).toMatchObject({ floorUsd: 50e6, source: 'bybit-oi-proxy' });
    expect(resolveCoinThreshold('XUSDT', { oiValueUsd: 25e6 })).toMatchObject({ floorUsd: 20e6, source: 'bybit-oi-proxy' });
    expect(resolveCoinThreshold('XUSDT', { oiValueUsd: 5e6 })).toMatchObject({ floorUsd: 10e6, source: 'bybit-oi-proxy' });
    expect(resolveCoinThreshold('XUSDT', { oiValueUsd: Number.NaN, dbOverrideUsd: -1 })).toEqual({ floorUsd: 10e6, source: 'default', marketCapUsd: undefined, exact: false });
  });
});
