import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepInWindow, lastClosedBarMs, missingRanges, planWindows, splitWindows, targetRange, type Coverage, type TimeRange } from './history-plan.js';

const STEP = 60_000;
const steps = (r: TimeRange) => Array.from({ length: (r.toMs - r.fromMs) / STEP + 1 }, (_, i) => r.fromMs + i * STEP);
const rangeArb = fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 5_000 })).map(([a, n]) => ({ fromMs: a * STEP, toMs: (a + n) * STEP }));

describe('history planning', () => {
  it('splitWindows tiles a range exactly, at most `limit` bars each, oldest first for heads and newest first for tails', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 1, max: 1200 }), fc.constantFrom('head' as const, 'tail' as const), (range, limit, part) => {
        const ws = splitWindows(range, STEP, limit, part);
        const covered = ws.flatMap(steps);
        expect([...covered].sort((a, b) => a - b)).toEqual(steps(range));
        for (const w of ws) expect((w.toMs - w.fromMs) / STEP + 1).toBeLessThanOrEqual(limit);
        for (let i = 1; i < ws.length; i++) expect(part === 'head' ? ws[i]!.fromMs > ws[i - 1]!.toMs : ws[i]!.toMs < ws[i - 1]!.fromMs).toBe(true);
      }),
    );
  });

  it('missingRanges is exactly the target minus the covered range', () => {
    fc.assert(
      fc.property(rangeArb, fc.option(rangeArb, { nil: undefined }), (target, cov) => {
        const covered: Coverage | undefined = cov === undefined ? undefined : { firstMs: cov.fromMs, lastMs: cov.toMs };
        const gaps = missingRanges(covered, target, STEP);
        const got = [...(gaps.head ? steps(gaps.head) : []), ...(gaps.tail ? steps(gaps.tail) : [])].sort((a, b) => a - b);
        const want = steps(target).filter((t) => covered === undefined || t < covered.firstMs || t > covered.lastMs);
        expect(got).toEqual(want);
      }),
    );
  });

  it('interrupted after any number of windows and resumed later (new bars closed meanwhile), the store ends up equal to the server and no stored window is fetched again', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 1, max: 40 })), { maxLength: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 2_500 })), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 50, max: 300 }),
        (bars, holes, runs, limit) => {
          const all: TimeRange = { fromMs: 0, toMs: (bars - 1) * STEP };
          const server = new Set(steps(all).filter((t) => !holes.some(([a, n]) => t >= a * STEP && t < (a + n) * STEP)));
          const stored = new Set<number>();
          // Each run sees the bars closed by then (never fewer than the run before), the last one all of them.
          let visible = 0;
          for (const [stop, grow] of [...runs, [Infinity, bars] as const]) {
            visible = Math.min(bars - 1, visible + grow);
            const target: TimeRange = { fromMs: 0, toMs: visible * STEP };
            const times = [...stored];
            const covered = times.length === 0 ? undefined : { firstMs: Math.min(...times), lastMs: Math.max(...times) };
            let done = 0;
            let tailEnded = false;
            for (const w of planWindows(covered, target, STEP, limit)) {
              if (done++ >= stop) break;
              if (covered) expect(w.fromMs >= covered.firstMs && w.toMs <= covered.lastMs).toBe(false);
              if (w.part === 'tail' && tailEnded) continue;
              const rows = [...server].filter((t) => t >= w.fromMs && t <= w.toMs);
              if (rows.length === 0 && w.part === 'tail') tailEnded = true;
              for (const t of rows) stored.add(t);
            }
          }
          // Holes shorter than a window never end a tail early, so everything Bybit has is stored.
          expect([...stored].sort((a, b) => a - b)).toEqual([...server].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('never targets the still-open bar, and keeps only rows inside the window on the grid', () => {
    expect(lastClosedBarMs(10 * STEP + 1, STEP)).toBe(9 * STEP);
    expect(lastClosedBarMs(10 * STEP, STEP)).toBe(9 * STEP);
    expect(targetRange(10 * STEP + 5, 10 * STEP + 30_000, STEP)).toBeUndefined();
    const rows = [3, 1, 2, 2, 9, 5].map((i) => ({ tsMs: i * STEP + (i === 5 ? 7 : 0), v: i }));
    expect(keepInWindow(rows, { fromMs: STEP, toMs: 4 * STEP }, STEP).map((r) => r.v)).toEqual([1, 2, 3]);
  });
});
