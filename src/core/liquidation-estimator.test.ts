import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, LiquidationEstimator, type EstimatedLevel } from './liquidation-estimator.js';

const SEED = 0xe57;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function trades(tsEvent: number, buyUsd: number, sellUsd: number, price: number) {
  return { tsEvent, buyQty: buyUsd / price, sellQty: sellUsd / price, buyTurnoverUsd: buyUsd, sellTurnoverUsd: sellUsd, lastPrice: price };
}

/** Levels as [side, rounded price, usd] for readable comparisons. */
function table(levels: readonly EstimatedLevel[]): Array<[string, number, number]> {
  return levels.map((l) => [l.side, Math.round(l.priceUsd * 10) / 10, Math.round(l.usd)]);
}

/** Decay so slow that arithmetic checks a few seconds apart are exact to 1e-6. */
const NO_DECAY = { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, halfLifeMs: 1e18 };

/** 100 contracts of new OI at 100 USD after a baseline of 1000. */
function seeded(buyUsd: number, sellUsd: number, config = NO_DECAY): LiquidationEstimator {
  const e = new LiquidationEstimator('SOLUSDT', config);
  expect(e.onOpenInterest(0, 1000, 100)).toBe(true);
  e.onTrades(trades(500, buyUsd, sellUsd, 100));
  e.onOpenInterest(1000, 1100, 100);
  return e;
}

describe('LiquidationEstimator', () => {
  it('spreads new OI over leverage tiers at p×(1 − 1/L + mm) for longs and p×(1 + 1/L − mm) for shorts', () => {
    const e = seeded(7500, 2500);
    expect(table(e.exposureLevels(1000))).toEqual([
      ['long', 80.5, 2250],
      ['long', 90.5, 2250],
      ['long', 96.5, 1500],
      ['long', 98.5, 1125],
      ['long', 99.5, 375],
      ['short', 100.5, 125],
      ['short', 101.5, 375],
      ['short', 103.5, 500],
      ['short', 109.5, 750],
      ['short', 119.5, 750],
    ]);
    for (const l of e.exposureLevels(1000)) {
      const exact = [80.5, 90.5, 96.5, 98.5, 99.5, 100.5, 101.5, 103.5, 109.5, 119.5].find((p) => Math.abs(p - l.priceUsd) / p < 0.001);
      expect(exact).toBeDefined();
    }
  });

  it('treats the first OI reading as a baseline and uses 50/50 without trades', () => {
    const e = new LiquidationEstimator('X', NO_DECAY);
    e.onOpenInterest(0, 1000, 100);
    expect(e.exposureUsd(0)).toEqual({ longUsd: 0, shortUsd: 0 });
    e.onOpenInterest(1000, 1010, 100);
    const { longUsd, shortUsd } = e.exposureUsd(1000);
    expect(longUsd).toBeCloseTo(500, 6);
    expect(shortUsd).toBeCloseTo(500, 6);
    e.onOpenInterest(2000, 1020, 100, 1);
    expect(e.exposureUsd(2000).longUsd).toBeCloseTo(1500, 6);
  });

  it('scales exposure down proportionally on an OI decrease and clears it at zero OI', () => {
    const e = seeded(10_000, 0);
    expect(e.exposureUsd(1000).longUsd).toBeCloseTo(10_000, 6);
    e.onOpenInterest(2000, 550, 100);
    expect(e.exposureUsd(2000).longUsd).toBeCloseTo(5_000, 6);
    e.onOpenInterest(3000, 0, 100);
    expect(e.exposureUsd(3000).longUsd).toBe(0);
    expect(e.cohortCount).toBe(0);
  });

  it('regression: a long run of OI decreases with nothing tracked does not poison later exposure', () => {
    const e = new LiquidationEstimator('X', NO_DECAY);
    let oi = 1e200;
    e.onOpenInterest(0, oi, 100);
    for (let i = 1; i <= 40; i++) e.onOpenInterest(i, (oi *= 1e-10), 100);
    e.onOpenInterest(3000, oi + 10, 100, 1);
    expect(e.exposureUsd(3000).longUsd).toBeCloseTo(1000, 6);
  });

  it('decays older exposure with the half-life', () => {
    const e = seeded(10_000, 0, DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG);
    const half = DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG.halfLifeMs;
    expect(e.exposureUsd(1000 + half).longUsd).toBeCloseTo(5_000, 6);
    expect(e.exposureUsd(1000 + 2 * half).longUsd).toBeCloseTo(2_500, 6);
  });

  it('consumes levels crossed by price', () => {
    const e = seeded(5_000, 5_000);
    e.onPrice(96);
    e.onPrice(104);
    expect(table(e.exposureLevels(1000)).map(([s, p]) => `${s}@${p}`)).toEqual(['long@80.5', 'long@90.5', 'short@109.5', 'short@119.5']);
  });

  it('consumes estimated levels matched by realized liquidations, nearest first', () => {
    const e = seeded(10_000, 0);
    expect(e.onRealizedLiquidation({ tsEvent: 2000, side: 'long', price: 90.4, usd: 1_000 })).toBe(true);
    expect(table(e.exposureLevels(2000)).find(([, p]) => p === 90.5)?.[2]).toBe(2000);
    e.onRealizedLiquidation({ tsEvent: 2000, side: 'long', price: 90.5, usd: 1e9 });
    expect(table(e.exposureLevels(2000)).map(([, p]) => p)).toEqual([80.5, 96.5, 98.5, 99.5]);
    e.onRealizedLiquidation({ tsEvent: 2000, side: 'short', price: 80.5, usd: 1e9 });
    expect(table(e.exposureLevels(2000)).map(([, p]) => p)).toEqual([80.5, 96.5, 98.5, 99.5]);
    expect(e.onRealizedLiquidation({ tsEvent: 2000, side: 'long', price: Number.NaN, usd: 1 })).toBe(false);
  });

  it('snapshots by range with source estimate, ESTIMATED and REALIZED levels', () => {
    const e = new LiquidationEstimator('SOLUSDT');
    e.onOpenInterest(0, 1000, 100);
    e.onOpenInterest(1000, 1100, 100, 1);
    e.onOpenInterest(2 * DAY, 1200, 100, 0);
    e.onRealizedLiquidation({ tsEvent: 2 * DAY, side: 'short', price: 100.9, usd: 3 });
    const day = e.snapshot('24h', 2 * DAY + HOUR, 100);
    expect(day).toMatchObject({ symbol: 'SOLUSDT', range: '24h', source: 'estimate', refPrice: 100, fetchedAt: 2 * DAY + HOUR });
    expect(day.levels.filter((l) => l.label === 'ESTIMATED').every((l) => l.side === 'short' && l.priceUsd > 100)).toBe(true);
    expect(day.levels.filter((l) => l.label === 'REALIZED')).toEqual([{ priceUsd: 100.9, usd: 3, side: 'short', label: 'REALIZED' }]);
    const threeDays = e.snapshot('3d', 2 * DAY + HOUR, 100);
    expect(threeDays.levels.filter((l) => l.side === 'long' && l.label === 'ESTIMATED')).toHaveLength(5);
    expect(threeDays.levels.filter((l) => l.side === 'short' && l.label === 'ESTIMATED')).toHaveLength(5);
    // A reference price above some long levels leaves them out instead of mislabelling them as shorts.
    const high = e.snapshot('3d', 2 * DAY + HOUR, 97);
    expect(high.levels.filter((l) => l.label === 'ESTIMATED' && l.side === 'short').every((l) => l.priceUsd > 100)).toBe(true);
  });

  it('rejects unusable input and keeps memory bounded', () => {
    const e = new LiquidationEstimator('X', { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, maxCohorts: 64 });
    expect(e.onOpenInterest(0, Number.NaN, 100)).toBe(false);
    expect(e.onOpenInterest(0, 10, 0)).toBe(false);
    expect(e.onOpenInterest(0, -1, 100)).toBe(false);
    let oi = 1000;
    for (let i = 0; i < 2000; i++) {
      const price = 100 + 20 * Math.sin(i / 7);
      e.onOpenInterest(i * 60_000, (oi += 1 + (i % 5)), price);
      expect(e.cohortCount).toBeLessThanOrEqual(64);
    }
    expect(e.cohortCount).toBeGreaterThan(0);
    expect(() => new LiquidationEstimator('X', { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, leverageTiers: [{ leverage: 500, weight: 1 }] })).toThrow(/liquidatable/);
  });

  type Op =
    | { kind: 'oi'; dtMs: number; qty: number; price: number; share: number | undefined }
    | { kind: 'trade'; dtMs: number; buyUsd: number; sellUsd: number; price: number }
    | { kind: 'price'; price: number }
    | { kind: 'liq'; side: 'long' | 'short'; price: number; usd: number };

  const priceArb = fc.integer({ min: 5_000, max: 15_000 }).map((c) => c / 100);
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('oi' as const), dtMs: fc.integer({ min: 0, max: 6 * HOUR }), qty: fc.integer({ min: 0, max: 5000 }), price: priceArb, share: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }),
    fc.record({ kind: fc.constant('trade' as const), dtMs: fc.integer({ min: 0, max: HOUR }), buyUsd: fc.integer({ min: 0, max: 1e6 }), sellUsd: fc.integer({ min: 0, max: 1e6 }), price: priceArb }),
    fc.record({ kind: fc.constant('price' as const), price: priceArb }),
    fc.record({ kind: fc.constant('liq' as const), side: fc.constantFrom('long' as const, 'short' as const), price: priceArb, usd: fc.integer({ min: 1, max: 1e6 }) }),
  );

  function run(ops: readonly Op[], check: (e: LiquidationEstimator, t: number, crossedAt: number | undefined) => void): LiquidationEstimator {
    const e = new LiquidationEstimator('P', { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, maxCohorts: 128, halfLifeMs: DAY });
    let t = 0;
    for (const op of ops) {
      let crossedAt: number | undefined;
      if (op.kind === 'oi') {
        t += op.dtMs;
        e.onOpenInterest(t, op.qty, op.price, op.share);
        crossedAt = op.price;
      } else if (op.kind === 'trade') {
        t += op.dtMs;
        e.onTrades(trades(t, op.buyUsd, op.sellUsd, op.price));
        crossedAt = op.price;
      } else if (op.kind === 'price') {
        e.onPrice(op.price);
        crossedAt = op.price;
      } else {
        e.onRealizedLiquidation({ tsEvent: t, side: op.side, price: op.price, usd: op.usd });
      }
      check(e, t, crossedAt);
    }
    return e;
  }

  it('property: exposure never goes negative, crossed levels disappear, memory stays bounded', () => {
    console.log(`estimator invariants property seed=${SEED}`);
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        run(ops, (e, t, crossedAt) => {
          expect(e.cohortCount).toBeLessThanOrEqual(128);
          for (const l of e.exposureLevels(t)) {
            expect(Number.isFinite(l.usd)).toBe(true);
            expect(l.usd).toBeGreaterThan(0);
            if (crossedAt !== undefined) {
              if (l.side === 'long') expect(l.priceUsd).toBeLessThan(crossedAt);
              else expect(l.priceUsd).toBeGreaterThan(crossedAt);
            }
          }
          const { longUsd, shortUsd } = e.exposureUsd(t);
          expect(longUsd).toBeGreaterThanOrEqual(0);
          expect(shortUsd).toBeGreaterThanOrEqual(0);
        });
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('property: the same inputs give the same snapshot (replay determinism)', () => {
    console.log(`estimator determinism property seed=${SEED + 1}`);
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), priceArb, (ops, ref) => {
        const a = run(ops, () => undefined);
        const b = run(ops, () => undefined);
        expect(JSON.stringify(b.snapshot('30d', 40 * DAY, ref))).toBe(JSON.stringify(a.snapshot('30d', 40 * DAY, ref)));
      }),
      { seed: SEED + 1, numRuns: 100 },
    );
  });
});
