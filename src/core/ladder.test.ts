import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { geometricWeights, ladderPrices, ladderRungPrices, sizeLadder, DEFAULT_LADDER_CONFIG } from './ladder.js';
import { isRefusal } from './refusal.js';
import { lossPerUnitAtStop } from './sizing.js';

describe('scaled ladder', () => {
  it('evenly spaced prices, geometric sizes (ratio 2)', () => {
    expect(ladderPrices(115_000, 110_000, 6)).toEqual([115_000, 114_000, 113_000, 112_000, 111_000, 110_000]);
    const w = geometricWeights(4, 2);
    expect(w.map((x) => x * 15)).toEqual([1, 2, 4, 8]);
  });

  it('goes from the price to 2 % beyond the nearest losing-side cluster, mirrored for SHORT', () => {
    const long = ladderRungPrices('LONG', 115_000, { low: 110_000, high: 111_000 }, DEFAULT_LADDER_CONFIG, { tickSize: 0.1 });
    if (isRefusal(long)) throw new Error(long.message);
    expect(long).toHaveLength(10);
    expect(long[0]).toBe(115_000);
    expect(long[9]).toBe(107_800);
    const short = ladderRungPrices('SHORT', 100, { low: 105, high: 110 }, { ...DEFAULT_LADDER_CONFIG, rungs: 3 }, { tickSize: 0.01 });
    expect(short).toEqual([100, 106.1, 112.2]);
    const none = ladderRungPrices('LONG', 100, { low: 105, high: 110 }, DEFAULT_LADDER_CONFIG, { tickSize: 0.01 });
    expect(isRefusal(none) && none.reason).toBe('NO_LADDER_CLUSTER');
  });

  it('the full-fill loss at the stop never exceeds the risk budget (property)', () => {
    let sized = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('LONG' as const, 'SHORT' as const),
        fc.double({ min: 0.01, max: 1e5, noNaN: true }),
        fc.double({ min: 0.01, max: 0.3, noNaN: true }),
        fc.integer({ min: 2, max: 20 }),
        fc.double({ min: 1, max: 3, noNaN: true }),
        fc.double({ min: 1, max: 1e5, noNaN: true }),
        fc.integer({ min: -4, max: 1 }),
        (direction, price, depth, rungs, ratio, budget, qtyExp) => {
          const s = direction === 'LONG' ? -1 : 1;
          const prices = ladderPrices(price, price * (1 + s * depth), rungs);
          const stop = prices[rungs - 1]! * (1 + s * 0.05);
          const rules = { qtyStep: 10 ** qtyExp, minOrderQty: 10 ** qtyExp };
          const out = sizeLadder({ direction, prices, stopPrice: stop, budgetUsd: budget, freeMarginUsd: 1e9, leverage: 5, sizeRatio: ratio, makerFeeRate: 0.0002, takerFeeRate: 0.00055, rules });
          if (isRefusal(out)) {
            expect(out.reason).toBe('QTY_BELOW_MIN');
            return;
          }
          sized++;
          const loss = out.rungs.reduce((a, r) => a + r.qty * lossPerUnitAtStop(direction, r.priceUsd, stop, 0.0002, 0.00055), 0);
          expect(loss).toBeLessThanOrEqual(budget * (1 + 1e-9));
          expect(out.lossAtStopUsd).toBeCloseTo(loss, 6);
          for (let i = 1; i < out.rungs.length; i++) expect(out.rungs[i]!.qty).toBeGreaterThanOrEqual(out.rungs[i - 1]!.qty);
        },
      ),
      { seed: 13, numRuns: 1000 },
    );
    expect(sized).toBeGreaterThan(300);
  });
});
