import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SymbolFeatures } from './features.js';
import { DEFAULT_TRIGGER_CONFIG, SignalTrigger, unconfirmedCondition, type ArmedSetup } from './trigger.js';

const SEED = 0x7819;
const MIN = 60_000;

function features(over: Partial<SymbolFeatures> = {}): SymbolFeatures {
  return {
    lastPrice: 101,
    markPrice: 101,
    openInterest: 1e6,
    openInterestValue: 1.01e8,
    priceChangePct1m: 0.5,
    priceChangePct5m: 1.5,
    oiChangePct15m: 4,
    volume5mUsd: 2e6,
    volumeRatio5m: 2,
    buyVolume5mUsd: 1.5e6,
    sellVolume5mUsd: 0.5e6,
    liqLongUsd5m: 0,
    liqShortUsd5m: 0,
    historySec: 3600,
    tsEvent: 0,
    ...over,
  };
}

function setup(over: Partial<ArmedSetup> = {}): ArmedSetup {
  return {
    symbol: 'SOLUSDT',
    direction: 'LONG',
    imbalance: 0.714,
    score: 100.4,
    target: { range: '7d', low: 103, high: 103.2, centre: 103.1, usd: 239e6, side: 'short', levelCount: 2 },
    opposite: { range: '7d', low: 95, high: 95, centre: 95, usd: 120e6, side: 'long', levelCount: 1 },
    heatmapFetchedAt: { '7d': 1_000, '30d': 500 },
    ...over,
  };
}

describe('SignalTrigger', () => {
  it('fires a signal with a copy of the features and the heatmap ages', () => {
    const trigger = new SignalTrigger();
    const f = features();
    const out = trigger.evaluate(setup(), f, 61_000);
    expect(out.fired).toBe(true);
    if (!out.fired) return;
    f.priceChangePct5m = -9;
    expect(out.signal).toMatchObject({ symbol: 'SOLUSDT', direction: 'LONG', score: 100.4, tsInit: 61_000 });
    expect(out.signal.features.priceChangePct5m).toBe(1.5);
    expect(out.signal.heatmapAgesMs).toEqual({ '7d': 60_000, '30d': 60_500 });
    expect(out.signal.target?.usd).toBe(239e6);
    expect(out.signal.opposite?.usd).toBe(120e6);
  });

  it('needs an armed coin with a direction', () => {
    const trigger = new SignalTrigger();
    expect(trigger.evaluate(undefined, features(), 0)).toEqual({ fired: false, reason: 'NOT_ARMED' });
    expect(trigger.evaluate(setup({ direction: 'NONE' }), features(), 0)).toEqual({ fired: false, reason: 'NO_DIRECTION' });
  });

  it('a SHORT needs the price to fall, a LONG to rise', () => {
    const trigger = new SignalTrigger();
    expect(trigger.evaluate(setup({ direction: 'SHORT' }), features(), 0)).toEqual({ fired: false, reason: 'PRICE_NOT_CONFIRMING' });
    const out = trigger.evaluate(setup({ direction: 'SHORT' }), features({ priceChangePct5m: -1.2 }), 0);
    expect(out.fired && out.signal.direction).toBe('SHORT');
    expect(new SignalTrigger().evaluate(setup(), features({ priceChangePct5m: -1.2 }), 0).fired).toBe(false);
  });

  it('respects the per-coin cooldown on tsInit', () => {
    const trigger = new SignalTrigger({ ...DEFAULT_TRIGGER_CONFIG, cooldownMs: 15 * MIN });
    expect(trigger.evaluate(setup(), features(), 0).fired).toBe(true);
    expect(trigger.evaluate(setup(), features(), 15 * MIN - 1)).toEqual({ fired: false, reason: 'COOLDOWN' });
    expect(trigger.evaluate(setup({ symbol: 'ETHUSDT' }), features(), MIN).fired).toBe(true);
    expect(trigger.evaluate(setup(), features(), 15 * MIN).fired).toBe(true);
    expect(trigger.lastSignalAtMs('SOLUSDT')).toBe(15 * MIN);
    const restored = new SignalTrigger();
    restored.restoreLastSignal('SOLUSDT', 0);
    expect(restored.evaluate(setup(), features(), MIN)).toEqual({ fired: false, reason: 'COOLDOWN' });
  });

  it('property: fires iff OI, volume and price all confirm (NaN never confirms)', () => {
    console.log(`trigger conditions property seed=${SEED}`);
    const value = (threshold: number) => fc.oneof(fc.double({ min: -50, max: 50, noNaN: true }), fc.constant(threshold), fc.constant(Number.NaN));
    fc.assert(
      fc.property(
        fc.constantFrom('LONG' as const, 'SHORT' as const),
        value(3),
        value(1.5),
        value(1),
        (direction, oi, vol, px) => {
          const f = features({ oiChangePct15m: oi, volumeRatio5m: vol, priceChangePct5m: direction === 'LONG' ? px : -px });
          const expected = oi > 3 && vol > 1.5 && px > 1;
          const out = new SignalTrigger().evaluate(setup({ direction }), f, 0);
          expect(out.fired).toBe(expected);
          expect(unconfirmedCondition(f, direction) === undefined).toBe(expected);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: at most one signal per coin per cooldown window', () => {
    console.log(`trigger cooldown property seed=${SEED + 1}`);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 * MIN }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 30 * MIN }), (gaps, cooldownMs) => {
        const trigger = new SignalTrigger({ ...DEFAULT_TRIGGER_CONFIG, cooldownMs });
        let t = 0;
        const fired: number[] = [];
        for (const g of gaps) {
          t += g;
          const out = trigger.evaluate(setup(), features(), t);
          if (out.fired) fired.push(t);
          else expect(t - fired[fired.length - 1]!).toBeLessThan(cooldownMs);
        }
        expect(fired[0]).toBe(gaps[0]);
        for (let i = 1; i < fired.length; i++) expect(fired[i]! - fired[i - 1]!).toBeGreaterThanOrEqual(cooldownMs);
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });
});
