import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cluster } from './clusters.js';
import { ClusterOutcomeTracker, rangeHorizonMs, type ClusterOutcome, type EvaluatedRange } from './cluster-outcomes.js';
import type { HeatmapRange } from './heatmap.js';
import { assessImbalance, DEFAULT_IMBALANCE_CONFIG } from './imbalance.js';
import { DEFAULT_RELIABLE_RANGE_CONFIG, learnedRangeWeights, RangeHitRates, reliableRanges, type RangeHitRate } from './range-hit-rates.js';

const HOUR = 3_600_000;
const RANGES: HeatmapRange[] = ['12h', '24h', '3d', '7d'];

type Step = { kind: 'eval'; ranges: EvaluatedRange[] } | { kind: 'price'; price: number };

const clusterArb = fc.record({ centre: fc.integer({ min: 80, max: 120 }), half: fc.integer({ min: 0, max: 3 }), usd: fc.integer({ min: 1, max: 100 }) });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ range: fc.constantFrom(...RANGES), cs: fc.array(clusterArb, { maxLength: 4 }) }).map(({ range, cs }) => ({
    kind: 'eval' as const,
    ranges: [{ range, source: 'estimate' as const, clusters: cs.map((c): Cluster => ({ low: c.centre - c.half, high: c.centre + c.half, centre: c.centre, usd: c.usd, levelCount: 1, side: c.centre > 100 ? 'short' : 'long' })) }],
  })),
  fc.integer({ min: 78, max: 122 }).map((price) => ({ kind: 'price' as const, price })),
);
const runArb = fc.array(fc.tuple(stepArb, fc.integer({ min: 0, max: 10 }).map((h) => h * HOUR)), { maxLength: 80 });

/** The specification, by linear scans: same-cluster rule, expiry strictly before a price's time, then hits. */
function naive(steps: readonly (readonly [Step, number])[]): ClusterOutcome[] {
  const open: { o: Omit<ClusterOutcome, 'outcome' | 'resolvedAtMs'>; above: boolean }[] = [];
  const out: ClusterOutcome[] = [];
  let t = 0;
  let price = 100;
  for (const [step, dt] of steps) {
    t += dt;
    if (step.kind === 'eval') {
      for (const r of step.ranges) {
        for (const c of r.clusters) {
          const same = open.some((f) => f.o.range === r.range && f.o.side === c.side && ((c.centre >= f.o.priceLow && c.centre <= f.o.priceHigh) || (f.o.centerPrice >= c.low && f.o.centerPrice <= c.high)));
          if (same) continue;
          open.push({ above: c.centre > price, o: { kind: 'cluster-outcome', symbol: 'X', range: r.range, source: r.source, side: c.side, priceLow: c.low, priceHigh: c.high, centerPrice: c.centre, detectedAtMs: t, expiresAtMs: t + rangeHorizonMs(r.range) } });
        }
      }
      continue;
    }
    price = step.price;
    for (let i = open.length - 1; i >= 0; i--) {
      const f = open[i]!;
      if (f.o.expiresAtMs < t) out.push({ ...f.o, outcome: 'expired', resolvedAtMs: f.o.expiresAtMs });
      else if (f.above ? price >= f.o.centerPrice : price <= f.o.centerPrice) out.push({ ...f.o, outcome: 'hit', resolvedAtMs: t });
      else continue;
      open.splice(i, 1);
    }
  }
  return out;
}

const order = (a: ClusterOutcome, b: ClusterOutcome): number => a.resolvedAtMs - b.resolvedAtMs || a.detectedAtMs - b.detectedAtMs || a.range.localeCompare(b.range) || a.centerPrice - b.centerPrice;

function track(steps: readonly (readonly [Step, number])[], windowMs = 48 * HOUR): { outcomes: ClusterOutcome[]; tracker: ClusterOutcomeTracker; end: number } {
  const tracker = new ClusterOutcomeTracker('X', windowMs);
  const outcomes: ClusterOutcome[] = [];
  let t = 0;
  let price = 100;
  for (const [step, dt] of steps) {
    t += dt;
    if (step.kind === 'eval') tracker.follow(t, price, step.ranges);
    else {
      price = step.price;
      outcomes.push(...(tracker.onPrice(t, price) ?? []));
    }
  }
  return { outcomes, tracker, end: t };
}

describe('cluster outcomes', () => {
  it('horizon of each range is its own span', () => {
    expect(rangeHorizonMs('12h')).toBe(12 * HOUR);
    expect(rangeHorizonMs('3d')).toBe(72 * HOUR);
    expect(rangeHorizonMs('14d')).toBe(14 * 24 * HOUR);
    expect(rangeHorizonMs('1y')).toBe(365 * 24 * HOUR);
  });

  it('the heap tracker resolves exactly what a linear scan resolves', () => {
    fc.assert(
      fc.property(runArb, (steps) => {
        const { outcomes, tracker } = track(steps);
        const ref = naive(steps);
        expect([...outcomes].sort(order)).toEqual([...ref].sort(order));
        // Everything followed is either resolved or still open.
        expect(tracker.openCount).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('the rolling hit rate per range equals counting the outcomes in the window', () => {
    fc.assert(
      fc.property(runArb, fc.integer({ min: 1, max: 40 }), (steps, windowHours) => {
        const windowMs = windowHours * HOUR;
        const { outcomes, tracker, end } = track(steps, windowMs);
        const got = tracker.rates.rates(end);
        const expected: RangeHitRate[] = [];
        for (const range of ['12h', '24h', '3d', '7d', '14d', '30d', '90d', '180d', '1y'] as const) {
          const inWindow = outcomes.filter((o) => o.range === range && o.resolvedAtMs > end - windowMs && o.resolvedAtMs <= end);
          if (inWindow.length === 0) continue;
          const hits = inWindow.filter((o) => o.outcome === 'hit').length;
          expected.push({ range, hits, expired: inWindow.length - hits, hitRate: hits / inWindow.length });
        }
        expect(got).toEqual(expected);
      }),
    );
  });

  it('a cluster is hit when the price reaches its centre, another expires after its horizon, a repeat is followed once', () => {
    const tracker = new ClusterOutcomeTracker('BTCUSDT', 30 * 24 * HOUR);
    const shortAbove: Cluster = { low: 104, high: 106, centre: 105, usd: 1e6, levelCount: 3, side: 'short' };
    const longBelow: Cluster = { low: 90, high: 92, centre: 91, usd: 1e6, levelCount: 3, side: 'long' };
    expect(tracker.follow(0, 100, [{ range: '12h', source: 'coinglass', clusters: [shortAbove, longBelow] }])).toBe(2);
    expect(tracker.follow(300_000, 100, [{ range: '12h', source: 'coinglass', clusters: [{ ...shortAbove, centre: 105.5 }] }])).toBe(0);
    expect(tracker.onPrice(HOUR, 104.99)).toBeUndefined();
    expect(tracker.onPrice(2 * HOUR, 105)).toMatchObject([{ outcome: 'hit', resolvedAtMs: 2 * HOUR, centerPrice: 105, side: 'short', detectedAtMs: 0 }]);
    expect(tracker.onPrice(12 * HOUR, 100)).toBeUndefined();
    expect(tracker.onPrice(12 * HOUR + 1, 80)).toMatchObject([{ outcome: 'expired', resolvedAtMs: 12 * HOUR, centerPrice: 91 }]);
    expect(tracker.rates.rates(13 * HOUR)).toEqual([{ range: '12h', hits: 1, expired: 1, hitRate: 0.5 }]);
  });
});

describe('reliable ranges and learned weights', () => {
  const rates: RangeHitRate[] = [
    { range: '7d', hits: 9, expired: 1, hitRate: 0.9 },
    { range: '14d', hits: 5, expired: 5, hitRate: 0.5 },
    { range: '30d', hits: 3, expired: 0, hitRate: 1 },
  ];

  it('reliable = enough outcomes and a rate at or above the threshold', () => {
    expect(reliableRanges(rates, DEFAULT_RELIABLE_RANGE_CONFIG)).toEqual(['7d']);
    expect(reliableRanges(rates, { minHitRate: 0.5, minOutcomes: 3 })).toEqual(['7d', '14d', '30d']);
  });

  it('learned weights: the hit rate when reliable, 0 when measured and unreliable, static when unmeasured', () => {
    expect(learnedRangeWeights(DEFAULT_IMBALANCE_CONFIG.weights, rates, DEFAULT_RELIABLE_RANGE_CONFIG)).toEqual({ '7d': 0.9, '14d': 0, '30d': 1 });
    expect(learnedRangeWeights(DEFAULT_IMBALANCE_CONFIG.weights, [], DEFAULT_RELIABLE_RANGE_CONFIG)).toEqual(DEFAULT_IMBALANCE_CONFIG.weights);
  });

  it('static and learned weights on the same books: the unreliable 14d book stops deciding the direction', () => {
    const c = (side: 'long' | 'short', usd: number, centre: number): Cluster => ({ low: centre, high: centre, centre, usd, levelCount: 1, side });
    const books = [
      { range: '7d' as const, clusters: [c('short', 100, 105), c('long', 60, 95)] },
      { range: '14d' as const, clusters: [c('long', 400, 93)] },
      { range: '30d' as const, clusters: [c('short', 150, 108), c('long', 50, 90)] },
    ];
    const fixed = assessImbalance(books, 100, DEFAULT_IMBALANCE_CONFIG);
    const learned = assessImbalance(books, 100, { ...DEFAULT_IMBALANCE_CONFIG, weights: learnedRangeWeights(DEFAULT_IMBALANCE_CONFIG.weights, rates, DEFAULT_RELIABLE_RANGE_CONFIG) });
    // Static: shorts 250 vs longs 510 → 0.329, SHORT. Learned: 0.9·100 + 150 = 240 vs 0.9·60 + 50 = 104 → 0.698, LONG.
    expect(fixed.imbalance).toBeCloseTo(250 / 760, 12);
    expect(fixed.direction).toBe('SHORT');
    expect(learned.imbalance).toBeCloseTo(240 / 344, 12);
    expect(learned.direction).toBe('LONG');
  });

  it('a window drops old outcomes', () => {
    const r = new RangeHitRates(10);
    r.record('7d', 1, true);
    r.record('7d', 5, false);
    expect(r.rates(10)).toEqual([{ range: '7d', hits: 1, expired: 1, hitRate: 0.5 }]);
    expect(r.rates(11)).toEqual([{ range: '7d', hits: 0, expired: 1, hitRate: 0 }]);
    r.record('7d', 1, true); // older than what the window let go: ignored
    r.record('7d', 4, true); // late but inside the window: counted
    expect(r.rates(12)).toEqual([{ range: '7d', hits: 1, expired: 1, hitRate: 0.5 }]);
  });

  it('outcomes recorded in any order (a restore after live ones) give the rates of the sorted sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 120 }), (xs, win, extra) => {
        const now = Math.max(0, ...xs.map(([t]) => t)) + extra;
        const shuffled = new RangeHitRates(win);
        for (const [t, hit] of xs) shuffled.record('3d', t, hit);
        const inWindow = xs.filter(([t]) => t > now - win && t <= now);
        const hits = inWindow.filter(([, h]) => h).length;
        expect(shuffled.rates(now)).toEqual(inWindow.length === 0 ? [] : [{ range: '3d', hits, expired: inWindow.length - hits, hitRate: hits / inWindow.length }]);
      }),
    );
  });
});
