import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SymbolFeatures } from './features.js';
import { DEFAULT_SPIKE_THRESHOLDS, SpikeDetector, SpikeReason, spikeReasonNames } from './spike-detector.js';
import { emptyFeatures } from './symbol-windows.js';

function features(partial: Partial<SymbolFeatures>): SymbolFeatures {
  return { ...emptyFeatures(), ...partial };
}

describe('SpikeDetector', () => {
  it('has the founder defaults', () => {
    expect(DEFAULT_SPIKE_THRESHOLDS).toEqual({ price1mPct: 2, price5mPct: 5, oi15mPct: 3, volumeRatio: 1.5, cooldownMs: 300_000 });
  });

  it('fires only strictly above each threshold', () => {
    const at = (f: Partial<SymbolFeatures>): number => new SpikeDetector().check(0, features(f));
    expect(at({ priceChangePct1m: 2 })).toBe(0);
    expect(at({ priceChangePct1m: 2.0000001 })).toBe(SpikeReason.Price1m);
    expect(at({ priceChangePct1m: -2.5 })).toBe(SpikeReason.Price1m);
    expect(at({ priceChangePct5m: 5 })).toBe(0);
    expect(at({ priceChangePct5m: -5.01 })).toBe(SpikeReason.Price5m);
    expect(at({ oiChangePct15m: 3 })).toBe(0);
    expect(at({ oiChangePct15m: -3.1 })).toBe(SpikeReason.Oi15m);
    expect(at({ volumeRatio5m: 1.5 })).toBe(0);
    expect(at({ volumeRatio5m: 1.51 })).toBe(SpikeReason.Volume);
    expect(at({ volumeRatio5m: -10 })).toBe(0);
  });

  it('combines reasons into one mask and names them', () => {
    const mask = new SpikeDetector().check(0, features({ priceChangePct1m: 3, oiChangePct15m: 4, volumeRatio5m: 2 }));
    expect(mask).toBe(SpikeReason.Price1m | SpikeReason.Oi15m | SpikeReason.Volume);
    expect(spikeReasonNames(mask)).toEqual(['Price1m', 'Oi15m', 'Volume']);
    expect(spikeReasonNames(0)).toEqual([]);
  });

  it('never fires on NaN features', () => {
    expect(new SpikeDetector().check(0, emptyFeatures())).toBe(0);
  });

  it('stays quiet for the cooldown after a spike, then fires again', () => {
    const d = new SpikeDetector();
    const hot = features({ priceChangePct1m: 4 });
    expect(d.check(1_000, hot)).toBe(SpikeReason.Price1m);
    expect(d.lastFireMs).toBe(1_000);
    expect(d.check(2_000, hot)).toBe(0);
    expect(d.check(300_999, features({ volumeRatio5m: 9 }))).toBe(0);
    expect(d.suppressedCount).toBe(2);
    expect(d.check(301_000, hot)).toBe(SpikeReason.Price1m);
    expect(d.lastFireMs).toBe(301_000);
  });

  it('quiet checks do not start a cooldown', () => {
    const d = new SpikeDetector({ cooldownMs: 10 });
    expect(d.check(0, features({ priceChangePct1m: 1 }))).toBe(0);
    expect(d.check(1, features({ priceChangePct1m: 9 }))).toBe(SpikeReason.Price1m);
    d.reset();
    expect(d.check(2, features({ priceChangePct1m: 9 }))).toBe(SpikeReason.Price1m);
  });

  it('rejects nonsense thresholds', () => {
    expect(() => new SpikeDetector({ price1mPct: NaN })).toThrow(RangeError);
    expect(() => new SpikeDetector({ cooldownMs: -1 })).toThrow(RangeError);
  });

  it('fires exactly when the model says, for random feature streams (seeded)', () => {
    const value = fc.oneof(fc.constant(NaN), fc.double({ min: -20, max: 20, noNaN: true }));
    const tick = fc.record({
      dtMs: fc.integer({ min: 0, max: 200_000 }),
      p1: value,
      p5: value,
      oi: value,
      vol: value,
    });
    fc.assert(
      fc.property(fc.array(tick, { maxLength: 100 }), (ticks) => {
        const d = new SpikeDetector();
        let t = 0;
        let lastFire = -Infinity;
        for (const k of ticks) {
          t += k.dtMs;
          let want = 0;
          if (Math.abs(k.p1) > 2) want |= 1;
          if (Math.abs(k.p5) > 5) want |= 2;
          if (Math.abs(k.oi) > 3) want |= 4;
          if (k.vol > 1.5) want |= 8;
          if (want !== 0 && t < lastFire + 300_000) want = 0;
          if (want !== 0) lastFire = t;
          const f = features({ priceChangePct1m: k.p1, priceChangePct5m: k.p5, oiChangePct15m: k.oi, volumeRatio5m: k.vol });
          expect(d.check(t, f)).toBe(want);
        }
      }),
      { seed: 4242, numRuns: 200 },
    );
  });
});
