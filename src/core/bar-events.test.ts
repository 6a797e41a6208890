import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barEvents, combineBars, mergeByTime, OpenInterestCurve, type HistoryBar } from './bar-events.js';
import type { MarketEvent } from './events.js';

const bar = fc
  .record({ open: fc.double({ min: 1, max: 100, noNaN: true }), close: fc.double({ min: 1, max: 100, noNaN: true }), up: fc.double({ min: 0, max: 5, noNaN: true }), down: fc.double({ min: 0, max: 0.9, noNaN: true }), volume: fc.double({ min: 0, max: 1e6, noNaN: true }) })
  .map((r) => ({ open: r.open, close: r.close, high: Math.max(r.open, r.close) + r.up, low: Math.min(r.open, r.close) * (1 - r.down), volume: r.volume, turnover: r.volume * (r.open + r.close) / 2 }));

describe('stored bars as market events', () => {
  it('each bar replays its open, high, low and close, its whole volume and turnover, in time order inside the bar', () => {
    fc.assert(
      fc.property(fc.array(bar, { minLength: 1, maxLength: 20 }), (raw) => {
        const bars: HistoryBar[] = raw.map((b, i) => ({ ...b, startMs: i * 60_000, intervalMs: 60_000 }));
        const events = [...barEvents('XUSDT', bars, [])];
        for (let i = 1; i < events.length; i++) expect(events[i]!.tsInit).toBeGreaterThanOrEqual(events[i - 1]!.tsInit);
        bars.forEach((b, i) => {
          const inBar = events.filter((e) => e.tsInit >= b.startMs && e.tsInit < b.startMs + 60_000);
          const prices = inBar.filter((e) => e.kind === 'ticker').map((e) => e.lastPrice);
          expect(prices[0]).toBe(b.open);
          expect(prices.at(-1)).toBe(b.close);
          expect(Math.max(...prices)).toBe(b.high);
          expect(Math.min(...prices)).toBe(b.low);
          const trades = inBar.filter((e) => e.kind === 'trades');
          expect(trades.reduce((a, t) => a + t.buyQty + t.sellQty, 0)).toBeCloseTo(b.volume, 6);
          expect(trades.reduce((a, t) => a + t.buyTurnoverUsd + t.sellTurnoverUsd, 0)).toBeCloseTo(b.turnover, 4);
          void i;
        });
      }),
    );
  });

  it('a falling bar goes open → high → low → close; a rising one open → low → high → close', () => {
    const down = [...barEvents('X', [{ startMs: 0, intervalMs: 60_000, open: 10, high: 11, low: 8, close: 9, volume: 0, turnover: 0 }], [])];
    expect(down.map((e) => [e.tsInit, e.kind === 'liquidations' ? NaN : e.lastPrice])).toEqual([[0, 10], [20_000, 11], [40_000, 8], [59_000, 9]]);
    const up = [...barEvents('X', [{ startMs: 0, intervalMs: 60_000, open: 10, high: 12, low: 9, close: 11, volume: 6, turnover: 60 }], [])];
    // Legs 1, 3, 1 of 5: the 3-unit climb carries 60 % of the volume, bought by takers.
    const trades = up.filter((e) => e.kind === 'trades');
    const qty = trades.map((t) => [t.buyQty, t.sellQty]).flat();
    [0, 1.2, 3.6, 0, 0, 1.2].forEach((q, i) => expect(qty[i]).toBeCloseTo(q, 12));
  });

  it('open interest is linear between readings and flat outside them', () => {
    const c = new OpenInterestCurve([{ tsMs: 1000, openInterest: 100 }, { tsMs: 3000, openInterest: 200 }]);
    expect([c.at(0), c.at(1000), c.at(2000), c.at(2500), c.at(9000)]).toEqual([100, 100, 150, 175, 200]);
    expect(new OpenInterestCurve([]).at(5)).toBeNaN();
  });

  it('minute bars win over the hourly bar of their hour; streams merge in time order, ties by stream order', () => {
    const h = (startMs: number): HistoryBar => ({ startMs, intervalMs: 3_600_000, open: 1, high: 1, low: 1, close: 1, volume: 0, turnover: 0 });
    const m = (startMs: number): HistoryBar => ({ ...h(startMs), intervalMs: 60_000 });
    expect(combineBars([m(3_600_000), m(3_660_000)], [h(0), h(3_600_000), h(7_200_000)]).map((b) => b.startMs)).toEqual([0, 3_600_000, 3_660_000, 7_200_000]);
    const tick = (symbol: string, t: number): MarketEvent => ({ kind: 'ticker', symbol, tsEvent: t, tsInit: t, lastPrice: 1, markPrice: 1, openInterest: 1, openInterestValue: 1, fundingRate: 0 });
    const merged = [...mergeByTime([[tick('A', 1), tick('A', 5)][Symbol.iterator](), [tick('B', 1), tick('B', 3)][Symbol.iterator]()])];
    expect(merged.map((e) => `${e.symbol}${e.tsInit}`)).toEqual(['A1', 'B1', 'B3', 'A5']);
  });
});
