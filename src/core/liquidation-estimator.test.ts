import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildHeatmapSnapshot,
  HEATMAP_RANGE_MS,
  type HeatmapRange,
  type HeatmapSnapshot,
  type LiquidationSide,
  type RawHeatmapLevel,
} from './heatmap.js';
import {
  DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG,
  LiquidationEstimator,
  type EstimatedLevel,
  type LiquidationEstimatorConfig,
  type RealizedFill,
  type TradeFlow,
} from './liquidation-estimator.js';

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

  type ModelOp = Op | { kind: 'gap'; dtMs: number } | { kind: 'read'; maxAgeMs: number; laterMs: number };

  /** Prices on a coarse grid around 100 so realized fills and price moves hit the levels entries create. */
  const gridPriceArb = fc.integer({ min: 160, max: 240 }).map((c) => c / 2);
  const modelOpArb: fc.Arbitrary<ModelOp> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('oi' as const), dtMs: fc.integer({ min: 0, max: 3 * HOUR }), qty: fc.integer({ min: 0, max: 3000 }), price: gridPriceArb, share: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }), weight: 6 },
    { arbitrary: fc.record({ kind: fc.constant('trade' as const), dtMs: fc.integer({ min: 0, max: HOUR }), buyUsd: fc.integer({ min: 0, max: 1e6 }), sellUsd: fc.integer({ min: 0, max: 1e6 }), price: gridPriceArb }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('price' as const), price: gridPriceArb }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('liq' as const), side: fc.constantFrom('long' as const, 'short' as const), price: fc.double({ min: 60, max: 140, noNaN: true }), usd: fc.integer({ min: 1, max: 2e5 }) }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('gap' as const), dtMs: fc.integer({ min: 0, max: 200 * HOUR }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('read' as const), maxAgeMs: fc.constantFrom(HOUR, 6 * HOUR, DAY), laterMs: fc.integer({ min: -HOUR, max: 10 * DAY }) }), weight: 1 },
  );
  const configArb = fc.record({
    maxCohorts: fc.constantFrom(16, 24, 128),
    halfLifeMs: fc.constantFrom(HOUR, DAY, 1e18),
    cohortMs: fc.constantFrom(1000, HOUR),
    minCohortUsd: fc.constantFrom(1, 500),
    maxRealized: fc.constantFrom(0, 3, 256),
    realizedMatchFraction: fc.constantFrom(0, 0.005, 0.02),
    /** Scales price moves around 100: calm runs keep far levels alive long enough to fill 128 cohorts. */
    spread: fc.constantFrom(1, 0.1, 0.02),
  });

  /** Exact comparison (JSON keeps every double's digits) that fails cheaply, so shrinking stays fast. */
  function same(label: string, actual: unknown, expected: unknown): void {
    const a = JSON.stringify(actual);
    const b = JSON.stringify(expected);
    if (a !== b) throw new Error(`${label} differs from the reference:\n  got      ${a.slice(0, 400)}\n  expected ${b.slice(0, 400)}`);
  }

  it('property: identical outputs to the reference (former object-based) model on random sequences', () => {
    console.log(`estimator reference-model property seed=${SEED + 2}`);
    fc.assert(
      fc.property(configArb, fc.array(modelOpArb, { minLength: 10, maxLength: 150, size: 'max' }), ({ spread, ...overrides }, rawOps) => {
        const config: LiquidationEstimatorConfig = { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, ...overrides };
        const ops = rawOps.map((op) => ('price' in op ? { ...op, price: 100 + (op.price - 100) * spread } : op));
        const e = new LiquidationEstimator('P', config);
        const ref = new ReferenceEstimator('P', config);
        let t = 0;
        ops.forEach((op, i) => {
          if (op.kind === 'oi') {
            t += op.dtMs;
            same(`oi #${i}`, e.onOpenInterest(t, op.qty, op.price, op.share), ref.onOpenInterest(t, op.qty, op.price, op.share));
          } else if (op.kind === 'trade') {
            t += op.dtMs;
            e.onTrades(trades(t, op.buyUsd, op.sellUsd, op.price));
            ref.onTrades(trades(t, op.buyUsd, op.sellUsd, op.price));
          } else if (op.kind === 'price') {
            e.onPrice(op.price);
            ref.onPrice(op.price);
          } else if (op.kind === 'liq') {
            const fill = { tsEvent: t, side: op.side, price: op.price, usd: op.usd };
            same(`liq #${i}`, e.onRealizedLiquidation(fill), ref.onRealizedLiquidation(fill));
          } else if (op.kind === 'gap') {
            t += op.dtMs;
          } else {
            const at = t + op.laterMs;
            same(`aged levels #${i}`, e.exposureLevels(at, op.maxAgeMs), ref.exposureLevels(at, op.maxAgeMs));
            same(`snapshot #${i}`, e.snapshot('24h', at, 100), ref.snapshot('24h', at, 100));
          }
          same(`cohortCount #${i}`, e.cohortCount, ref.cohortCount);
          same(`levels #${i}`, e.exposureLevels(t), ref.exposureLevels(t));
          same(`exposureUsd #${i}`, e.exposureUsd(t), ref.exposureUsd(t));
        });
        for (const range of ['12h', '3d', '30d'] as const) same(`final ${range}`, e.snapshot(range, t + HOUR, 100), ref.snapshot(range, t + HOUR, 100));
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('boundary: a price exactly at a level consumes it, in both the model and the reference', () => {
    const e = seeded(5_000, 5_000);
    const ref = new ReferenceEstimator('SOLUSDT', NO_DECAY);
    ref.onOpenInterest(0, 1000, 100);
    ref.onTrades(trades(500, 5_000, 5_000, 100));
    ref.onOpenInterest(1000, 1100, 100);
    const levels = e.exposureLevels(1000);
    const long = levels.filter((l) => l.side === 'long').at(-2);
    const short = levels.filter((l) => l.side === 'short').at(1);
    for (const price of [long?.priceUsd, short?.priceUsd]) {
      if (price === undefined) throw new Error('expected seeded levels');
      e.onPrice(price);
      ref.onPrice(price);
      same(`levels after price ${price}`, e.exposureLevels(1000), ref.exposureLevels(1000));
    }
    expect(e.exposureLevels(1000).map((l) => l.side)).toEqual(['long', 'long', 'long', 'short', 'short', 'short']);
  });

  it('matches the reference model through growth, eviction and renormalisation with the default 4096 cohorts', () => {
    const config = { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, halfLifeMs: 2 * HOUR };
    const e = new LiquidationEstimator('X', config);
    const ref = new ReferenceEstimator('X', config);
    let oi = 1000;
    let maxSeen = 0;
    let evictions = 0;
    for (let i = 0; i < 8000; i++) {
      const t = i * 5 * 60_000;
      const price = 100 * Math.exp(0.3 * Math.sin(i / 50) + 0.05 * Math.sin(i / 3));
      oi += i % 7 === 0 ? -5 : 3 + (i % 4);
      e.onOpenInterest(t, oi, price);
      ref.onOpenInterest(t, oi, price);
      if (i % 11 === 0) {
        const fill = { tsEvent: t, side: i % 2 === 0 ? ('long' as const) : ('short' as const), price: price * (i % 2 === 0 ? 0.95 : 1.05), usd: 5_000 };
        e.onRealizedLiquidation(fill);
        ref.onRealizedLiquidation(fill);
      }
      const before = maxSeen;
      maxSeen = Math.max(maxSeen, e.cohortCount);
      if (e.cohortCount < before - 500) evictions++;
      same(`cohortCount #${i}`, e.cohortCount, ref.cohortCount);
      if (i % 97 === 0) same(`levels #${i}`, e.exposureLevels(t), ref.exposureLevels(t));
    }
    same('final levels', e.exposureLevels(8000 * 5 * 60_000), ref.exposureLevels(8000 * 5 * 60_000));
    expect(maxSeen).toBeGreaterThan(4000);
    expect(evictions).toBeGreaterThan(0);
  });
});

/*
 * The former object-based model (cohort and bucket objects, two Maps, per-side arrays), kept verbatim as the
 * reference the compact typed-array implementation must match bit for bit.
 */
interface Cohort {
  side: LiquidationSide;
  priceUsd: number;
  openedAtMs: number;
  key: number;
  bucket: Bucket;
  stored: number;
}
interface Bucket {
  priceUsd: number;
  key: number;
  readonly cohorts: Cohort[];
}

const PRICE_IDX_OFFSET = 2 ** 19;
const PRICE_IDX_SPAN = 2 ** 20;
const RENORMALISE_EXPONENT = 64;

class ReferenceEstimator {
  private readonly tiers: Array<{ longFactor: number; shortFactor: number; share: number }>;
  private readonly logStep: number;
  private readonly cohorts = new Map<number, Cohort>();
  private readonly realized: RealizedFill[] = [];
  private lastOiQty: number | undefined;
  private flowBuyUsd = 0;
  private flowSellUsd = 0;
  private flowQty = 0;
  private epochMs: number | undefined;
  private scale = 1;
  private lastEventMs = -Infinity;
  private readonly buckets = new Map<number, Bucket>();
  private readonly cohortPool: Cohort[] = [];
  private readonly bucketPool: Bucket[] = [];
  private readonly ladders: Record<LiquidationSide, Bucket[]> = { long: [], short: [] };

  constructor(
    readonly symbol: string,
    private readonly config: LiquidationEstimatorConfig,
  ) {
    const mm = config.maintenanceMarginRate;
    if (!(mm >= 0 && mm < 0.5)) throw new Error(`estimator: maintenanceMarginRate out of range: ${mm}`);
    const bucket = config.bucketFraction;
    if (!(bucket > 0 && bucket <= 0.1)) throw new Error(`estimator: bucketFraction out of range: ${bucket}`);
    if (!(config.halfLifeMs > 0)) throw new Error(`estimator: halfLifeMs must be > 0`);
    if (!(config.cohortMs >= 1000)) throw new Error(`estimator: cohortMs must be >= 1000`);
    if (!(config.maxCohorts >= 16)) throw new Error(`estimator: maxCohorts must be >= 16`);
    const match = config.realizedMatchFraction;
    if (!(match >= 0 && match < 0.5)) throw new Error(`estimator: realizedMatchFraction out of range: ${match}`);
    const weightSum = config.leverageTiers.reduce((s, t) => s + (t.weight > 0 ? t.weight : 0), 0);
    if (!(weightSum > 0)) throw new Error('estimator: leverage tiers need a positive total weight');
    this.tiers = config.leverageTiers
      .filter((t) => t.weight > 0)
      .map((t) => {
        if (!(1 / t.leverage > mm)) throw new Error(`estimator: leverage ${t.leverage}× is not liquidatable with mm ${mm}`);
        return { longFactor: 1 - 1 / t.leverage + mm, shortFactor: 1 + 1 / t.leverage - mm, share: t.weight / weightSum };
      });
    this.logStep = Math.log1p(config.bucketFraction);
  }
  onTrades(flow: TradeFlow): void {
    if (Number.isFinite(flow.buyTurnoverUsd) && flow.buyTurnoverUsd > 0) this.flowBuyUsd += flow.buyTurnoverUsd;
    if (Number.isFinite(flow.sellTurnoverUsd) && flow.sellTurnoverUsd > 0) this.flowSellUsd += flow.sellTurnoverUsd;
    const qty = (flow.buyQty > 0 ? flow.buyQty : 0) + (flow.sellQty > 0 ? flow.sellQty : 0);
    if (Number.isFinite(qty)) this.flowQty += qty;
    this.touch(flow.tsEvent);
    this.onPrice(flow.lastPrice);
  }
  onOpenInterest(tsMs: number, openInterestQty: number, priceUsd: number, takerBuyShare?: number): boolean {
    if (!Number.isFinite(tsMs) || !Number.isFinite(openInterestQty) || openInterestQty < 0) return false;
    if (!Number.isFinite(priceUsd) || priceUsd <= 0) return false;
    this.touch(tsMs);
    this.onPrice(priceUsd);
    const previous = this.lastOiQty;
    this.lastOiQty = openInterestQty;
    const flowUsd = this.flowBuyUsd + this.flowSellUsd;
    const entryPrice = this.flowQty > 0 && flowUsd > 0 ? flowUsd / this.flowQty : priceUsd;
    const flowShare = flowUsd > 0 ? this.flowBuyUsd / flowUsd : 0.5;
    const share = takerBuyShare !== undefined && takerBuyShare >= 0 && takerBuyShare <= 1 ? takerBuyShare : flowShare;
    this.flowBuyUsd = 0;
    this.flowSellUsd = 0;
    this.flowQty = 0;
    if (previous === undefined) return true;
    if (openInterestQty > previous) {
      const notionalUsd = (openInterestQty - previous) * entryPrice;
      this.addExposure('long', notionalUsd * share, entryPrice, tsMs);
      this.addExposure('short', notionalUsd * (1 - share), entryPrice, tsMs);
      this.onPrice(priceUsd);
    } else if (openInterestQty < previous) {
      if (openInterestQty === 0 || this.cohorts.size === 0) {
        this.clearExposure();
      } else {
        this.scale *= openInterestQty / previous;
        if (this.scale < 1e-12) this.renormalise(this.lastEventMs);
      }
    }
    return true;
  }
  onPrice(priceUsd: number): void {
    if (!Number.isFinite(priceUsd) || priceUsd <= 0) return;
    const longs = this.ladders.long;
    while ((longs.at(-1)?.priceUsd ?? -Infinity) >= priceUsd) this.dropBucket(longs.pop() as Bucket);
    const shorts = this.ladders.short;
    while ((shorts.at(-1)?.priceUsd ?? Infinity) <= priceUsd) this.dropBucket(shorts.pop() as Bucket);
  }
  onRealizedLiquidation(fill: RealizedFill): boolean {
    if (!Number.isFinite(fill.price) || fill.price <= 0 || !Number.isFinite(fill.usd) || fill.usd <= 0) return false;
    if (!Number.isFinite(fill.tsEvent)) return false;
    this.touch(fill.tsEvent);
    this.realized.push(fill);
    const excess = this.realized.length - this.config.maxRealized;
    if (excess > 0) this.realized.splice(0, excess);
    const tol = this.config.realizedMatchFraction * fill.price;
    const near: Cohort[] = [];
    const sideOffset = fill.side === 'long' ? 0 : PRICE_IDX_SPAN;
    for (let i = this.priceIndex(fill.price - tol); i <= this.priceIndex(fill.price + tol); i++) {
      const bucket = this.buckets.get(sideOffset + i + PRICE_IDX_OFFSET);
      if (bucket !== undefined && Math.abs(bucket.priceUsd - fill.price) <= tol) near.push(...bucket.cohorts);
    }
    near.sort((a, b) => Math.abs(a.priceUsd - fill.price) - Math.abs(b.priceUsd - fill.price) || a.key - b.key);
    const unit = this.unitAt(this.lastEventMs);
    let remainingUsd = fill.usd;
    for (const c of near) {
      if (remainingUsd <= 0) break;
      const usd = c.stored * unit;
      if (usd <= remainingUsd) {
        remainingUsd -= usd;
        this.removeCohort(c);
      } else {
        c.stored = Math.max(0, c.stored - remainingUsd / unit);
        remainingUsd = 0;
      }
    }
    return true;
  }
  exposureLevels(nowMs: number, maxAgeMs = Infinity): EstimatedLevel[] {
    const now = Math.max(nowMs, this.lastEventMs);
    const unit = this.unitAt(now);
    const levels: EstimatedLevel[] = [];
    for (const side of ['long', 'short'] as const) {
      for (const bucket of this.ladders[side]) {
        let usd = 0;
        for (const c of bucket.cohorts) if (now - c.openedAtMs <= maxAgeMs) usd += c.stored * unit;
        if (usd > 0) levels.push({ priceUsd: bucket.priceUsd, usd, side });
      }
    }
    return levels.sort((a, b) => a.priceUsd - b.priceUsd || (a.side < b.side ? -1 : 1));
  }
  exposureUsd(nowMs: number): { longUsd: number; shortUsd: number } {
    let longUsd = 0;
    let shortUsd = 0;
    for (const l of this.exposureLevels(nowMs)) {
      if (l.side === 'long') longUsd += l.usd;
      else shortUsd += l.usd;
    }
    return { longUsd, shortUsd };
  }
  get cohortCount(): number {
    return this.cohorts.size;
  }
  snapshot(range: HeatmapRange, nowMs: number, refPrice: number): HeatmapSnapshot {
    const maxAgeMs = HEATMAP_RANGE_MS[range];
    const levels: RawHeatmapLevel[] = [];
    for (const l of this.exposureLevels(nowMs, maxAgeMs)) {
      const uncrossed = l.side === 'long' ? l.priceUsd < refPrice : l.priceUsd > refPrice;
      if (uncrossed) levels.push({ priceUsd: l.priceUsd, usd: l.usd, label: 'ESTIMATED' });
    }
    for (const r of this.realized) {
      if (nowMs - r.tsEvent <= maxAgeMs) levels.push({ priceUsd: r.price, usd: r.usd, label: 'REALIZED', side: r.side });
    }
    const input = { symbol: this.symbol, range, source: 'estimate' as const, refPrice, fetchedAt: nowMs, levels };
    return buildHeatmapSnapshot(input).snapshot;
  }

  private priceIndex(priceUsd: number): number {
    return Math.floor(Math.log(priceUsd) / this.logStep);
  }

  private addExposure(side: LiquidationSide, notionalUsd: number, entryPrice: number, tsMs: number): void {
    if (!(notionalUsd > 0)) return;
    if (this.epochMs === undefined) this.epochMs = tsMs;
    const weight = Math.pow(2, (tsMs - this.epochMs) / this.config.halfLifeMs) / this.scale;
    const timeIdx = Math.floor(tsMs / this.config.cohortMs);
    for (const tier of this.tiers) {
      const liqPrice = entryPrice * (side === 'long' ? tier.longFactor : tier.shortFactor);
      const idx = this.priceIndex(liqPrice);
      if (!(idx > -PRICE_IDX_OFFSET && idx < PRICE_IDX_OFFSET)) continue;
      const key = (timeIdx * 2 + (side === 'long' ? 0 : 1)) * PRICE_IDX_SPAN + (idx + PRICE_IDX_OFFSET);
      const existing = this.cohorts.get(key);
      const stored = notionalUsd * tier.share * weight;
      if (existing !== undefined) {
        existing.stored += stored;
        continue;
      }
      const bucket = this.bucketFor(side, idx);
      const openedAtMs = timeIdx * this.config.cohortMs;
      let cohort = this.cohortPool.pop();
      if (cohort === undefined) cohort = { side, priceUsd: bucket.priceUsd, openedAtMs, key, bucket, stored };
      else {
        cohort.side = side;
        cohort.priceUsd = bucket.priceUsd;
        cohort.openedAtMs = openedAtMs;
        cohort.key = key;
        cohort.bucket = bucket;
        cohort.stored = stored;
      }
      this.cohorts.set(key, cohort);
      bucket.cohorts.push(cohort);
    }
    if (this.cohorts.size > this.config.maxCohorts) this.evict();
  }
  private evict(): void {
    const unit = this.unitAt(this.lastEventMs);
    const target = Math.floor(this.config.maxCohorts * 0.75);
    for (const c of [...this.cohorts.values()].sort((a, b) => a.stored - b.stored || a.key - b.key)) {
      if (this.cohorts.size <= target && c.stored * unit >= this.config.minCohortUsd) break;
      this.removeCohort(c);
    }
  }

  private clearExposure(): void {
    this.cohorts.clear();
    this.buckets.clear();
    this.ladders.long.length = 0;
    this.ladders.short.length = 0;
    this.scale = 1;
  }
  private bucketFor(side: LiquidationSide, idx: number): Bucket {
    const key = (side === 'long' ? 0 : PRICE_IDX_SPAN) + idx + PRICE_IDX_OFFSET;
    const existing = this.buckets.get(key);
    if (existing !== undefined) return existing;
    const priceUsd = Math.exp((idx + 0.5) * this.logStep);
    let bucket = this.bucketPool.pop();
    if (bucket === undefined) bucket = { priceUsd, key, cohorts: [] };
    else {
      bucket.priceUsd = priceUsd;
      bucket.key = key;
    }
    this.buckets.set(key, bucket);
    const ladder = this.ladders[side];
    ladder.splice(this.ladderPosition(ladder, side, bucket.priceUsd), 0, bucket);
    return bucket;
  }
  private ladderPosition(ladder: readonly Bucket[], side: LiquidationSide, priceUsd: number): number {
    const dir = side === 'long' ? 1 : -1;
    let lo = 0;
    let hi = ladder.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((ladder[mid] as Bucket).priceUsd - priceUsd) * dir < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private removeCohort(c: Cohort): void {
    this.cohorts.delete(c.key);
    const siblings = c.bucket.cohorts;
    const slot = siblings.indexOf(c);
    if (slot >= 0) {
      siblings[slot] = siblings[siblings.length - 1] as Cohort;
      siblings.pop();
    }
    this.recycleCohort(c);
    if (siblings.length > 0) return;
    this.buckets.delete(c.bucket.key);
    const ladder = this.ladders[c.side];
    const at = this.ladderPosition(ladder, c.side, c.bucket.priceUsd);
    if (ladder[at] === c.bucket) ladder.splice(at, 1);
    this.recycleBucket(c.bucket);
  }
  private recycleCohort(c: Cohort): void {
    if (this.cohortPool.length < this.config.maxCohorts) this.cohortPool.push(c);
  }

  private recycleBucket(b: Bucket): void {
    b.cohorts.length = 0;
    if (this.bucketPool.length < this.config.maxCohorts) this.bucketPool.push(b);
  }
  private dropBucket(bucket: Bucket): void {
    for (const c of bucket.cohorts) {
      this.cohorts.delete(c.key);
      this.recycleCohort(c);
    }
    this.buckets.delete(bucket.key);
    this.recycleBucket(bucket);
  }
  private unitAt(t: number): number {
    if (this.epochMs === undefined || !Number.isFinite(t)) return this.scale;
    return this.scale * Math.pow(2, -(t - this.epochMs) / this.config.halfLifeMs);
  }

  private touch(tsMs: number): void {
    if (!Number.isFinite(tsMs)) return;
    if (tsMs > this.lastEventMs) this.lastEventMs = tsMs;
    const exponent = this.epochMs === undefined ? 0 : (tsMs - this.epochMs) / this.config.halfLifeMs;
    if (exponent > RENORMALISE_EXPONENT) this.renormalise(tsMs);
  }
  private renormalise(t: number): void {
    if (this.epochMs === undefined || !Number.isFinite(t)) return;
    const unit = this.unitAt(t);
    for (const c of this.cohorts.values()) c.stored *= unit;
    this.epochMs = t;
    this.scale = 1;
  }
}
