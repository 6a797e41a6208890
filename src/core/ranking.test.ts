import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHeatmapSnapshot } from './heatmap.js';
import { evaluateCoin, rankCoins, type RankableCoin } from './ranking.js';
import { TypicalClusterSizes } from './thresholds.js';

const SEED = 0x7a4c;

describe('evaluateCoin', () => {
  it('reproduces the worked example end to end: 0.714, 159 %, success 0.85 → 100.4', () => {
    const nowMs = 1_700_000_000_000;
    const { snapshot } = buildHeatmapSnapshot({
      symbol: 'SOLUSDT',
      range: '7d',
      source: 'coinglass',
      refPrice: 100,
      fetchedAt: nowMs - 90_000,
      levels: [
        { priceUsd: 103, usd: 100e6 },
        { priceUsd: 103.2, usd: 139e6 }, // cluster 103–103.2: 239M, the target
        { priceUsd: 108, usd: 161e6 },
        { priceUsd: 112, usd: 100e6 },
        { priceUsd: 95, usd: 120e6 },
        { priceUsd: 90, usd: 80e6 },
        { priceUsd: 99, usd: 1e6 }, // below the 50M override: not significant
      ],
    });
    const typicals = new TypicalClusterSizes();
    typicals.set('SOL', '7d', 'coinglass', { usd: 150e6, samples: 100, lastObservedAtMs: nowMs });
    const a = evaluateCoin(
      {
        symbol: 'SOLUSDT',
        snapshots: [snapshot],
        refPrice: 100,
        nowMs,
        marketCapUsd: 60e9,
        typicalSize: (range, source) => typicals.get('SOL', range, source),
        successRate: 0.85,
      },
      {
        cluster: { maxGapFraction: 0.005, minLevelUsd: 0 },
        significance: { minSamples: 12, typicalFraction: 0.5, learned: 'max' },
        imbalance: { weights: { '7d': 1, '14d': 1, '30d': 1 }, longAbove: 0.65, shortBelow: 0.35, mode: 'sum' },
        overridesUsd: { SOL: 50e6 },
      },
    );
    expect(a.direction).toBe('LONG');
    expect(a.imbalance.toFixed(3)).toBe('0.714');
    expect(a.target).toMatchObject({ usd: 239e6, low: 103, high: 103.2, side: 'short', range: '7d' });
    expect(a.opposite).toMatchObject({ usd: 120e6, low: 95, side: 'long' });
    expect(Math.round(a.clusterPct)).toBe(159);
    expect(a.scoreBreakdown).toMatchObject({ imbalanceTerm: 35.7, clusterTerm: 47.7, successTerm: 17 });
    expect(a.score).toBe(100.4);
    expect(a.ranges[0]).toMatchObject({ range: '7d', thresholdUsd: 50e6, ageMs: 90_000, shortsAboveUsd: 500e6, longsBelowUsd: 200e6 });
    expect(a.heatmapFetchedAt).toEqual({ '7d': nowMs - 90_000 });
  });
});

describe('rankCoins', () => {
  it('sorts by score, breaks ties by symbol, arms only coins with a direction', () => {
    const coins: RankableCoin[] = [
      { symbol: 'BBB', score: 90, direction: 'LONG' },
      { symbol: 'AAA', score: 90, direction: 'SHORT' },
      { symbol: 'CCC', score: 95, direction: 'NONE' },
      { symbol: 'DDD', score: Number.NaN, direction: 'LONG' },
      { symbol: 'EEE', score: 10, direction: 'LONG' },
    ];
    const r = rankCoins(coins, { topN: 4, armedK: 2 });
    expect(r.ranked.map((c) => c.symbol)).toEqual(['CCC', 'AAA', 'BBB', 'EEE', 'DDD']);
    expect(r.top.map((c) => c.symbol)).toEqual(['CCC', 'AAA', 'BBB', 'EEE']);
    expect(r.armed.map((c) => c.symbol)).toEqual(['AAA', 'BBB']);
    expect(() => rankCoins([coins[0]!, coins[0]!])).toThrow(/duplicate/);
  });

  it('property: deterministic under any input order, top-K ⊆ top-N, sorted', () => {
    console.log(`ranking property seed=${SEED}`);
    const coinArb = fc.record({
      symbol: fc.string({ minLength: 1, maxLength: 4 }),
      score: fc.integer({ min: 0, max: 130 }),
      direction: fc.constantFrom('LONG' as const, 'SHORT' as const, 'NONE' as const),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(coinArb, { selector: (c) => c.symbol, maxLength: 40 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 15 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (coins, topN, armedK, keys) => {
          const shuffled = coins
            .map((c, i) => ({ c, k: keys[i] ?? i }))
            .sort((a, b) => a.k - b.k)
            .map(({ c }) => c);
          const a = rankCoins(coins, { topN, armedK });
          const b = rankCoins(shuffled, { topN, armedK });
          expect(b.ranked.map((c) => c.symbol)).toEqual(a.ranked.map((c) => c.symbol));
          expect(b.armed.map((c) => c.symbol)).toEqual(a.armed.map((c) => c.symbol));
          expect(a.top.length).toBe(Math.min(topN, coins.length));
          expect(a.armed.length).toBeLessThanOrEqual(Math.min(armedK, a.top.length));
          for (const c of a.armed) {
            expect(a.top).toContain(c);
            expect(c.direction).not.toBe('NONE');
          }
          for (let i = 1; i < a.ranked.length; i++) {
            const p = a.ranked[i - 1]!;
            const q = a.ranked[i]!;
            expect(p.score > q.score || (p.score === q.score && p.symbol < q.symbol)).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
