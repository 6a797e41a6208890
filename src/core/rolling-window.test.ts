import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollingWindow } from './rolling-window.js';

const H = 10;
const WINDOWS = [1, 3, 10] as const;

function small(): RollingWindow {
  return new RollingWindow({ horizonSec: H, windowsSec: WINDOWS, sumSeries: 2, lastSeries: 1 });
}

describe('RollingWindow (10 s horizon)', () => {
  it('sums each window over the buckets ending at the head, inclusive', () => {
    const w = small();
    for (const [ts, v] of [
      [0, 1],
      [1500, 2],
      [2999, 4],
      [2000, 8],
    ] as const) {
      const age = w.locate(ts);
      w.add(0, age, v);
    }
    expect(w.headMs).toBe(2999);
    expect(w.sum(0, 0)).toBe(12); // second 2 (the late 8 lands in its own bucket)
    expect(w.sum(0, 1)).toBe(15); // seconds 0..2
    expect(w.sum(0, 2)).toBe(15);
    expect(w.sum(1, 2)).toBe(0);
    w.locate(5000);
    expect(w.sum(0, 1)).toBe(0); // seconds 3..5
    expect(w.sum(0, 2)).toBe(15);
    w.locate(10_000);
    expect(w.sum(0, 2)).toBe(14); // second 0 left the 10 s window
    expect(w.historySec).toBe(10);
  });

  it('drops and counts events whose bucket is a horizon old', () => {
    const w = small();
    w.locate(20_000);
    expect(w.locate(10_999)).toBe(-1);
    expect(w.locate(11_000)).toBe(9);
    expect(w.staleEventCount).toBe(1);
  });

  it('resets on a head jump of a full horizon, not one bucket less', () => {
    const w = small();
    w.add(0, w.locate(0), 5);
    w.observe(0, w.locate(0), 0, 42);
    w.locate(9_999);
    expect(w.sum(0, 2)).toBe(5);
    expect(w.resetCount).toBe(0);
    w.locate(19_000);
    expect(w.resetCount).toBe(1);
    expect(w.sum(0, 2)).toBe(0);
    expect(w.lastValue(0)).toBeNaN();
    expect(w.historySec).toBe(1);
  });

  it('forward-fills last values and ignores observations older than the latest', () => {
    const w = small();
    w.observe(0, w.locate(1000), 1000, 10);
    w.observe(0, w.locate(4000), 4000, 40);
    w.observe(0, w.locate(3500), 3500, 35); // older than the 4000 ms observation
    w.locate(6000);
    expect(w.valueAt(0, 0)).toBe(40);
    expect(w.valueAt(0, 2)).toBe(40); // second 4
    expect(w.valueAt(0, 3)).toBe(10); // second 3: filled from second 1
    expect(w.valueAt(0, 5)).toBe(10); // second 1
    expect(w.valueAt(0, 6)).toBeNaN(); // second 0: before the first observation
    expect(() => w.valueAt(0, H)).toThrow(RangeError);
  });

  it('is NaN everywhere before the first event', () => {
    const w = small();
    expect(w.isEmpty).toBe(true);
    expect(w.sum(0, 0)).toBeNaN();
    expect(w.historySec).toBeNaN();
    expect(w.headMs).toBeNaN();
    expect(w.valueAt(0, 0)).toBeNaN();
  });

  it('rejects windows longer than the horizon', () => {
    expect(() => new RollingWindow({ horizonSec: 5, windowsSec: [6], sumSeries: 1, lastSeries: 0 })).toThrow(RangeError);
  });

  it('keeps a small remainder exact after large values left (compensated running sums)', () => {
    const w = small();
    for (let s = 0; s < 50; s++) {
      const age = w.locate(s * 1000);
      w.add(0, age, 1e15 / 3 + s);
      w.add(0, age, 0.1);
    }
    w.add(0, w.locate(50_000), 1e-3);
    w.locate(52_000); // window 3: seconds 50..52
    // plain running sums would be off by ~0.1 here (rounding of 1e15-sized terms)
    expect(Math.abs(w.sum(0, 1) - 1e-3)).toBeLessThan(1e-15);
  });
});

type Op = { advanceMs: number; lagMs: number; series: number; value: number; observe: boolean };

describe('RollingWindow vs brute force (small horizon, all ages)', () => {
  const SEED = 77_001;
  const op = fc.record({
    advanceMs: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 2_500 }) },
      { weight: 2, arbitrary: fc.integer({ min: 2_500, max: 9_999 }) },
      { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 25_000 }) },
    ),
    lagMs: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 12_000 }) }),
    series: fc.integer({ min: 0, max: 1 }),
    value: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e6, noNaN: true })),
    observe: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 3, arbitrary: fc.constant(false) }),
  });

  it(`matches sums for every window and values at every age (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }), (ops: Op[]) => {
        const w = small();
        const log: { bucket: number; ts: number; series: number; value: number; observe: boolean }[] = [];
        let cursor = 5_000_000;
        let head = NaN;
        let stale = 0;
        const lastTs = [-Infinity, -Infinity];
        for (const o of ops) {
          cursor += o.advanceMs;
          const ts = cursor - o.lagMs;
          const bucket = Math.floor(ts / 1000);
          const age = w.locate(ts);
          const hb = Math.floor(head / 1000);
          if (!Number.isNaN(head) && bucket >= hb + H) {
            log.length = 0;
            lastTs[0] = lastTs[1] = -Infinity;
          } else if (!Number.isNaN(head) && bucket <= hb - H) {
            stale++;
            expect(age).toBe(-1);
            continue;
          }
          head = Number.isNaN(head) ? ts : Math.max(head, ts);
          if (o.observe) {
            w.observe(0, age, ts, o.value);
            if (ts >= lastTs[0]!) {
              lastTs[0] = ts;
              log.push({ bucket, ts, series: 0, value: o.value, observe: true });
            }
          } else {
            w.add(o.series, age, o.value);
            log.push({ bucket, ts, series: o.series, value: o.value, observe: false });
          }
          const headBucket = Math.floor(head / 1000);
          for (let s = 0; s < 2; s++) {
            WINDOWS.forEach((len, wi) => {
              let expected = 0;
              for (const e of log) {
                if (!e.observe && e.series === s && e.bucket > headBucket - len) expected += e.value;
              }
              const actual = w.sum(s, wi);
              if (!(Math.abs(actual - expected) <= 1e-9 * expected)) {
                expect.fail(`series ${s} window ${len}s: ${actual}, expected ${expected}`);
              }
            });
          }
          for (let a = 0; a < H; a++) {
            let expected = NaN;
            for (const e of log) if (e.observe && e.bucket <= headBucket - a) expected = e.value;
            const actual = w.valueAt(0, a);
            if (!Object.is(actual, expected)) expect.fail(`value at age ${a}: ${actual}, expected ${expected}`);
          }
        }
        expect(w.staleEventCount).toBe(stale);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
