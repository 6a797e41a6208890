import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollingWindow } from './rolling-window.js';

const H = 10;
const WINDOWS = [1, 3, 10] as const;
/** Ring lengths: sum series 0 and last series 0 keep the horizon, sum series 1 and last series 1 keep 4 s. */
const SHORT = 4;
const SUM_SEC = [H, SHORT] as const;
const LAST_SEC = [H, SHORT] as const;

function small(): RollingWindow {
  return new RollingWindow({ horizonSec: H, windowsSec: WINDOWS, sumSeriesSec: [H, H], lastSeriesSec: [H] });
}

function mixed(): RollingWindow {
  return new RollingWindow({ horizonSec: H, windowsSec: WINDOWS, sumSeriesSec: SUM_SEC, lastSeriesSec: LAST_SEC });
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

  it('rejects windows longer than the horizon or out of order, and series histories outside 1..horizon', () => {
    const cfg = { horizonSec: 5, windowsSec: [1, 5], sumSeriesSec: [5], lastSeriesSec: [5] };
    expect(() => new RollingWindow({ ...cfg, windowsSec: [6] })).toThrow(RangeError);
    expect(() => new RollingWindow({ ...cfg, windowsSec: [3, 2] })).toThrow(RangeError);
    expect(() => new RollingWindow({ ...cfg, sumSeriesSec: [6] })).toThrow(RangeError);
    expect(() => new RollingWindow({ ...cfg, lastSeriesSec: [0] })).toThrow(RangeError);
    expect(new RollingWindow(cfg).horizonSec).toBe(5);
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

describe('RollingWindow with per-series history (10 s horizon, 4 s short series)', () => {
  it('keeps only the windows that fit a series\' ring and ignores values older than it', () => {
    const w = mixed();
    w.add(1, w.locate(0), 100); // second 0
    w.add(1, w.locate(5000), 7); // second 5
    w.add(1, w.locate(1000), 50); // age 4: older than the 4 s ring, ignored
    w.add(1, w.locate(3000), 3); // age 2: inside
    w.add(0, w.locate(1000), 50); // the long series keeps it
    expect(w.sum(1, 0)).toBe(7);
    expect(w.sum(1, 1)).toBe(10); // seconds 3..5
    expect(w.sum(0, 2)).toBe(50);
    expect(w.sum(1, 2)).toBeNaN(); // a 10 s window does not fit a 4 s ring
    expect(w.staleEventCount).toBe(0);
  });

  it('a jump past the short ring but inside the horizon empties short sums, keeps latest values and long data', () => {
    const w = mixed();
    let age = w.locate(0);
    w.add(0, age, 5);
    w.add(1, age, 9);
    w.observe(0, age, 0, 10);
    w.observe(1, age, 0, 20);
    age = w.locate(6000); // 6 s gap: >= 4 s ring, < 10 s horizon
    w.add(1, age, 0);
    expect(w.resetCount).toBe(0);
    expect(w.sum(1, 0)).toBe(0);
    expect(w.sum(1, 1)).toBe(0);
    expect(w.sum(0, 2)).toBe(5);
    expect(w.lastValue(1)).toBe(20);
    expect(w.valueAt(1, 3)).toBe(20); // forward-filled from second 0
    expect(w.valueAt(0, 6)).toBe(10);
    expect(() => w.valueAt(1, SHORT)).toThrow(RangeError);
    w.add(1, w.locate(7000), 2);
    expect(w.sum(1, 1)).toBe(2);
    expect(w.historySec).toBe(8);
  });

  it('after a jump that emptied a short ring, its windows read exactly 0 again once new values leave', () => {
    let state = 1; // Park-Miller, fixed seed: mixed magnitudes whose compensated sums leave tiny residues
    const next = (): number => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
    for (let trial = 0; trial < 50; trial++) {
      const w = new RollingWindow({ horizonSec: 100, windowsSec: [10, 30], sumSeriesSec: [40], lastSeriesSec: [] });
      w.add(0, w.locate(0), 5);
      w.locate(50_000); // 50 s jump: the 40 s ring is emptied at once
      for (let i = 0; i < 30; i++) {
        w.add(0, w.locate(50_000 + 1000 * i), next() < 0.3 ? next() * 1e-3 : next() * 10 ** Math.floor(next() * 16));
      }
      w.locate(109_000); // every bucket 50..79 has left the 30 s window
      expect(w.sum(0, 1)).toBe(0);
      expect(w.sum(0, 0)).toBe(0);
    }
  });

  it('an observation older than the short ring still becomes the latest value', () => {
    const w = mixed();
    w.locate(9000);
    w.observe(1, w.locate(2000), 2000, 42); // age 7
    expect(w.lastValue(1)).toBe(42);
    expect(w.valueAt(1, 0)).toBe(42);
    expect(w.valueAt(1, 3)).toBe(42);
    w.observe(1, w.locate(10_500), 10_500, 43);
    expect(w.valueAt(1, 0)).toBe(43);
    expect(w.valueAt(1, 1)).toBe(42);
  });
});

type Op = { advanceMs: number; lagMs: number; series: number; value: number; observe: boolean };
type Entry = { bucket: number; series: number; value: number; observe: boolean };

/**
 * The documented semantics, by brute force over a log of raw accepted inputs: one head and horizon for all
 * series; a sum value counts only if its bucket was inside its series' ring when it arrived (age < length);
 * a last-value observation counts if it is not older (ms) than the series' latest, whatever its age.
 */
describe('RollingWindow vs brute force (small horizon, two ring lengths, all ages)', () => {
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

  it(`matches sums for every window that fits and values at every kept age (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }), (ops: Op[]) => {
        const w = mixed();
        const log: Entry[] = [];
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
          const headBucket = Math.floor(head / 1000);
          if (age !== headBucket - bucket) expect.fail(`age ${age}, expected ${headBucket - bucket}`);
          if (o.observe) {
            w.observe(o.series, age, ts, o.value);
            if (ts >= lastTs[o.series]!) {
              lastTs[o.series] = ts;
              log.push({ bucket, series: o.series, value: o.value, observe: true });
            }
          } else {
            w.add(o.series, age, o.value);
            if (headBucket - bucket < SUM_SEC[o.series]!) log.push({ bucket, series: o.series, value: o.value, observe: false });
          }
          for (let s = 0; s < 2; s++) {
            WINDOWS.forEach((len, wi) => {
              if (len > SUM_SEC[s]!) return;
              let expected = 0;
              for (const e of log) {
                if (!e.observe && e.series === s && e.bucket > headBucket - len) expected += e.value;
              }
              const actual = w.sum(s, wi);
              if (!(Math.abs(actual - expected) <= 1e-9 * expected)) {
                expect.fail(`series ${s} window ${len}s: ${actual}, expected ${expected}`);
              }
            });
            let latest = NaN;
            for (const e of log) if (e.observe && e.series === s) latest = e.value;
            if (!Object.is(w.lastValue(s), latest)) expect.fail(`last value ${s}: ${w.lastValue(s)}, expected ${latest}`);
            for (let a = 0; a < LAST_SEC[s]!; a++) {
              let expected = NaN;
              for (const e of log) if (e.observe && e.series === s && e.bucket <= headBucket - a) expected = e.value;
              const actual = w.valueAt(s, a);
              if (!Object.is(actual, expected)) expect.fail(`series ${s} value at age ${a}: ${actual}, expected ${expected}`);
            }
          }
        }
        expect(w.staleEventCount).toBe(stale);
        expect(w.sum(1, 2)).toBeNaN();
        expect(() => w.valueAt(1, SHORT)).toThrow(RangeError);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
