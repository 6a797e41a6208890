import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundPrice, roundQtyDown, roundToStep, stepDecimals } from './instrument-rounding.js';
import { isRefusal } from './refusal.js';
import { leverageFor, liquidationPrice, lossPerUnitAtStop, sizeSingleEntry } from './sizing.js';

describe('instrument rounding', () => {
  it('rounds on the integer step count, so float noise never costs a tick', () => {
    expect(stepDecimals(0.1)).toBe(1);
    expect(stepDecimals(0.0025)).toBe(4);
    expect(stepDecimals(1e-7)).toBe(7);
    expect(stepDecimals(5)).toBe(0);
    expect(roundPrice(116_000 * 0.98, { tickSize: 0.1 }, 'down')).toBe(113_680);
    expect(roundToStep(0.3, 0.1, 'down')).toBe(0.3);
    expect(roundToStep(0.35, 0.1, 'down')).toBe(0.3);
    expect(roundToStep(0.31, 0.1, 'up')).toBe(0.4);
    expect(roundToStep(1.23456, 0.0025, 'nearest')).toBe(1.235);
    expect(roundQtyDown(0.0009, { qtyStep: 0.001, minOrderQty: 0.001 })).toBe(0);
    expect(roundQtyDown(0.1239, { qtyStep: 0.001, minOrderQty: 0.001 })).toBe(0.123);
  });
});

describe('sizing', () => {
  it('risks 1 % with fees: loss per unit is the move plus both fees', () => {
    expect(lossPerUnitAtStop('LONG', 100, 95, 0.0002, 0.00055)).toBeCloseTo(5 + 0.02 + 0.05225, 12);
    expect(lossPerUnitAtStop('SHORT', 100, 105, 0.00055, 0.00055)).toBeCloseTo(5 + 0.055 + 0.05775, 12);
    const s = sizeSingleEntry({ direction: 'LONG', entryPrice: 100, stopPrice: 95, budgetUsd: 100, freeMarginUsd: 1e6, leverage: 5, entryFeeRate: 0.0002, exitFeeRate: 0.00055, rules: { qtyStep: 0.1, minOrderQty: 0.1 } });
    if (isRefusal(s)) throw new Error(s.message);
    expect(s.qty).toBe(19.7); // 100 / 5.07225 = 19.71…
    expect(s.lossAtStopUsd).toBeLessThanOrEqual(100);
  });

  it('refuses QTY_BELOW_MIN rather than rounding up to the minimum', () => {
    const s = sizeSingleEntry({ direction: 'LONG', entryPrice: 100_000, stopPrice: 92_000, budgetUsd: 5, freeMarginUsd: 1e6, leverage: 5, entryFeeRate: 0.0002, exitFeeRate: 0.00055, rules: { qtyStep: 0.001, minOrderQty: 0.001 } });
    expect(isRefusal(s) && s.reason).toBe('QTY_BELOW_MIN');
  });

  it('rounding never increases risk and never exceeds free margin (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('LONG' as const, 'SHORT' as const),
        fc.double({ min: 1e-4, max: 1e5, noNaN: true }),
        fc.double({ min: 0.001, max: 0.3, noNaN: true }),
        fc.double({ min: 0.01, max: 1e5, noNaN: true }),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: -5, max: 2 }),
        (direction, entry, dist, budget, freeMargin, leverage, qtyExp) => {
          const stop = direction === 'LONG' ? entry * (1 - dist) : entry * (1 + dist);
          const rules = { qtyStep: 10 ** qtyExp, minOrderQty: 10 ** qtyExp };
          const s = sizeSingleEntry({ direction, entryPrice: entry, stopPrice: stop, budgetUsd: budget, freeMarginUsd: freeMargin, leverage, entryFeeRate: 0.00055, exitFeeRate: 0.00055, rules });
          if (isRefusal(s)) return;
          expect(s.lossAtStopUsd).toBeLessThanOrEqual(budget * (1 + 1e-9));
          expect(s.qty * entry * (1 / leverage + 0.00055)).toBeLessThanOrEqual(freeMargin * (1 + 1e-9));
          expect(s.qty).toBeGreaterThanOrEqual(rules.minOrderQty);
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('leverage keeps the liquidation price beyond the stop and respects every cap', () => {
    expect(leverageFor(0.08, undefined, { maxLeverage: 100 })).toBe(10); // 1 / 0.095 = 10.5, capped 10
    expect(leverageFor(0.1, undefined, { maxLeverage: 100 })).toBe(8); // 1 / 0.115 = 8.7
    expect(leverageFor(0.05, 0.1, { maxLeverage: 100 })).toBe(3); // 0.3 / 0.1
    expect(leverageFor(0.05, undefined, { maxLeverage: 2 })).toBe(2);
    expect(leverageFor(0.9, undefined, { maxLeverage: 100 })).toBe(1);
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.3, noNaN: true }), fc.constantFrom('LONG' as const, 'SHORT' as const), (dist, direction) => {
        const lev = leverageFor(dist, undefined, { maxLeverage: 125 }, { riskFraction: 0.01, maxLeverage: 125, volatilityBudgetFraction: 0.3, liquidationBufferFraction: 0.01, maintenanceMarginRate: 0.005 });
        if (1 / lev - 0.005 <= dist) return; // only leverage 1 can be this close; nothing safer exists
        const liq = liquidationPrice(direction, 100, lev, 0.005);
        const stop = direction === 'LONG' ? 100 * (1 - dist) : 100 * (1 + dist);
        expect(direction === 'LONG' ? liq < stop : liq > stop).toBe(true);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});
