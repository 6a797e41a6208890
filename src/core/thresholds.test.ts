import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHeatmapSnapshot } from './heatmap.js';
import {
  baseCoin,
  clusterPctOfTypical,
  significanceThresholdUsd,
  staticThresholdUsd,
  TypicalClusterSizes,
} from './thresholds.js';

const SEED = 0x7e5;
const DAY = 86_400_000;

describe('static thresholds', () => {
  it('follows the founder tiers and per-coin overrides', () => {
    expect(staticThresholdUsd('BTCUSDT', undefined)).toBe(100e6);
    expect(staticThresholdUsd('BTC', 2e12)).toBe(100e6);
    expect(staticThresholdUsd('ETHUSDT', 4e11)).toBe(2e9);
    expect(staticThresholdUsd('SOLUSDT', 60e9)).toBe(50e6);
    expect(staticThresholdUsd('XUSDT', 10e9)).toBe(20e6);
    expect(staticThresholdUsd('XUSDT', 1.5e9)).toBe(20e6);
    expect(staticThresholdUsd('XUSDT', 1e9)).toBe(10e6);
    expect(staticThresholdUsd('XUSDT', undefined)).toBe(10e6);
    expect(staticThresholdUsd('ETHUSDT', 4e11, { ETH: 300e6 })).toBe(300e6);
    expect(staticThresholdUsd('ETHUSDT', 4e11, { ETH: -1 })).toBe(2e9);
  });

  it('derives the base coin of linear symbols', () => {
    expect(baseCoin('BTCUSDT')).toBe('BTC');
    expect(baseCoin('ethperp')).toBe('ETH');
    expect(baseCoin('1000PEPEUSDT')).toBe('1000PEPE');
    expect(baseCoin('USDT')).toBe('USDT');
  });
});

describe('cluster % of typical', () => {
  it('reproduces the worked example: 239M vs 150M is 159 %', () => {
    const pct = clusterPctOfTypical(239e6, 150e6);
    expect(pct).toBeCloseTo(159.333, 3);
    expect(Math.round(pct)).toBe(159);
    expect(clusterPctOfTypical(239e6, undefined)).toBe(0);
    expect(clusterPctOfTypical(239e6, 0)).toBe(0);
  });
});

describe('TypicalClusterSizes', () => {
  it('is a time-weighted EWMA with the configured half-life', () => {
    const t = new TypicalClusterSizes({ halfLifeMs: DAY });
    expect(t.observe('BTCUSDT', '7d', 'estimate', 100e6, 0)).toBe(true);
    expect(t.get('BTC', '7d', 'estimate')).toEqual({ usd: 100e6, samples: 1, lastObservedAtMs: 0 });
    t.observe('BTCUSDT', '7d', 'estimate', 200e6, DAY);
    expect(t.get('BTCUSDT', '7d', 'estimate')?.usd).toBeCloseTo(150e6, 0);
    expect(t.observe('BTCUSDT', '7d', 'estimate', Number.NaN, 2 * DAY)).toBe(false);
    expect(t.observe('BTCUSDT', '7d', 'estimate', 0, 2 * DAY)).toBe(false);
    expect(t.get('BTCUSDT', '7d', 'estimate')?.samples).toBe(2);
    expect(t.get('BTCUSDT', '30d', 'estimate')).toBeUndefined();
    t.observe('ADAUSDT', '30d', 'estimate', 5e6, 0);
    expect(t.entries().map(([coin, range, source]) => `${coin}|${range}|${source}`)).toEqual(['ADA|30d|estimate', 'BTC|7d|estimate']);
    // Sources are kept apart: a CoinGlass observation does not move the own estimate's typical size.
    t.observe('BTCUSDT', '7d', 'coinglass', 900e6, DAY);
    expect(t.get('BTC', '7d', 'coinglass')).toEqual({ usd: 900e6, samples: 1, lastObservedAtMs: DAY });
    expect(t.get('BTC', '7d', 'estimate')?.samples).toBe(2);
    // A restore never rolls back a newer in-memory value.
    t.set('BTC', '7d', 'coinglass', { usd: 1, samples: 99, lastObservedAtMs: 0 });
    expect(t.get('BTC', '7d', 'coinglass')?.usd).toBe(900e6);
    t.set('BTC', '7d', 'coinglass', { usd: 5e8, samples: 99, lastObservedAtMs: 2 * DAY });
    expect(t.get('BTC', '7d', 'coinglass')?.usd).toBe(5e8);
  });

  it("by default keeps the founder's floor or the learned value, whichever is higher; `replace` is the old behaviour", () => {
    const t = new TypicalClusterSizes({ halfLifeMs: DAY });
    const max = { minSamples: 3, typicalFraction: 0.5, learned: 'max' as const };
    const replace = { ...max, learned: 'replace' as const };
    for (let i = 0; i < 2; i++) t.observe('ETHUSDT', '7d', 'estimate', 400e6, i * 60_000);
    expect(significanceThresholdUsd('ETHUSDT', 4e11, t.get('ETH', '7d', 'estimate'), {}, max)).toBe(2e9);
    t.observe('ETHUSDT', '7d', 'estimate', 400e6, 3 * 60_000);
    // Learned half-typical 200M is under ETH's 2B floor: the floor stands (it replaced it before).
    expect(significanceThresholdUsd('ETHUSDT', 4e11, t.get('ETH', '7d', 'estimate'), {}, max)).toBe(2e9);
    expect(significanceThresholdUsd('ETHUSDT', 4e11, t.get('ETH', '7d', 'estimate'), {}, replace)).toBe(200e6);
    expect(significanceThresholdUsd('ETHUSDT', 4e11, t.get('ETH', '7d', 'estimate'), { ETH: 1e9 }, max)).toBe(1e9);
    // A deep coin whose clusters are usually 300M: the learned 150M raises its 50M tier.
    for (let i = 0; i < 3; i++) t.observe('SOLUSDT', '7d', 'estimate', 300e6, i * 60_000);
    expect(significanceThresholdUsd('SOLUSDT', 60e9, t.get('SOL', '7d', 'estimate'), {}, max)).toBe(150e6);
    // BTC: learned 40M (half of 80M) never drops it under the founder's 100M.
    for (let i = 0; i < 3; i++) t.observe('BTCUSDT', '7d', 'estimate', 80e6, i * 60_000);
    expect(significanceThresholdUsd('BTCUSDT', undefined, t.get('BTC', '7d', 'estimate'), {}, max)).toBe(100e6);
    expect(significanceThresholdUsd('BTCUSDT', undefined, t.get('BTC', '7d', 'estimate'), {}, replace)).toBe(40e6);
  });

  it('learns the largest cluster of a snapshot', () => {
    const t = new TypicalClusterSizes();
    const { snapshot } = buildHeatmapSnapshot({
      symbol: 'SOLUSDT',
      range: '24h',
      source: 'estimate',
      refPrice: 100,
      fetchedAt: 5,
      levels: [
        { priceUsd: 101, usd: 3e6 },
        { priceUsd: 101.2, usd: 4e6 },
        { priceUsd: 90, usd: 6e6 },
      ],
    });
    expect(t.observeSnapshot(snapshot, { maxGapFraction: 0.005, minLevelUsd: 0 })).toBe(true);
    expect(t.get('SOL', '24h', 'estimate')?.usd).toBe(7e6);
  });

  it('property: the typical size stays within the range of what was observed', () => {
    console.log(`typical size bounds property seed=${SEED}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 0, max: 10 * DAY })), { minLength: 1, maxLength: 50 }),
        (obs) => {
          const t = new TypicalClusterSizes({ halfLifeMs: DAY });
          let at = 0;
          for (const [usd, dt] of obs) t.observe('X', '7d', 'estimate', usd, (at += dt));
          const typical = t.get('X', '7d', 'estimate')!;
          const sizes = obs.map(([usd]) => usd);
          expect(typical.usd).toBeGreaterThanOrEqual(Math.min(...sizes) * (1 - 1e-12));
          expect(typical.usd).toBeLessThanOrEqual(Math.max(...sizes) * (1 + 1e-12));
          expect(typical.samples).toBe(obs.length);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
