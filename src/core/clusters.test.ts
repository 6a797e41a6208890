import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectClusters, significantLevels } from './clusters.js';
import { buildHeatmapSnapshot, type RawHeatmapLevel } from './heatmap.js';

const SEED = 0xc105;

function levels(refPrice: number, raw: readonly RawHeatmapLevel[]) {
  return buildHeatmapSnapshot({ symbol: 'S', range: '7d', source: 'coinglass', refPrice, fetchedAt: 0, levels: raw }).snapshot.levels;
}

describe('detectClusters', () => {
  it('groups levels whose gap is at most the fraction of the reference price', () => {
    const ls = levels(1000, [
      { priceUsd: 1010, usd: 10 },
      { priceUsd: 1014, usd: 30 },
      { priceUsd: 1019, usd: 60 },
      { priceUsd: 1025, usd: 7 },
      { priceUsd: 990, usd: 4 },
    ]);
    const clusters = detectClusters(ls, 1000, { maxGapFraction: 0.005, minLevelUsd: 0 });
    expect(clusters).toEqual([
      { low: 990, high: 990, centre: 990, usd: 4, side: 'long', levelCount: 1 },
      { low: 1010, high: 1019, centre: (1010 * 10 + 1014 * 30 + 1019 * 60) / 100, usd: 100, side: 'short', levelCount: 3 },
      { low: 1025, high: 1025, centre: 1025, usd: 7, side: 'short', levelCount: 1 },
    ]);
  });

  it('never lets a cluster straddle the price, and ignores REALIZED and small levels', () => {
    const ls = levels(1000, [
      { priceUsd: 998, usd: 10 },
      { priceUsd: 1002, usd: 10 },
      { priceUsd: 1003, usd: 1 },
      { priceUsd: 1004, usd: 50, label: 'REALIZED', side: 'short' },
    ]);
    expect(significantLevels(ls, 5).map((l) => l.priceUsd)).toEqual([998, 1002]);
    const clusters = detectClusters(ls, 1000, { maxGapFraction: 0.01, minLevelUsd: 5 });
    expect(clusters.map((c) => [c.side, c.low, c.high, c.usd])).toEqual([
      ['long', 998, 998, 10],
      ['short', 1002, 1002, 10],
    ]);
  });

  it('property: clusters partition the significant levels and are maximal', () => {
    console.log(`clusters partition property seed=${SEED}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ priceUsd: fc.integer({ min: 800, max: 1200 }), usd: fc.integer({ min: 1, max: 1_000 }) }), { maxLength: 80 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 500 }),
        (raw, gapPermille, minLevelUsd) => {
          const refPrice = 1000;
          const config = { maxGapFraction: gapPermille / 1000, minLevelUsd };
          const ls = levels(refPrice, raw);
          const sig = significantLevels(ls, minLevelUsd);
          const clusters = detectClusters(ls, refPrice, config);
          // Each significant level is in exactly one cluster (same side, within [low, high]).
          const members = clusters.map(() => ({ usd: 0, count: 0 }));
          for (const l of sig) {
            const owners = clusters.flatMap((c, i) => (c.side === l.side && c.low <= l.priceUsd && l.priceUsd <= c.high ? [i] : []));
            expect(owners.length).toBe(1);
            members[owners[0]!]!.usd += l.usd;
            members[owners[0]!]!.count += 1;
          }
          clusters.forEach((c, i) => {
            expect(c.usd).toBe(members[i]!.usd);
            expect(c.levelCount).toBe(members[i]!.count);
            expect(c.low).toBeLessThanOrEqual(c.centre);
            expect(c.centre).toBeLessThanOrEqual(c.high);
            expect(c.side).toBe(c.low > refPrice ? 'short' : 'long');
            expect(c.side).toBe(c.high > refPrice ? 'short' : 'long');
            const next = clusters[i + 1];
            if (next !== undefined) {
              expect(next.low).toBeGreaterThan(c.high);
              if (next.side === c.side) expect(next.low - c.high).toBeGreaterThan(config.maxGapFraction * refPrice);
            }
          });
          expect(clusters.reduce((s, c) => s + c.levelCount, 0)).toBe(sig.length);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
