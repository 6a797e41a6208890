import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAILING_STEPS, lockPrice, trailStop, type TrailingConfig } from './trailing-stop.js';

const ROE: TrailingConfig = { basis: 'roe', steps: DEFAULT_TRAILING_STEPS, exitFeeRate: 0.00055 };
const PRICE: TrailingConfig = { ...ROE, basis: 'price' };
const long = { direction: 'LONG' as const, avgEntryPrice: 100, leverage: 5, entryFeeRate: 0.0002, stopLossPrice: 92 };

describe('trailing stop ladder', () => {
  it('> 10 % ROE → breakeven with fees; > 20 % → lock +10 %; > 50 % → lock +30 %', () => {
    expect(trailStop(long, 101.9, ROE)).toMatchObject({ moved: false, step: -1, stopLossPrice: 92 }); // 9.5 % ROE
    const be = trailStop(long, 102.1, ROE); // 10.5 % ROE
    expect(be.moved).toBe(true);
    expect(be.stopLossPrice).toBeCloseTo((100 * 1.0002) / (1 - 0.00055), 10);
    // Closing at breakeven nets zero after both fees.
    const p = be.stopLossPrice;
    expect(p - 100 - 100 * 0.0002 - p * 0.00055).toBeCloseTo(0, 10);
    const lock10 = trailStop({ ...long, stopLossPrice: p }, 104.1, ROE); // 20.5 % ROE
    expect(lock10.stopLossPrice).toBeCloseTo((100 * (1.0002 + 0.1 / 5)) / (1 - 0.00055), 10);
    const q = lock10.stopLossPrice;
    // Net PnL at the lock = 10 % of the margin (100 / 5 = 20 per unit → 2 per unit).
    expect(q - 100 - 100 * 0.0002 - q * 0.00055).toBeCloseTo(2, 10);
    const lock30 = trailStop({ ...long, stopLossPrice: q }, 110.5, ROE);
    expect(lock30.step).toBe(2);
    expect(lock30.stopLossPrice).toBeCloseTo((100 * (1.0002 + 0.3 / 5)) / (1 - 0.00055), 10);
  });

  it('on the price-move basis the thresholds are the raw move', () => {
    expect(trailStop(long, 105, PRICE).moved).toBe(false);
    expect(trailStop(long, 110.5, PRICE).stopLossPrice).toBeCloseTo(lockPrice(long, 0, 'price', 0.00055), 10);
  });

  it('SHORT mirror', () => {
    const short = { direction: 'SHORT' as const, avgEntryPrice: 100, leverage: 5, entryFeeRate: 0.00055, stopLossPrice: 108 };
    const d = trailStop(short, 97.9, ROE);
    expect(d.stopLossPrice).toBeCloseTo((100 * (1 - 0.00055)) / (1 + 0.00055), 10);
    const p = d.stopLossPrice;
    expect(100 - p - 100 * 0.00055 - p * 0.00055).toBeCloseTo(0, 10);
  });

  it('never loosens, and never moves onto the wrong side of the mark (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('LONG' as const, 'SHORT' as const),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom(ROE, PRICE),
        fc.array(fc.double({ min: 0.3, max: 3, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.option(fc.constantFrom(0.01, 0.5), { nil: undefined }),
        (direction, leverage, config, path, tick) => {
          let stop = direction === 'LONG' ? 90 : 110;
          for (const m of path) {
            const mark = 100 * m;
            const d = trailStop({ direction, avgEntryPrice: 100, leverage, entryFeeRate: 0.0002, stopLossPrice: stop }, mark, config, tick);
            if (direction === 'LONG') expect(d.stopLossPrice).toBeGreaterThanOrEqual(stop);
            else expect(d.stopLossPrice).toBeLessThanOrEqual(stop);
            if (d.moved) expect(direction === 'LONG' ? d.stopLossPrice < mark : d.stopLossPrice > mark).toBe(true);
            stop = d.stopLossPrice;
          }
        },
      ),
      { seed: 14, numRuns: 1000 },
    );
  });
});
