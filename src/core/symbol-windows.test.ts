import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SymbolFeatures } from './features.js';
import { SymbolWindows, emptyFeatures } from './symbol-windows.js';

type TickerEv = { kind: 'ticker'; ts: number; last: number; mark: number; oi: number; oiv: number };
type TradesEv = { kind: 'trades'; ts: number; bq: number; sq: number; bu: number; su: number };
type LiqEv = { kind: 'liq'; ts: number; long: number; short: number };
type Ev = TickerEv | TradesEv | LiqEv;
type Field = 'last' | 'mark' | 'oi' | 'oiv';
const FIELDS: readonly Field[] = ['last', 'mark', 'oi', 'oiv'];

/**
 * Brute-force model: keeps the raw accepted events of the current epoch and recomputes every feature from
 * them, straight from the definitions (no buckets, no running sums).
 */
class NaiveWindows {
  private epoch: { ev: Ev; accepted: Set<Field> }[] = [];
  private head = NaN;
  private readonly latestObs = new Map<Field, number>();
  stale = 0;

  constructor(private readonly horizonSec: number) {}

  push(ev: Ev): void {
    const b = Math.floor(ev.ts / 1000);
    if (Number.isNaN(this.head)) {
      this.head = ev.ts;
    } else {
      const hb = Math.floor(this.head / 1000);
      if (b >= hb + this.horizonSec) {
        this.epoch = [];
        this.latestObs.clear();
      } else if (b <= hb - this.horizonSec) {
        this.stale++;
        return;
      }
      this.head = Math.max(this.head, ev.ts);
    }
    const accepted = new Set<Field>();
    if (ev.kind === 'ticker') {
      for (const f of FIELDS) {
        const v = ev[f];
        if (Number.isNaN(v)) continue;
        if (ev.ts < (this.latestObs.get(f) ?? -Infinity)) continue;
        this.latestObs.set(f, ev.ts);
        accepted.add(f);
      }
    }
    this.epoch.push({ ev, accepted });
  }

  private valueAsOf(field: Field, bucket: number): number {
    let v = NaN;
    for (const { ev, accepted } of this.epoch) {
      if (ev.kind === 'ticker' && accepted.has(field) && Math.floor(ev.ts / 1000) <= bucket) v = ev[field];
    }
    return v;
  }

  private sum(windowSec: number, pick: (ev: Ev) => number): number {
    const hb = Math.floor(this.head / 1000);
    let s = 0;
    for (const { ev } of this.epoch) {
      const b = Math.floor(ev.ts / 1000);
      if (b > hb - windowSec && b <= hb) s += pick(ev);
    }
    return s;
  }

  features(): SymbolFeatures {
    if (Number.isNaN(this.head)) return emptyFeatures();
    const hb = Math.floor(this.head / 1000);
    const pct = (now: number, then: number): number => (then === 0 ? NaN : ((now - then) / then) * 100);
    const last = this.valueAsOf('last', Infinity);
    const oi = this.valueAsOf('oi', Infinity);
    const buyUsd = (e: Ev): number => (e.kind === 'trades' ? e.bu : 0);
    const sellUsd = (e: Ev): number => (e.kind === 'trades' ? e.su : 0);
    const buy5 = this.sum(300, buyUsd);
    const sell5 = this.sum(300, sellUsd);
    const hour = this.sum(3600, buyUsd) + this.sum(3600, sellUsd);
    const firstBucket = Math.min(...this.epoch.map((e) => Math.floor(e.ev.ts / 1000)));
    const historySec = Math.min(hb - firstBucket + 1, this.horizonSec);
    const covered = Math.min(historySec, 3600);
    const avg = covered < 600 ? NaN : hour / (covered / 300);
    return {
      lastPrice: last,
      markPrice: this.valueAsOf('mark', Infinity),
      openInterest: oi,
      openInterestValue: this.valueAsOf('oiv', Infinity),
      priceChangePct1m: pct(last, this.valueAsOf('last', hb - 60)),
      priceChangePct5m: pct(last, this.valueAsOf('last', hb - 300)),
      oiChangePct15m: pct(oi, this.valueAsOf('oi', hb - 900)),
      volume5mUsd: buy5 + sell5,
      volumeRatio5m: avg > 0 ? (buy5 + sell5) / avg : NaN,
      buyVolume5mUsd: buy5,
      sellVolume5mUsd: sell5,
      liqLongUsd5m: this.sum(300, (e) => (e.kind === 'liq' ? e.long : 0)),
      liqShortUsd5m: this.sum(300, (e) => (e.kind === 'liq' ? e.short : 0)),
      historySec,
      tsEvent: this.head,
    };
  }
}

function apply(w: SymbolWindows, ev: Ev): void {
  if (ev.kind === 'ticker') w.onTicker(ev.ts, ev.last, ev.mark, ev.oi, ev.oiv);
  else if (ev.kind === 'trades') w.onTrades(ev.ts, ev.bq, ev.sq, ev.bu, ev.su);
  else w.onLiquidations(ev.ts, ev.long, ev.short);
}

/** Exact NaN-ness, values equal within 1e-9 relative. Plain checks (not `expect`) keep 100k comparisons fast. */
function mismatches(actual: SymbolFeatures, expected: SymbolFeatures): string[] {
  const bad: string[] = [];
  for (const key of Object.keys(expected) as (keyof SymbolFeatures)[]) {
    const a = actual[key];
    const e = expected[key];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isNaN(a) && Math.abs(a - e) <= 1e-9 * Math.max(Math.abs(a), Math.abs(e));
    if (!ok) bad.push(`${key} = ${a}, expected ${e}`);
  }
  return bad;
}

// Realistic magnitudes: zero or in [1e-3, 1e6]; a few repeated round values so equal prices occur.
const amount = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.constantFrom(1, 100, 2500) },
  { weight: 6, arbitrary: fc.double({ min: 1e-3, max: 1e6, noNaN: true }) },
);
const maybe = (arb: fc.Arbitrary<number>): fc.Arbitrary<number> =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(NaN) });

const payload: fc.Arbitrary<Omit<TickerEv, 'ts'> | Omit<TradesEv, 'ts'> | Omit<LiqEv, 'ts'>> = fc.oneof(
  fc.record({
    kind: fc.constant('ticker' as const),
    last: maybe(amount),
    mark: maybe(amount),
    oi: maybe(amount),
    oiv: maybe(amount),
  }),
  fc.record({ kind: fc.constant('trades' as const), bq: amount, sq: amount, bu: amount, su: amount }),
  fc.record({ kind: fc.constant('liq' as const), long: amount, short: amount }),
);

const advanceMs = fc.oneof(
  { weight: 85, arbitrary: fc.integer({ min: 0, max: 6_000 }) },
  { weight: 6, arbitrary: fc.integer({ min: 6_000, max: 400_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3_598_000, max: 3_602_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3_602_000, max: 9_000_000 }) },
);
const lagMs = fc.oneof(
  { weight: 85, arbitrary: fc.constant(0) },
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 5, arbitrary: fc.integer({ min: 3_000_000, max: 4_000_000 }) },
);
const steps = fc.array(fc.record({ advanceMs, lagMs, payload }), { minLength: 1, maxLength: 400, size: 'max' });

function toEvents(raw: { advanceMs: number; lagMs: number; payload: Omit<Ev, 'ts'> }[]): Ev[] {
  let cursor = 1_700_000_000_123;
  return raw.map((s) => {
    cursor += s.advanceMs;
    return { ...s.payload, ts: cursor - s.lagMs } as Ev;
  });
}

const SEED = 20_240_611;

describe('SymbolWindows vs a brute-force reference', () => {
  for (const horizonSec of [3600, 4000]) {
    it(`matches every feature after every event (horizon ${horizonSec}s, seed ${SEED})`, () => {
      fc.assert(
        fc.property(steps, (raw) => {
          const events = toEvents(raw);
          const w = new SymbolWindows({ horizonSec });
          const ref = new NaiveWindows(horizonSec);
          const out = emptyFeatures();
          events.forEach((ev, i) => {
            apply(w, ev);
            ref.push(ev);
            const bad = mismatches(w.features(out), ref.features());
            if (bad.length > 0) expect.fail(`after event ${i} (${JSON.stringify(ev)}): ${bad.join('; ')}`);
          });
          expect(w.staleEventCount).toBe(ref.stale);
        }),
        { seed: SEED + horizonSec, numRuns: 200 },
      );
    });
  }
});

const T0 = 1_700_000_000_000;
const sec = (s: number): number => T0 + s * 1000;

describe('SymbolWindows features by hand', () => {
  it('is all NaN before any event', () => {
    const f = new SymbolWindows().features(emptyFeatures());
    for (const v of Object.values(f)) expect(v).toBeNaN();
  });

  it('price change 1m and 5m compare with the value as of head-60s / head-300s', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(0), 100, 100.5, NaN, NaN);
    w.onTicker(sec(239), 104, NaN, NaN, NaN);
    w.onTicker(sec(299), 110, NaN, NaN, NaN);
    const f = w.features(emptyFeatures());
    expect(f.lastPrice).toBe(110);
    expect(f.markPrice).toBe(100.5);
    expect(f.priceChangePct1m).toBeCloseTo(((110 - 104) / 104) * 100, 12);
    expect(f.priceChangePct5m).toBeNaN(); // head-300s is before the first observation
    w.onTicker(sec(300), 99, NaN, NaN, NaN);
    w.features(f);
    expect(f.priceChangePct5m).toBeCloseTo(-1, 12); // vs 100 at second 0
    expect(f.priceChangePct1m).toBeCloseTo(((99 - 104) / 104) * 100, 12);
    expect(f.tsEvent).toBe(sec(300));
    expect(f.historySec).toBe(301);
  });

  it('OI change 15m needs an observation at or before head-900s', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(100), NaN, NaN, 2000, 5e6);
    w.onTicker(sec(999), NaN, NaN, 2100, 5.2e6);
    const f = w.features(emptyFeatures());
    expect(f.oiChangePct15m).toBeNaN();
    w.onTicker(sec(1000), NaN, NaN, 2060, 5.1e6);
    w.features(f);
    expect(f.oiChangePct15m).toBeCloseTo(3, 12);
    expect(f.openInterestValue).toBe(5.1e6);
    expect(f.lastPrice).toBeNaN();
  });

  it('ignores a last value older than the latest observation but still sums old trades into their bucket', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(10), 50, NaN, NaN, NaN);
    w.onTicker(sec(5), 40, NaN, NaN, NaN);
    w.onTrades(sec(10), 1, 2, 100, 200);
    w.onTrades(sec(9.5), 1, 0, 50, 0);
    const f = w.features(emptyFeatures());
    expect(f.lastPrice).toBe(50);
    expect(f.buyVolume5mUsd).toBe(150);
    expect(f.sellVolume5mUsd).toBe(200);
    expect(f.volume5mUsd).toBe(350);
    expect(w.buyQty5m()).toBe(2);
    expect(w.sellQty5m()).toBe(2);
    expect(f.historySec).toBe(6); // the stale-for-price ticker at second 5 still counts as history
  });

  it('5m sums drop buckets that leave the window', () => {
    const w = new SymbolWindows();
    w.onLiquidations(sec(0), 1000, 0);
    w.onLiquidations(sec(200), 0, 300);
    w.onLiquidations(sec(299.9), 10, 0);
    const f = w.features(emptyFeatures());
    expect(f.liqLongUsd5m).toBe(1010);
    expect(f.liqShortUsd5m).toBe(300);
    w.onLiquidations(sec(300), 0, 0); // second 0 leaves the 300 s window
    w.features(f);
    expect(f.liqLongUsd5m).toBe(10);
    expect(f.liqShortUsd5m).toBe(300);
  });

  it('volume ratio uses the covered span below one hour and hour/12 after', () => {
    const w = new SymbolWindows();
    const f = emptyFeatures();
    // 600 s of history (seconds 0..599), 10 USD per second, then a burst of 900 USD in the last second.
    for (let s = 0; s < 599; s++) w.onTrades(sec(s), 0, 0, 10, 0);
    expect(w.features(f).volumeRatio5m).toBeNaN(); // 599 s covered
    w.onTrades(sec(599), 0, 0, 0, 900);
    w.features(f);
    // 5 min: 299*10 + 900 = 3890; span average: (5990 + 900) / (600/300) = 3445
    expect(f.volume5mUsd).toBe(3890);
    expect(f.volumeRatio5m).toBeCloseTo(3890 / 3445, 12);
    for (let s = 600; s < 3600; s++) w.onTrades(sec(s), 0, 0, 10, 0);
    w.onTrades(sec(3600), 0, 0, 310, 0); // second 0 leaves the hour
    w.features(f);
    // hour = seconds 1..3600: 3598*10 + 900 + 310 = 37190, average 37190/12; 5 min = 299*10 + 310 = 3300
    expect(f.historySec).toBe(3600);
    expect(f.volume5mUsd).toBe(3300);
    expect(f.volumeRatio5m).toBeCloseTo(3300 / (37190 / 12), 12);
  });

  it('volume ratio is NaN when the hour had no turnover', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(0), 1, 1, 1, 1);
    w.onTicker(sec(700), 1, 1, 1, 1);
    const f = w.features(emptyFeatures());
    expect(f.volume5mUsd).toBe(0);
    expect(f.volumeRatio5m).toBeNaN();
  });

  it('a gap larger than the horizon resets sums, last values and history', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(0), 100, 100, 10, 1000);
    w.onTrades(sec(0), 1, 1, 500, 500);
    w.onTrades(sec(3599), 0, 0, 7, 0); // head bucket 3599: second 0 still inside
    expect(w.features(emptyFeatures()).volume5mUsd).toBe(7);
    expect(w.resetCount).toBe(0);
    w.onTrades(sec(3599 + 3600), 0, 0, 1, 0);
    const f = w.features(emptyFeatures());
    expect(w.resetCount).toBe(1);
    expect(f.volume5mUsd).toBe(1);
    expect(f.lastPrice).toBeNaN();
    expect(f.historySec).toBe(1);
    expect(f.volumeRatio5m).toBeNaN();
  });

  it('counts and ignores events older than the horizon', () => {
    const w = new SymbolWindows();
    w.onTrades(sec(5000), 0, 0, 1, 0);
    w.onTrades(sec(5000 - 3600), 0, 0, 1000, 0); // bucket exactly horizon old: out
    w.onTrades(sec(5000 - 3599), 0, 0, 20, 0); // oldest bucket still inside
    w.onTicker(sec(1000), 5, 5, 5, 5);
    expect(w.staleEventCount).toBe(2);
    const f = w.features(emptyFeatures());
    expect(f.volume5mUsd).toBe(1);
    expect(f.lastPrice).toBeNaN();
    expect(f.historySec).toBe(3600);
    expect(f.tsEvent).toBe(sec(5000));
  });

  it('counts malformed input instead of throwing', () => {
    const w = new SymbolWindows();
    w.onTrades(NaN, 1, 1, 1, 1);
    w.onTrades(sec(0), -1, 1, Infinity, 2);
    const f = w.features(emptyFeatures());
    expect(w.invalidInputCount).toBe(3);
    expect(f.buyVolume5mUsd).toBe(0);
    expect(f.sellVolume5mUsd).toBe(2);
  });

  it('rejects a horizon shorter than one hour', () => {
    expect(() => new SymbolWindows({ horizonSec: 1800 })).toThrow(RangeError);
    expect(new SymbolWindows({ horizonSec: 7200 }).horizonSec).toBe(7200);
  });

  it('features() refills the same object', () => {
    const w = new SymbolWindows();
    const out = SymbolWindows.emptyFeatures();
    w.onTicker(sec(1), 3, 3, 3, 3);
    expect(w.features(out)).toBe(out);
    expect(out.lastPrice).toBe(3);
  });
});
