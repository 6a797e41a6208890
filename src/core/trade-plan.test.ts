import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSignalPrices } from './trade-plan.js';

const cluster = (low: number, high: number, side: 'long' | 'short') => ({ low, high, centre: (low + high) / 2, usd: 1e8, side, levelCount: 3, range: '7d' as const });
const features = (lastPrice: number) => ({ lastPrice }) as never;

describe('planSignalPrices', () => {
  it('front-runs the target and stops 2 % beyond the opposite cluster', () => {
    const long = planSignalPrices({ symbol: 'SOLUSDT', direction: 'LONG', features: features(100), target: cluster(110, 112, 'short'), opposite: cluster(90, 92, 'long') })!;
    expect(long.takeProfitPrice).toBeCloseTo(111 * 0.998, 10);
    expect(long.stopLossPrice).toBeCloseTo(90 * 0.98, 10);
    const btc = planSignalPrices({ symbol: 'BTCUSDT', direction: 'SHORT', features: features(100), target: cluster(80, 90, 'long'), opposite: undefined })!;
    expect(btc.takeProfitPrice).toBeCloseTo(85 * 1.005, 10);
    expect(btc.stopLossPrice).toBeCloseTo(102, 10);
  });

  it('never returns a plan whose stop or target sits on the wrong side of entry (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('LONG' as const, 'SHORT' as const),
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (direction, entry, t, o) => {
          const plan = planSignalPrices({
            symbol: 'XUSDT',
            direction,
            features: features(entry),
            target: cluster(entry * t, entry * t * 1.01, direction === 'LONG' ? 'short' : 'long'),
            opposite: cluster(entry * o * 0.99, entry * o, direction === 'LONG' ? 'long' : 'short'),
          });
          if (plan === undefined) return;
          if (direction === 'LONG') expect(plan.stopLossPrice < entry && plan.takeProfitPrice > entry).toBe(true);
          else expect(plan.stopLossPrice > entry && plan.takeProfitPrice < entry).toBe(true);
        },
      ),
      { seed: 5, numRuns: 500 },
    );
  });
});

import { chooseStop, clusterStopPrice, conservativeEntryPrice, DEFAULT_PLAN_CONFIG, planTrade, selectTargetCluster, takeProfitFromCluster, wickStopPrice, type PlanInput } from './trade-plan.js';
import { isRefusal } from './refusal.js';
import { lossPerUnitAtStop } from './sizing.js';

const BTC_RULES = { symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxLeverage: 100 };
const SOL_RULES = { symbol: 'SOLUSDT', tickSize: 0.01, qtyStep: 0.1, minOrderQty: 0.1, maxLeverage: 50 };
const founderTarget = { low: 116_000, high: 117_000, centre: 116_500, usd: 2e8, side: 'short' as const, levelCount: 5, range: '7d' as const };
const founderOpposite = { low: 110_000, high: 111_000, centre: 110_500, usd: 1.5e8, side: 'long' as const, levelCount: 4, range: '7d' as const };
const cents = (x: number) => Math.round(x * 100) / 100;

describe("the founder's worked example, to the cent", () => {
  it('conservative entry 113,680 from the target cluster 116,000–117,000', () => {
    expect(cents(conservativeEntryPrice('LONG', founderTarget, 0.02))).toBe(113_680);
  });
  it('wick stop 113,680 × (1 − 0.08) = 104,585.60', () => {
    expect(cents(wickStopPrice('LONG', 113_680, 0.08))).toBe(104_585.6);
  });
  it('cluster stop 110,000 × 0.98 = 107,800', () => {
    expect(cents(clusterStopPrice('LONG', founderOpposite, 0.02))).toBe(107_800);
  });
  it('the stop is the wider of the two: 104,585.60', () => {
    const stop = chooseStop('LONG', 113_680, 0.08, founderOpposite, DEFAULT_PLAN_CONFIG);
    expect(cents(stop.stopPrice)).toBe(104_585.6);
    expect(stop.rule).toBe('wick');
    expect(cents(stop.clusterStopPrice!)).toBe(107_800);
  });
  it('take-profit 116,500 × 0.995 = 115,917.50 for BTC (× 0.998 for others; SHORT × 1.005 / × 1.002)', () => {
    expect(cents(takeProfitFromCluster('BTCUSDT', 'LONG', 116_500))).toBe(115_917.5);
    expect(cents(takeProfitFromCluster('ETHUSDT', 'LONG', 116_500))).toBe(115_917.5);
    expect(cents(takeProfitFromCluster('SOLUSDT', 'LONG', 116_500))).toBe(116_267);
    expect(cents(takeProfitFromCluster('BTCUSDT', 'SHORT', 100_000))).toBe(100_500);
    expect(cents(takeProfitFromCluster('SOLUSDT', 'SHORT', 100))).toBe(100.2);
  });
  it('planTrade reproduces the whole example on the BTC tick grid (conservative allowed by config)', () => {
    const plan = planTrade(
      { symbol: 'BTCUSDT', direction: 'LONG', style: 'conservative', currentPrice: 114_500, clustersAhead: [founderTarget], opposite: founderOpposite, maxWickFraction: undefined, volatilityFraction: undefined, equityUsd: 100_000, freeMarginUsd: 100_000, rules: BTC_RULES },
      { ...DEFAULT_PLAN_CONFIG, scaledOnlyCoins: [] },
    );
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.entries).toHaveLength(1);
    expect(plan.entries[0]!.priceUsd).toBe(113_680);
    expect(plan.stopLossPrice).toBe(104_585.6);
    expect(plan.takeProfitPrice).toBe(115_917.5);
    expect(plan.lossAtStopUsd).toBeLessThanOrEqual(1000);
    expect(plan.notes.join(' ')).toMatch(/default 8 % wick stop/);
  });
  it("the seed's entry at the cluster edge 116,000 is above its own take-profit: refused TP_NOT_BEYOND_ENTRY", () => {
    const plan = planTrade(
      { symbol: 'BTCUSDT', direction: 'LONG', style: 'conservative', currentPrice: 114_500, clustersAhead: [founderTarget], opposite: founderOpposite, maxWickFraction: undefined, volatilityFraction: undefined, equityUsd: 100_000, freeMarginUsd: 100_000, rules: BTC_RULES },
      { ...DEFAULT_PLAN_CONFIG, scaledOnlyCoins: [], conservativeOffsetFraction: 0 },
    );
    expect(isRefusal(plan) && plan.reason).toBe('TP_NOT_BEYOND_ENTRY');
  });
  it("BTC is planned as a scaled ladder by default (rule 6): the founder's 115k → 110k ladder, target 116.5k", () => {
    const opposite = founderOpposite;
    const plan = planTrade(
      { symbol: 'BTCUSDT', direction: 'LONG', style: 'conservative', currentPrice: 115_000, clustersAhead: [founderTarget], opposite, maxWickFraction: undefined, volatilityFraction: undefined, equityUsd: 1_000_000, freeMarginUsd: 1_000_000, rules: BTC_RULES },
      { ...DEFAULT_PLAN_CONFIG, ladder: { ...DEFAULT_PLAN_CONFIG.ladder, beyondClusterFraction: 0 } },
    );
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.style).toBe('scaled');
    expect(plan.entries.map((e) => e.priceUsd)).toEqual([115_000, 114_444.4, 113_888.8, 113_333.3, 112_777.7, 112_222.2, 111_666.6, 111_111.1, 110_555.5, 110_000]);
    expect(plan.takeProfitPrice).toBe(115_917.5);
    expect(plan.stopLossPrice).toBe(104_500);
    expect(plan.lossAtStopUsd).toBeLessThanOrEqual(10_000);
    expect(plan.lossAtStopUsd).toBeGreaterThan(9_900);
    expect(plan.entries).toHaveLength(10);
    const q = plan.entries.map((e) => e.qty);
    for (let i = 1; i < q.length; i++) expect(q[i]! / q[i - 1]!).toBeGreaterThan(1.9);
  });
});

describe('target choice', () => {
  const near = { ...founderTarget, low: 116_000, high: 117_000, centre: 116_500, usd: 1e8 };
  const big = { ...founderTarget, low: 120_000, high: 121_000, centre: 120_500, usd: 9e8 };
  it('first significant cluster in the direction (nearest), or the largest as an option', () => {
    expect(selectTargetCluster('LONG', 115_000, [big, near], 'first')).toBe(near);
    expect(selectTargetCluster('LONG', 115_000, [big, near], 'largest')).toBe(big);
    const belowA = { ...near, low: 100, high: 101 };
    const belowB = { ...near, low: 90, high: 91, usd: 9e9 };
    expect(selectTargetCluster('SHORT', 110, [belowB, belowA], 'first')).toBe(belowA);
    expect(selectTargetCluster('SHORT', 110, [belowB, belowA], 'largest')).toBe(belowB);
    expect(selectTargetCluster('LONG', 116_500, [near], 'first')).toBeUndefined();
  });
});

const arbInput = fc.record({
  direction: fc.constantFrom('LONG' as const, 'SHORT' as const),
  style: fc.constantFrom('conservative' as const, 'aggressive' as const, 'scaled' as const),
  symbol: fc.constantFrom('BTCUSDT', 'SOLUSDT', 'DOGEUSDT'),
  price: fc.double({ min: 0.5, max: 1e5, noNaN: true }),
  targetDist: fc.double({ min: 0.005, max: 0.3, noNaN: true }),
  targetWidth: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
  oppDist: fc.option(fc.double({ min: 0.005, max: 0.2, noNaN: true }), { nil: undefined }),
  wick: fc.option(fc.double({ min: 0, max: 0.3, noNaN: true }), { nil: undefined }),
  vol: fc.option(fc.double({ min: 0.001, max: 0.5, noNaN: true }), { nil: undefined }),
  equity: fc.double({ min: 10, max: 1e7, noNaN: true }),
  freeShare: fc.double({ min: 0.01, max: 1, noNaN: true }),
  tickExp: fc.integer({ min: -6, max: 0 }),
  qtyExp: fc.integer({ min: -4, max: 1 }),
});

type ArbInput = typeof arbInput extends fc.Arbitrary<infer T> ? T : never;
function inputFrom(a: ArbInput): PlanInput {
  const long = a.direction === 'LONG';
  const s = long ? 1 : -1;
  const tLow = long ? a.price * (1 + a.targetDist) : a.price * (1 - a.targetDist - a.targetWidth);
  const target = { low: tLow, high: tLow * (1 + a.targetWidth), centre: tLow * (1 + a.targetWidth / 2), usd: 1e8, side: (long ? 'short' : 'long') as 'short' | 'long', levelCount: 2, range: '7d' as const };
  const opp = a.oppDist === undefined ? undefined : (() => {
    const edge = a.price * (1 - s * a.oppDist);
    const low = long ? edge * 0.99 : edge;
    return { low, high: low * 1.01, centre: low * 1.005, usd: 1e8, side: (long ? 'long' : 'short') as 'short' | 'long', levelCount: 2, range: '7d' as const };
  })();
  return {
    symbol: a.symbol, direction: a.direction, style: a.style, currentPrice: a.price, clustersAhead: [target], opposite: opp,
    maxWickFraction: a.wick, volatilityFraction: a.vol, equityUsd: a.equity, freeMarginUsd: a.equity * a.freeShare,
    rules: { symbol: a.symbol, tickSize: 10 ** a.tickExp, qtyStep: 10 ** a.qtyExp, minOrderQty: 10 ** a.qtyExp, maxLeverage: 50 },
  };
}

describe('planTrade properties', () => {
  it('stop on the losing side of every entry, TP on the winning side, loss at the stop ≤ the risk budget, qty on the grid', () => {
    let planned = 0;
    fc.assert(
      fc.property(arbInput, (a) => {
        const input = inputFrom(a);
        const plan = planTrade(input);
        if (isRefusal(plan)) {
          expect(['TP_NOT_BEYOND_ENTRY', 'NO_LADDER_CLUSTER', 'QTY_BELOW_MIN', 'NO_TARGET_CLUSTER', 'STOP_NOT_BEYOND_ENTRY']).toContain(plan.reason);
          return;
        }
        const long = plan.direction === 'LONG';
        for (const e of plan.entries) {
          expect(long ? plan.stopLossPrice < e.priceUsd : plan.stopLossPrice > e.priceUsd).toBe(true);
          expect(long ? plan.takeProfitPrice > e.priceUsd : plan.takeProfitPrice < e.priceUsd).toBe(true);
          expect(e.qty).toBeGreaterThanOrEqual(input.rules.minOrderQty);
          expect(Math.abs(e.qty / input.rules.qtyStep - Math.round(e.qty / input.rules.qtyStep))).toBeLessThan(1e-6);
        }
        const fee = (o: { orderType: string }) => (o.orderType === 'Market' ? DEFAULT_PLAN_CONFIG.takerFeeRate : DEFAULT_PLAN_CONFIG.makerFeeRate);
        const loss = plan.entries.reduce((acc, e) => acc + e.qty * lossPerUnitAtStop(plan.direction, e.priceUsd, plan.stopLossPrice, fee(e), DEFAULT_PLAN_CONFIG.takerFeeRate), 0);
        expect(loss).toBeLessThanOrEqual(plan.riskBudgetUsd * (1 + 1e-9));
        expect(plan.marginUsd).toBeLessThanOrEqual(input.freeMarginUsd * (1 + 1e-9));
        expect(plan.leverage).toBeGreaterThanOrEqual(1);
        if (plan.style !== 'scaled') {
          const d = Math.abs(plan.avgEntryPrice - plan.stopLossPrice) / plan.avgEntryPrice;
          // 5–10 % from the entry, give or take the tick the stop was rounded to.
          const tickFrac = input.rules.tickSize / plan.avgEntryPrice;
          expect(d).toBeGreaterThanOrEqual(0.05 - tickFrac - 1e-12);
          expect(d).toBeLessThanOrEqual(0.1 + tickFrac + 1e-12);
        }
        if (a.symbol === 'BTCUSDT') expect(plan.style).toBe('scaled');
        planned++;
      }),
      { seed: 9, numRuns: 1000 },
    );
    // Not vacuous: most generated setups are plannable.
    expect(planned).toBeGreaterThan(300);
  });
});

describe('SHORT mirror on a non-major coin', () => {
  it('conservative SHORT: entry high × 1.02, stop bounded to 10 %, TP centre × 1.002, on the tick grid', () => {
    const target = { low: 80, high: 82, centre: 81, usd: 5e7, side: 'long' as const, levelCount: 3, range: '14d' as const };
    const opposite = { low: 100, high: 101, centre: 100.5, usd: 3e7, side: 'short' as const, levelCount: 2, range: '14d' as const };
    const plan = planTrade({ symbol: 'SOLUSDT', direction: 'SHORT', style: 'conservative', currentPrice: 95, clustersAhead: [target], opposite, maxWickFraction: 0.03, volatilityFraction: 0.06, equityUsd: 10_000, freeMarginUsd: 10_000, rules: SOL_RULES });
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.entries[0]).toMatchObject({ orderType: 'Limit', priceUsd: 83.64 });
    expect(plan.stopRule).toBe('max-bound');
    expect(plan.stopLossPrice).toBe(92.01);
    expect(plan.takeProfitPrice).toBe(81.17);
    expect(plan.leverage).toBe(5); // volatility cap 0.3 / 0.06
    // 1 % of 10,000 = 100 USDT at risk; qty rounded down to 0.1.
    const stopFill = 92.01 * 1.0005; // the stop fills at market: slippage is budgeted
    const perUnit = stopFill - 83.64 + 83.64 * 0.0002 + stopFill * 0.00055;
    expect(plan.qty).toBe(Math.floor(100 / perUnit * 10) / 10);
  });
  it('aggressive enters at market with the taker fee in the size', () => {
    const target = { low: 80, high: 82, centre: 81, usd: 5e7, side: 'long' as const, levelCount: 3, range: '14d' as const };
    const plan = planTrade({ symbol: 'SOLUSDT', direction: 'SHORT', style: 'aggressive', currentPrice: 95, clustersAhead: [target], opposite: undefined, maxWickFraction: undefined, volatilityFraction: undefined, equityUsd: 10_000, freeMarginUsd: 10_000, rules: SOL_RULES });
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.entries[0]).toMatchObject({ orderType: 'Market', priceUsd: 95 });
    expect(plan.stopLossPrice).toBe(102.6); // 95 × 1.08
    expect(plan.stopRule).toBe('wick');
  });
});
