import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectClusters, type Cluster } from './clusters.js';
import { buildHeatmapSnapshot, type HeatmapRange, type RawHeatmapLevel } from './heatmap.js';
import { assessImbalance, DEFAULT_IMBALANCE_CONFIG, IMBALANCE_MODES, imbalanceOf, type ImbalanceConfig } from './imbalance.js';

const SEED = 0x1b1;
const REF = 10_000;
const RANGES: readonly HeatmapRange[] = ['12h', '24h', '7d', '14d', '30d'];

function cluster(side: 'long' | 'short', low: number, high: number, usd: number): Cluster {
  return { side, low, high, centre: (low + high) / 2, usd, levelCount: 1 };
}

/** Snapshot levels → clusters → significant (usd ≥ thresholdUsd) per range → assessment. */
function pipeline(byRange: ReadonlyMap<HeatmapRange, readonly RawHeatmapLevel[]>, thresholdUsd: number, config?: ImbalanceConfig) {
  const ranges = [...byRange].map(([range, raw]) => {
    const { snapshot } = buildHeatmapSnapshot({ symbol: 'S', range, source: 'coinglass', refPrice: REF, fetchedAt: 0, levels: raw });
    const clusters = detectClusters(snapshot.levels, REF, { maxGapFraction: 0.002, minLevelUsd: 0 }).filter((c) => c.usd >= thresholdUsd);
    return { range, clusters };
  });
  return assessImbalance(ranges, REF, config);
}

const levelArb = fc.record({ priceUsd: fc.integer({ min: REF - 800, max: REF + 800 }), usd: fc.integer({ min: 1, max: 1000 }) });
const bookArb = fc.dictionary(fc.constantFrom(...RANGES), fc.array(levelArb, { maxLength: 40 }), { maxKeys: RANGES.length });
const weightsArb = fc.record({ '12h': fc.integer({ min: 0, max: 3 }), '7d': fc.integer({ min: 0, max: 3 }), '14d': fc.integer({ min: 0, max: 3 }), '30d': fc.integer({ min: 0, max: 3 }) });

const modeArb = fc.constantFrom(...IMBALANCE_MODES);

/** Symmetric band pairs, including the founder's and the old engine's. */
const SYMMETRIC_BANDS: ReadonlyArray<readonly [number, number]> = [[0.5, 0.5], [0.55, 0.45], [0.6, 0.4], [0.65, 0.35], [0.75, 0.25]];

function toMap(book: Record<string, RawHeatmapLevel[]>): Map<HeatmapRange, RawHeatmapLevel[]> {
  return new Map(Object.entries(book) as Array<[HeatmapRange, RawHeatmapLevel[]]>);
}

describe('imbalance', () => {
  it('reproduces the worked example: 500M shorts above vs 200M longs below is 0.714', () => {
    expect(imbalanceOf(500e6, 200e6)).toBe(5 / 7);
    expect(imbalanceOf(500e6, 200e6).toFixed(3)).toBe('0.714');
    expect(imbalanceOf(0, 0)).toBe(0.5);
    const a = assessImbalance(
      [{ range: '7d', clusters: [cluster('short', 10_100, 10_200, 239e6), cluster('short', 10_500, 10_600, 261e6), cluster('long', 9_800, 9_900, 200e6)] }],
      REF,
    );
    expect(a.imbalance.toFixed(3)).toBe('0.714');
    expect(a.imbalance).toBeCloseTo(5 / 7, 12);
    expect(a.direction).toBe('LONG');
    expect(a.target).toMatchObject({ range: '7d', usd: 261e6, side: 'short' });
    expect(a.opposite).toMatchObject({ range: '7d', usd: 200e6, side: 'long' });
  });

  it('keeps 12h/24h in the breakdown but out of the signal by default', () => {
    const a = assessImbalance([{ range: '12h', clusters: [cluster('short', 10_100, 10_100, 9e9)] }], REF);
    expect(a.direction).toBe('NONE');
    expect(a.imbalance).toBe(0.5);
    expect(a.target).toBeUndefined();
    expect(a.perRange).toEqual([{ range: '12h', shortsAboveUsd: 9e9, longsBelowUsd: 0, imbalance: 1, weight: 0 }]);
  });

  it('mean mode weights ranges by their balance, not their dollars, and applies the bands', () => {
    const a = assessImbalance(
      [
        { range: '7d', clusters: [cluster('short', 10_100, 10_100, 3), cluster('long', 9_900, 9_900, 1)] },
        { range: '30d', clusters: [cluster('short', 10_100, 10_100, 1e9), cluster('long', 9_900, 9_900, 1e9)] },
      ],
      REF,
      { weights: { '7d': 1, '30d': 1 }, longAbove: 0.6, shortBelow: 0.4, mode: 'mean' },
    );
    expect(a.imbalance).toBeCloseTo(0.625, 12);
    expect(a.direction).toBe('LONG');
    const b = assessImbalance([{ range: '7d', clusters: [cluster('short', 10_100, 10_100, 52), cluster('long', 9_900, 9_900, 48)] }], REF);
    expect(b.direction).toBe('NONE');
    expect(b.target).toBeUndefined();
  });

  it("defaults to the founder's bands: LONG above 0.65, SHORT below 0.35; 0.55/0.45 remains a setting", () => {
    // 0.6 of the fuel above the price: a direction under the old bands, none under the founder's.
    const book = [{ range: '7d' as const, clusters: [cluster('short', 10_100, 10_100, 60e6), cluster('long', 9_900, 9_900, 40e6)] }];
    expect(assessImbalance(book, REF).imbalance).toBeCloseTo(0.6, 12);
    expect(assessImbalance(book, REF).direction).toBe('NONE');
    expect(assessImbalance(book, REF, { weights: { '7d': 1 }, longAbove: 0.55, shortBelow: 0.45, mode: 'sum' }).direction).toBe('LONG');
    // The worked example (0.714) is LONG under both; its mirror (0.286) is SHORT.
    const mirror = [{ range: '7d' as const, clusters: [cluster('short', 10_100, 10_100, 200e6), cluster('long', 9_900, 9_900, 500e6)] }];
    expect(assessImbalance(mirror, REF).direction).toBe('SHORT');
    const edge = [{ range: '7d' as const, clusters: [cluster('short', 10_100, 10_100, 65), cluster('long', 9_900, 9_900, 35)] }];
    expect(assessImbalance(edge, REF).direction).toBe('NONE'); // exactly 0.65 is not above 0.65
  });

  it('sum (default) and mean disagree on the same book: a big 30d pool outweighs a lopsided small 7d one only in sum', () => {
    // 7d: 9M shorts above vs 1M longs below (0.9). 30d: 100M shorts vs 200M longs (0.333). 14d: none.
    const book = [
      { range: '7d' as const, clusters: [cluster('short', 10_100, 10_100, 9e6), cluster('long', 9_900, 9_900, 1e6)] },
      { range: '30d' as const, clusters: [cluster('short', 10_300, 10_300, 100e6), cluster('long', 9_700, 9_700, 200e6)] },
    ];
    const sum = assessImbalance(book, REF);
    expect(sum.imbalance).toBeCloseTo(109 / 310, 12); // (9 + 100) / (10 + 300) = 0.352
    expect(sum.direction).toBe('NONE');
    const mean = assessImbalance(book, REF, { ...DEFAULT_IMBALANCE_CONFIG, mode: 'mean' });
    expect(mean.imbalance).toBeCloseTo((0.9 + 1 / 3) / 2, 12); // 0.617
    expect(mean.direction).toBe('NONE');
    // Weights scale dollars in sum mode: 7d weighted 40× turns the sum LONG ((360 + 100) / (400 + 300) = 0.657).
    const weighted = { ...DEFAULT_IMBALANCE_CONFIG, weights: { '7d': 40, '14d': 1, '30d': 1 } };
    expect(assessImbalance(book, REF, weighted).imbalance).toBeCloseTo(460 / 700, 12);
    expect(assessImbalance(book, REF, weighted).direction).toBe('LONG');
    expect(assessImbalance(book, REF, { ...weighted, mode: 'mean' }).imbalance).toBeCloseTo((40 * 0.8 - 1 / 3) / 41 / 2 + 0.5, 12);
    // The two can point opposite ways: shorts dominate the small ranges, longs the big one.
    const split = [
      { range: '7d' as const, clusters: [cluster('short', 10_100, 10_100, 19e6), cluster('long', 9_900, 9_900, 1e6)] },
      { range: '14d' as const, clusters: [cluster('short', 10_200, 10_200, 38e6), cluster('long', 9_800, 9_800, 2e6)] },
      { range: '30d' as const, clusters: [cluster('short', 10_300, 10_300, 30e6), cluster('long', 9_700, 9_700, 270e6)] },
    ];
    expect(assessImbalance(split, REF).imbalance).toBeCloseTo(87 / 360, 12); // 0.242
    expect(assessImbalance(split, REF).direction).toBe('SHORT');
    const splitMean = assessImbalance(split, REF, { ...DEFAULT_IMBALANCE_CONFIG, mode: 'mean' });
    expect(splitMean.imbalance).toBeCloseTo((0.95 + 0.95 + 0.1) / 3, 12); // 0.667
    expect(splitMean.direction).toBe('LONG');
  });

  it('property: imbalance is in [0, 1] and NONE without weighted clusters', () => {
    console.log(`imbalance bounds property seed=${SEED}`);
    fc.assert(
      fc.property(bookArb, weightsArb, fc.integer({ min: 0, max: 3000 }), modeArb, (book, weights, threshold, mode) => {
        const a = pipeline(toMap(book), threshold, { weights, longAbove: 0.55, shortBelow: 0.45, mode });
        expect(a.imbalance).toBeGreaterThanOrEqual(0);
        expect(a.imbalance).toBeLessThanOrEqual(1);
        const weighted = a.perRange.some((r) => r.weight > 0 && r.imbalance !== undefined);
        if (!weighted) expect(a.direction).toBe('NONE');
        if (a.direction === 'LONG') expect(a.target?.side).toBe('short');
        if (a.direction === 'SHORT') expect(a.target?.side).toBe('long');
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('property: mirroring prices around the reference and swapping sides mirrors the direction', () => {
    console.log(`imbalance mirror property seed=${SEED + 1}`);
    const mirrorDir = { LONG: 'SHORT', SHORT: 'LONG', NONE: 'NONE' } as const;
    fc.assert(
      fc.property(bookArb, weightsArb, fc.integer({ min: 0, max: 3000 }), fc.constantFrom(...SYMMETRIC_BANDS), modeArb, (book, weights, threshold, [longAbove, shortBelow], mode) => {
        const config = { weights, longAbove, shortBelow, mode };
        const a = pipeline(toMap(book), threshold, config);
        const mirrored = new Map([...toMap(book)].map(([r, ls]) => [r, ls.map((l) => ({ ...l, priceUsd: 2 * REF - l.priceUsd }))]));
        const b = pipeline(mirrored, threshold, config);
        expect(b.direction).toBe(mirrorDir[a.direction]);
        expect(b.imbalance).toBeCloseTo(1 - a.imbalance, 12);
        expect(b.target?.usd).toBe(a.target?.usd);
        expect(b.opposite?.usd).toBe(a.opposite?.usd);
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it('property: adding short exposure above the price never lowers imbalance', () => {
    console.log(`imbalance monotonicity property seed=${SEED + 2}`);
    fc.assert(
      fc.property(
        bookArb,
        weightsArb,
        fc.integer({ min: 0, max: 3000 }),
        fc.constantFrom(...RANGES),
        fc.integer({ min: REF + 1, max: REF + 800 }),
        fc.integer({ min: 1, max: 5000 }),
        modeArb,
        (book, weights, threshold, range, priceUsd, usd, mode) => {
          const config = { weights, longAbove: 0.55, shortBelow: 0.45, mode };
          const before = toMap(book);
          const after = toMap(book);
          after.set(range, [...(after.get(range) ?? []), { priceUsd, usd }]);
          const a = pipeline(before, threshold, config);
          const b = pipeline(after, threshold, config);
          expect(b.imbalance).toBeGreaterThanOrEqual(a.imbalance - 1e-12);
          if (a.direction === 'LONG') expect(b.direction).toBe('LONG');
        },
      ),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});
