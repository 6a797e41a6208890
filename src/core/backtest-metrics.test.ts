import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backtestMetrics, dailyReturns, drawdownSeriesPct, maxDrawdownPct, sharpeRatio, sortinoRatio, unionLengthMs } from './backtest-metrics.js';

const equityCurve = fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 });

describe('backtest metrics', () => {
  it('max drawdown equals the brute-force maximum over every peak/trough pair, and the drawdown series peaks at it', () => {
    fc.assert(
      fc.property(equityCurve, (eq) => {
        let brute = 0;
        for (let i = 0; i < eq.length; i++) for (let j = i; j < eq.length; j++) brute = Math.max(brute, ((eq[i]! - eq[j]!) / eq[i]!) * 100);
        expect(maxDrawdownPct(eq)).toBeCloseTo(brute, 9);
        expect(Math.max(0, ...drawdownSeriesPct(eq))).toBeCloseTo(brute, 9);
        expect(maxDrawdownPct(eq)).toBeGreaterThanOrEqual(0);
        expect(maxDrawdownPct(eq)).toBeLessThan(100);
      }),
    );
  });

  it('a rising curve has no drawdown; 100 → 80 → 120 → 90 has 25 %', () => {
    expect(maxDrawdownPct([1, 2, 3, 3])).toBe(0);
    expect(maxDrawdownPct([100, 80, 120, 90])).toBeCloseTo(25, 12);
  });

  it('win rate lies in [0, 100], wins + losses = trades, and total PnL = Σ per-coin PnL', () => {
    const trade = fc.record({ symbol: fc.constantFrom('AUSDT', 'BUSDT', 'CUSDT'), pnlUsd: fc.double({ min: -500, max: 500, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(trade, { maxLength: 40 }), (ts) => {
        const trades = ts.map((t, i) => ({ ...t, openedAtMs: i * 1000, closedAtMs: i * 1000 + 500 }));
        const m = backtestMetrics({ trades, equity: [], initialEquityUsd: 10_000, startMs: 0, endMs: 100_000, exposure: trades.map((t) => [t.openedAtMs, t.closedAtMs]) });
        expect(m.winRatePct).toBeGreaterThanOrEqual(0);
        expect(m.winRatePct).toBeLessThanOrEqual(100);
        expect(m.wins + m.losses).toBe(trades.length);
        const bySymbol = Object.values(m.pnlBySymbol).reduce((a, x) => a + x, 0);
        expect(bySymbol).toBeCloseTo(m.totalPnlUsd, 6);
        expect(m.avgWinUsd).toBeGreaterThanOrEqual(0);
        expect(m.avgLossUsd).toBeGreaterThanOrEqual(0);
        if (m.wins > 0 && m.losses > 0 && m.avgLossUsd > 0) expect(m.riskReward).toBeCloseTo(m.avgWinUsd / m.avgLossUsd, 9);
        else expect(m.riskReward).toBeNaN();
      }),
    );
  });

  it('three wins of 300 and one loss of 100: 75 %, R:R 3', () => {
    const mk = (pnlUsd: number, i: number) => ({ symbol: 'XUSDT', pnlUsd, openedAtMs: i, closedAtMs: i + 1 });
    const m = backtestMetrics({ trades: [300, -100, 300, 300].map(mk), equity: [], initialEquityUsd: 10_000, startMs: 0, endMs: 10, exposure: [] });
    expect(m).toMatchObject({ winRatePct: 75, avgWinUsd: 300, avgLossUsd: 100, riskReward: 3, totalPnlUsd: 800, returnPct: 8 });
  });

  it('exposure (union of open intervals) equals a brute-force count over a unit grid', () => {
    const interval = fc.tuple(fc.integer({ min: -20, max: 120 }), fc.integer({ min: 0, max: 60 })).map(([a, len]) => [a, a + len] as const);
    fc.assert(
      fc.property(fc.array(interval, { maxLength: 12 }), (ivs) => {
        let brute = 0;
        for (let t = 0; t < 100; t++) if (ivs.some(([a, b]) => t >= a && t < b)) brute++;
        expect(unionLengthMs(ivs, 0, 100)).toBe(brute);
      }),
    );
  });

  it('daily returns chain back to the final equity; Sharpe and Sortino follow the sign of the mean and need two days', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 5_000, max: 20_000, noNaN: true }), { minLength: 1, maxLength: 20 }), (closes) => {
        const day = 86_400_000;
        const samples = closes.map((equityUsd, i) => ({ tsMs: i * day + day / 2, equityUsd }));
        const r = dailyReturns(samples, 10_000, 0, closes.length * day);
        expect(r).toHaveLength(closes.length);
        expect(r.reduce((a, x) => a * (1 + x), 10_000)).toBeCloseTo(closes.at(-1)!, 6);
        const s = sharpeRatio(r, 365);
        const mean = r.reduce((a, x) => a + x, 0) / r.length;
        if (r.length < 2) expect(s).toBeNaN();
        else if (!Number.isNaN(s) && Math.abs(mean) > 1e-12) expect(Math.sign(s)).toBe(Math.sign(mean));
        const so = sortinoRatio(r, 365);
        if (!Number.isNaN(so) && Math.abs(mean) > 1e-12) expect(Math.sign(so)).toBe(Math.sign(mean));
      }),
    );
  });

  it('Sharpe by hand: daily returns +1 %, −1 %, +2 % → mean 0.6667 %, sd 1.5275 %, × √365', () => {
    const r = [0.01, -0.01, 0.02];
    expect(sharpeRatio(r, 365)).toBeCloseTo((0.02 / 3 / Math.sqrt(((0.01 - 0.02 / 3) ** 2 + (-0.01 - 0.02 / 3) ** 2 + (0.02 - 0.02 / 3) ** 2) / 2)) * Math.sqrt(365), 9);
    expect(sortinoRatio(r, 365)).toBeCloseTo((0.02 / 3 / Math.sqrt(0.0001 / 3)) * Math.sqrt(365), 9);
  });
});
