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
