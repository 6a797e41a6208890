import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHeatmapSnapshot, HEATMAP_RANGE_MS, HEATMAP_RANGES, heatmapAgeMs, inferSide, parseHeatmapRange } from './heatmap.js';

const SEED = 0x4ea7;

describe('heatmap ranges', () => {
  it('parses every canonical range and maps 2w to 14d', () => {
    for (const r of HEATMAP_RANGES) expect(parseHeatmapRange(r)).toBe(r);
    expect(parseHeatmapRange('2w')).toBe('14d');
    expect(parseHeatmapRange(' 2W ')).toBe('14d');
    expect(parseHeatmapRange('48h')).toBeUndefined();
    expect(parseHeatmapRange('')).toBeUndefined();
  });

  it('orders ranges by length', () => {
    const lengths = HEATMAP_RANGES.map((r) => HEATMAP_RANGE_MS[r]);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(HEATMAP_RANGE_MS['14d']).toBe(14 * 86_400_000);
  });
});

describe('buildHeatmapSnapshot', () => {
  it('infers sides against the reference, sorts, labels and counts dropped levels', () => {
    const { snapshot, droppedLevelCount } = buildHeatmapSnapshot({
      symbol: 'BTCUSDT',
      range: '7d',
      source: 'coinglass',
      refPrice: 100,
      fetchedAt: 1_000,
      levels: [
        { priceUsd: 105, usd: 5e6 },
        { priceUsd: 95, usd: 3e6 },
        { priceUsd: 100, usd: 9e6 },
        { priceUsd: Number.NaN, usd: 1 },
        { priceUsd: 90, usd: 0 },
        { priceUsd: 91, usd: -4 },
        { priceUsd: 102, usd: 2e6, label: 'REALIZED', side: 'long' },
      ],
    });
    expect(droppedLevelCount).toBe(4);
    expect(snapshot.levels).toEqual([
      { priceUsd: 95, usd: 3e6, side: 'long', label: 'ESTIMATED' },
      { priceUsd: 102, usd: 2e6, side: 'long', label: 'REALIZED' },
      { priceUsd: 105, usd: 5e6, side: 'short', label: 'ESTIMATED' },
    ]);
    expect(snapshot.source).toBe('coinglass');
    expect(heatmapAgeMs(snapshot, 61_000)).toBe(60_000);
    expect(heatmapAgeMs(snapshot, 0)).toBe(0);
  });

  it('rejects a broken reference price loudly', () => {
    const base = { symbol: 'X', range: '24h', source: 'estimate', fetchedAt: 0, levels: [] } as const;
    expect(() => buildHeatmapSnapshot({ ...base, refPrice: 0 })).toThrow(/refPrice/);
    expect(() => buildHeatmapSnapshot({ ...base, refPrice: Number.NaN })).toThrow(/refPrice/);
  });

  it('property: every ESTIMATED level is short above and long below the reference', () => {
    console.log(`heatmap side property seed=${SEED}`);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.record({ priceUsd: fc.integer({ min: 1, max: 20_000 }), usd: fc.integer({ min: -5, max: 1e9 }) }), { maxLength: 60 }),
        (refPrice, raw) => {
          const { snapshot, droppedLevelCount } = buildHeatmapSnapshot({ symbol: 'S', range: '3d', source: 'estimate', refPrice, fetchedAt: 0, levels: raw });
          expect(snapshot.levels.length + droppedLevelCount).toBe(raw.length);
          for (let i = 0; i < snapshot.levels.length; i++) {
            const l = snapshot.levels[i]!;
            expect(l.usd).toBeGreaterThan(0);
            expect(l.side).toBe(inferSide(l.priceUsd, refPrice));
            expect(l.side).toBe(l.priceUsd > refPrice ? 'short' : 'long');
            if (i > 0) expect(l.priceUsd).toBeGreaterThanOrEqual(snapshot.levels[i - 1]!.priceUsd);
          }
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
