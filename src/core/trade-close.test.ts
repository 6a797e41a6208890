import { describe, expect, it } from 'vitest';
import { DEFAULT_SUCCESS_PRIOR, recordOutcome, successRate, successRatesBySymbol } from './pattern-stats.js';
import { DEFAULT_PLAN_CONFIG } from './trade-plan.js';
import { netPositionAfter, oneWayReversalOrders, planReversal } from './reversal.js';
import { isRefusal } from './refusal.js';
import { closeTrade } from './trade-close.js';
import { maxAdverseWickFraction } from './wick-history.js';

describe('trade close accounting', () => {
  it("the founder's LONG closed at its take-profit: PnL with maker entry and maker TP fees", () => {
    const qty = 0.1;
    const entryFee = 113_680 * qty * 0.0002;
    const exitFee = 115_917.5 * qty * 0.0002;
    const r = closeTrade('LONG', [{ priceUsd: 113_680, qty, feeUsd: entryFee }], [{ priceUsd: 115_917.5, qty, feeUsd: exitFee }], 10);
    expect(r.grossPnlUsd).toBeCloseTo(223.75, 9);
    expect(r.feesUsd).toBeCloseTo(2.2736 + 2.31835, 9);
    expect(Math.round(r.pnlUsd * 100) / 100).toBe(219.16);
    expect(r.pnlPct).toBeCloseTo((r.pnlUsd / 11_368) * 100, 9);
    expect(r.roePct).toBeCloseTo(r.pnlPct * 10, 9);
    expect(r.success).toBe(true);
  });
  it('volume-weights partial fills and mirrors for SHORT', () => {
    const r = closeTrade('SHORT', [{ priceUsd: 100, qty: 1, feeUsd: 0.055 }, { priceUsd: 102, qty: 3, feeUsd: 0.1683 }], [{ priceUsd: 105, qty: 4, feeUsd: 0.231 }], 5);
    expect(r.avgEntryPrice).toBeCloseTo(101.5, 12);
    expect(r.grossPnlUsd).toBeCloseTo(-14, 12);
    expect(r.success).toBe(false);
    expect(() => closeTrade('LONG', [{ priceUsd: 1, qty: 1, feeUsd: 0 }], [{ priceUsd: 1, qty: 0.5, feeUsd: 0 }], 1)).toThrow(/qty/);
  });
});

describe('pattern learning', () => {
  it('success rate with a Beta(1, 1) prior: 0.5 with no trades, shrunk toward it with few', () => {
    expect(successRate(undefined)).toBe(0.5);
    let s = recordOutcome('SOLUSDT', '7d', undefined, { success: true, clusterUsd: 2e7, durationSec: 600 });
    expect(successRate(s)).toBeCloseTo(2 / 3, 12);
    for (let i = 0; i < 9; i++) s = recordOutcome('SOLUSDT', '7d', s, { success: true, clusterUsd: 3e7, durationSec: 1200 });
    expect(successRate(s, DEFAULT_SUCCESS_PRIOR)).toBeCloseTo(11 / 12, 12);
    s = recordOutcome('SOLUSDT', '7d', s, { success: false, clusterUsd: 1e7, durationSec: 300 });
    expect(s).toMatchObject({ successCount: 10, failureCount: 1, minClusterUsd: 2e7 });
    expect(s.avgTimeToTargetSec).toBeCloseTo((600 + 9 * 1200) / 10, 9);
    expect(s.avgClusterUsd).toBeCloseTo((2e7 + 9 * 3e7 + 1e7) / 11, 3);
    const other = recordOutcome('SOLUSDT', '30d', undefined, { success: false, clusterUsd: 1e7, durationSec: 1 });
    expect(successRatesBySymbol([s, other]).get('SOLUSDT')).toBeCloseTo(11 / 14, 12);
  });
});

describe('reversal', () => {
  const reached = { low: 116_000, high: 117_000, centre: 116_500, usd: 2e8, side: 'short' as const, levelCount: 5, range: '7d' as const };
  const below = { low: 110_000, high: 111_000, centre: 110_500, usd: 1.5e8, side: 'long' as const, levelCount: 4, range: '7d' as const };
  const rules = { symbol: 'SOLUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxLeverage: 50 };

  it('after a LONG reaches its cluster: SHORT at market, stop 10 % beyond, TP at the next long cluster below × 1.002', () => {
    const plan = planReversal({ symbol: 'SOLUSDT', direction: 'LONG' }, reached, [below], { currentPrice: 116_100, volatilityFraction: undefined, equityUsd: 100_000, freeMarginUsd: 100_000, rules });
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.direction).toBe('SHORT');
    expect(plan.entries[0]).toMatchObject({ orderType: 'Market', priceUsd: 116_100 });
    expect(plan.stopLossPrice).toBe(127_710); // 116,100 × 1.10 (wider than 117,000 × 1.02 = 119,340)
    expect(plan.takeProfitPrice).toBe(110_721); // 110,500 × 1.002
  });

  it('BTC reversal is a ladder up to beyond the reached cluster; TP × 1.005', () => {
    const plan = planReversal({ symbol: 'BTCUSDT', direction: 'LONG' }, reached, [below], { currentPrice: 115_900, volatilityFraction: undefined, equityUsd: 1_000_000, freeMarginUsd: 1_000_000, rules: { ...rules, symbol: 'BTCUSDT' } }, DEFAULT_PLAN_CONFIG);
    if (isRefusal(plan)) throw new Error(plan.message);
    expect(plan.style).toBe('scaled');
    expect(plan.entries[plan.entries.length - 1]!.priceUsd).toBe(119_340);
    expect(plan.takeProfitPrice).toBe(111_052.5);
  });

  it('one-way mode: a reduce-only close then a separate open; net position is −shortQty', () => {
    const [close, open] = oneWayReversalOrders('LONG', 0.5, 0.3);
    expect(close).toMatchObject({ side: 'Sell', qty: 0.5, reduceOnly: true });
    expect(open).toMatchObject({ side: 'Sell', qty: 0.3, reduceOnly: false });
    expect(netPositionAfter(0.5, [close, open])).toBeCloseTo(-0.3, 12);
    // If the stop fired first (flat), the reduce-only close does nothing: no accidental flip to a 0.8 short.
    expect(netPositionAfter(0, [close])).toBe(0);
    // The single-order alternative (2× qty) only matches when both legs have the same size.
    expect(netPositionAfter(0.5, [{ side: 'Sell', qty: 1, reduceOnly: false, leg: 'open' }])).toBe(-0.5);
    // Fees of the two-order path: maker on the TP close, taker on the market open.
    const fees = 0.5 * 116_000 * 0.0002 + 0.3 * 116_000 * 0.00055;
    expect(fees).toBeCloseTo(11.6 + 19.14, 9);
  });
});

describe('wick history', () => {
  it('max adverse wick from minute bars, undefined until enough bars', () => {
    const bars = [
      { open: 100, high: 101, low: 97, close: 100.5 },
      { open: 100, high: 104, low: 99.5, close: 99 },
    ];
    expect(maxAdverseWickFraction(bars, 'LONG', 3)).toBeUndefined();
    expect(maxAdverseWickFraction(bars, 'LONG', 2)).toBeCloseTo(0.03, 12);
    expect(maxAdverseWickFraction(bars, 'SHORT', 2)).toBeCloseTo(0.04, 12);
  });
});
