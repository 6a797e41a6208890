import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHeatmapSnapshot, levelsAtPrice } from './heatmap.js';
import { DEFAULT_EVALUATION_CONFIG, evaluateCoin } from './ranking.js';

const NOW = 1_700_000_000_000;
const SEED = 0x5c1de;

/** A CoinGlass snapshot fetched 4 minutes ago at 100; the price has since risen to 102, past the level at 101. */
function staleSnapshot() {
  return buildHeatmapSnapshot({
    symbol: 'XUSDT',
    range: '7d',
    source: 'coinglass',
    refPrice: 100,
    fetchedAt: NOW - 4 * 60_000,
    levels: [
      { priceUsd: 94, usd: 20e6 },
      { priceUsd: 101, usd: 60e6 }, // above the snapshot's price, below the price now
      { priceUsd: 106, usd: 40e6 },
    ],
  }).snapshot;
}

const evalAt = (refPrice: number) =>
  evaluateCoin(
    { symbol: 'XUSDT', snapshots: [staleSnapshot()], refPrice, nowMs: NOW, marketCapUsd: undefined, typicalSize: () => undefined, successRate: 0.5 },
    { ...DEFAULT_EVALUATION_CONFIG, overridesUsd: { X: 10e6 } },
  );

describe('levels are classified against the price at evaluation', () => {
  it('a level between the snapshot price and the current price changes side', () => {
    const snapshot = staleSnapshot();
    expect(snapshot.levels.find((l) => l.priceUsd === 101)?.side).toBe('short');
    // At the snapshot's own price it would read 100M shorts above vs 20M longs below: LONG toward 101.
    const then = evalAt(100);
    expect(then.direction).toBe('LONG');
    expect(then.target).toMatchObject({ side: 'short', low: 101, usd: 60e6 });
    // At 102 the 101 level is below the price: 80M longs below vs 40M shorts above → 1/3, SHORT toward 101.
    const now = evalAt(102);
    expect(now.ranges[0]).toMatchObject({ shortsAboveUsd: 40e6, longsBelowUsd: 80e6, ageMs: 240_000 });
    expect(now.imbalance).toBeCloseTo(1 / 3, 12);
    expect(now.direction).toBe('SHORT');
    expect(now.target).toMatchObject({ side: 'long', low: 101, usd: 60e6 });
    expect(now.opposite).toMatchObject({ side: 'short', low: 106 });
  });

  it('a level exactly at the current price has no side and is left out', () => {
    const a = evalAt(101);
    expect(a.ranges[0]).toMatchObject({ shortsAboveUsd: 40e6, longsBelowUsd: 20e6 });
  });

  it('property: after re-classification every ESTIMATED level is short above and long below the price; unchanged input is returned as is', () => {
    console.log(`levelsAtPrice property seed=${SEED}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ priceUsd: fc.integer({ min: 90, max: 110 }), usd: fc.integer({ min: 1, max: 100 }) }), { maxLength: 30 }),
        fc.integer({ min: 90, max: 110 }),
        fc.integer({ min: 90, max: 110 }),
        (raw, snapPrice, nowPrice) => {
          const { snapshot } = buildHeatmapSnapshot({ symbol: 'X', range: '7d', source: 'coinglass', refPrice: snapPrice + 0.5, fetchedAt: 0, levels: raw });
          const out = levelsAtPrice(snapshot.levels, nowPrice);
          for (const l of out) expect(l.side).toBe(l.priceUsd > nowPrice ? 'short' : 'long');
          expect(out.length).toBe(snapshot.levels.filter((l) => l.priceUsd !== nowPrice).length);
          if (snapshot.levels.every((l) => (l.priceUsd > nowPrice ? 'short' : l.priceUsd < nowPrice ? 'long' : 'none') === l.side)) expect(out).toBe(snapshot.levels);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
