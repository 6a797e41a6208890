import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeWickStats, historicalWickFraction, type HourlyBar, type WickTimeframe } from './wick-stats.js';

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 0, 1, 0);

/** A bar from a generated open, close and two wick fractions; 1 h apart with random gaps. */
const barsArb = fc
  .array(fc.record({ gap: fc.integer({ min: 1, max: 3 }), open: fc.double({ min: 1, max: 1000, noNaN: true }), move: fc.double({ min: -0.2, max: 0.2, noNaN: true }), up: fc.double({ min: 0, max: 0.3, noNaN: true }), down: fc.double({ min: 0, max: 0.5, noNaN: true }) }), { minLength: 1, maxLength: 120 })
  .map((xs) => {
    let t = BASE + 5 * HOUR;
    return xs.map((x): HourlyBar => {
      t += x.gap * HOUR;
      const close = x.open * (1 + x.move);
      return { tsMs: t, open: x.open, close, high: Math.max(x.open, close) * (1 + x.up), low: Math.min(x.open, close) * (1 - x.down) };
    });
  });

/** Brute force: group by the UTC period with a plain object, sort, nearest-rank percentile by definition. */
function naive(bars: readonly HourlyBar[], tf: WickTimeframe) {
  const periodMs = tf === '1h' ? HOUR : tf === '4h' ? 4 * HOUR : 24 * HOUR;
  const groups: Record<string, HourlyBar[]> = {};
  for (const b of bars) (groups[String(Math.floor(b.tsMs / periodMs))] ??= []).push(b);
  const agg = Object.values(groups).map((g) => {
    const s = [...g].sort((a, b) => a.tsMs - b.tsMs);
    return { open: s[0]!.open, close: s[s.length - 1]!.close, high: Math.max(...s.map((b) => b.high)), low: Math.min(...s.map((b) => b.low)) };
  });
  const ups = agg.map((b) => ((b.high - Math.max(b.open, b.close)) / b.open) * 100).sort((a, b) => a - b);
  const downs = agg.map((b) => ((Math.min(b.open, b.close) - b.low) / b.open) * 100).sort((a, b) => a - b);
  const pct = (xs: number[], p: number) => xs.find((_, i) => (i + 1) / xs.length >= p / 100)!;
  return { bars: agg.length, up: { maxPct: ups[ups.length - 1], p95Pct: pct(ups, 95), p99Pct: pct(ups, 99) }, down: { maxPct: downs[downs.length - 1], p95Pct: pct(downs, 95), p99Pct: pct(downs, 99) } };
}

function naiveExcursion(bars: readonly HourlyBar[], hours: number) {
  let longPct = 0;
  let shortPct = 0;
  for (const e of bars) {
    const w = bars.filter((b) => b.tsMs >= e.tsMs && b.tsMs < e.tsMs + hours * HOUR);
    longPct = Math.max(longPct, ((e.open - Math.min(...w.map((b) => b.low))) / e.open) * 100);
    shortPct = Math.max(shortPct, ((Math.max(...w.map((b) => b.high)) - e.open) / e.open) * 100);
  }
  return { longPct, shortPct };
}

describe('wick statistics', () => {
  it('max, p95, p99 on 1h, 4h and 1d bars equal a brute-force reference', () => {
    fc.assert(
      fc.property(barsArb, (bars) => {
        const stats = computeWickStats(bars);
        for (const tf of ['1h', '4h', '1d'] as const) expect(stats.timeframes[tf]).toEqual(naive(bars, tf));
        expect(stats.hourlyBars).toBe(bars.length);
      }),
    );
  });

  it('worst adverse excursion within N hours equals a brute-force reference, in any input order', () => {
    fc.assert(
      fc.property(barsArb, fc.integer({ min: 1, max: 48 }), fc.integer(), (bars, hours, seed) => {
        const shuffled = [...bars].sort((a, b) => ((a.tsMs * 31 + seed) % 7) - ((b.tsMs * 31 + seed) % 7));
        const stats = computeWickStats(shuffled, hours);
        const ref = naiveExcursion(bars, hours);
        expect(stats.excursion.longPct).toBeCloseTo(ref.longPct, 9);
        expect(stats.excursion.shortPct).toBeCloseTo(ref.shortPct, 9);
      }),
    );
  });

  it('a hand-checked day: wicks in % of the open, 4h/1d aggregated on the UTC grid', () => {
    const bars: HourlyBar[] = [
      { tsMs: BASE, open: 100, high: 103, low: 95, close: 101 }, // up (103−101)/100 = 2 %, down (100−95)/100 = 5 %
      { tsMs: BASE + HOUR, open: 101, high: 102, low: 92, close: 100 }, // down (100−92)/101
      { tsMs: BASE + 4 * HOUR, open: 100, high: 110, low: 99, close: 104 },
    ];
    const s = computeWickStats(bars, 2);
    expect(s.timeframes['1h'].up.maxPct).toBeCloseTo(6, 12);
    expect(s.timeframes['1h'].down.maxPct).toBeCloseTo((8 / 101) * 100, 12);
    // 00:00–04:00 bar: open 100, high 103, low 92, close 100 → down 8 %, up 3 %.
    expect(s.timeframes['4h'].bars).toBe(2);
    expect(s.timeframes['4h'].down.maxPct).toBeCloseTo(8, 12);
    // The day: open 100, high 110, low 92, close 104 → down 8 %, up 6 %.
    expect(s.timeframes['1d'].bars).toBe(1);
    expect(s.timeframes['1d'].up.maxPct).toBeCloseTo(6, 12);
    // A LONG at 01:00's open 101 sees the low 92 within 2 h: 8.91 % (at 00:00's open 100: 8 %); a SHORT at
    // 04:00's open 100 sees 110: 10 %.
    expect(s.excursion.longPct).toBeCloseTo((9 / 101) * 100, 12);
    expect(s.excursion.shortPct).toBeCloseTo(10, 12);
  });

  it('the wick stop reads the max wick against the trade only with enough history', () => {
    const bars: HourlyBar[] = Array.from({ length: 48 }, (_, i) => ({ tsMs: BASE + i * HOUR, open: 100, high: i === 30 ? 104 : 101, low: i === 7 ? 91 : 99, close: 100 }));
    const s = computeWickStats(bars);
    expect(historicalWickFraction(s, 'LONG', '1d', 48)).toBeCloseTo(0.09, 12);
    expect(historicalWickFraction(s, 'SHORT', '1h', 48)).toBeCloseTo(0.04, 12);
    expect(historicalWickFraction(s, 'LONG', '1d', 49)).toBeUndefined();
    expect(historicalWickFraction(undefined, 'LONG', '1d', 0)).toBeUndefined();
  });
});
