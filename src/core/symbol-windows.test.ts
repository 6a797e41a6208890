import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SymbolFeatures } from './features.js';
import { LAST_VALUE_HISTORY_SEC, type LastValueField, SymbolWindows, emptyFeatures } from './symbol-windows.js';

type TickerEv = { kind: 'ticker'; ts: number; last: number; mark: number; oi: number; oiv: number };
type TradesEv = { kind: 'trades'; ts: number; bq: number; sq: number; bu: number; su: number };
type LiqEv = { kind: 'liq'; ts: number; long: number; short: number };
type Ev = TickerEv | TradesEv | LiqEv;
type Field = 'last' | 'mark' | 'oi' | 'oiv';
const FIELDS: readonly Field[] = ['last', 'mark', 'oi', 'oiv'];
const FIELD_NAME: Record<Field, LastValueField> = { last: 'lastPrice', mark: 'markPrice', oi: 'openInterest', oiv: 'openInterestValue' };
const SHORT = SymbolWindows.shortHistorySec;
/** Per-bucket contributions of one accepted event to each sum series (0 where the series did not keep it). */
type Sums = { bq: number; sq: number; bu: number; su: number; long: number; short: number };
type Obs = { bucket: number; value: number };

/**
 * Brute-force model of the documented semantics: keeps the raw accepted inputs of the current epoch and
 * recomputes every feature from them, straight from the definitions (no buckets, no running sums, no rings).
 * One head and horizon for everything; a gap of a horizon resets; a contribution to a 5-minute sum series
 * (base quantities, liquidations) counts only if its bucket was under 5 minutes old when it arrived; a
 * last-value observation counts if it is not older (ms) than that field's latest, however old its bucket.
 */
class NaiveWindows {
  private sums: { bucket: number; v: Sums }[] = [];
  private obs = new Map<Field, Obs[]>();
  private head = NaN;
  private firstBucket = NaN;
  private readonly latestObs = new Map<Field, number>();
  stale = 0;

  constructor(readonly horizonSec: number) {}

  push(ev: Ev): void {
    const b = Math.floor(ev.ts / 1000);
    if (Number.isNaN(this.head)) {
      this.head = ev.ts;
      this.firstBucket = b;
    } else {
      const hb = Math.floor(this.head / 1000);
      if (b >= hb + this.horizonSec) {
        this.sums = [];
        this.obs.clear();
        this.latestObs.clear();
        this.firstBucket = b;
      } else if (b <= hb - this.horizonSec) {
        this.stale++;
        return;
      }
      this.head = Math.max(this.head, ev.ts);
      this.firstBucket = Math.min(this.firstBucket, b);
    }
    const short = Math.floor(this.head / 1000) - b < SHORT ? 1 : 0;
    if (ev.kind === 'ticker') {
      for (const f of FIELDS) {
        const v = ev[f];
        if (Number.isNaN(v)) continue;
        if (ev.ts < (this.latestObs.get(f) ?? -Infinity)) continue;
        this.latestObs.set(f, ev.ts);
        const list = this.obs.get(f) ?? [];
        list.push({ bucket: b, value: v });
        this.obs.set(f, list);
      }
    } else if (ev.kind === 'trades') {
      this.sums.push({ bucket: b, v: { bq: ev.bq * short, sq: ev.sq * short, bu: ev.bu, su: ev.su, long: 0, short: 0 } });
    } else {
      this.sums.push({ bucket: b, v: { bq: 0, sq: 0, bu: 0, su: 0, long: ev.long * short, short: ev.short * short } });
    }
  }

  /** Value of `field` as of `bucket`: the last accepted observation in it or before (they arrive in time order). */
  valueAsOf(field: Field, bucket: number): number {
    const list = this.obs.get(field) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.bucket <= bucket) return list[i]!.value;
    return NaN;
  }

  get headBucket(): number {
    return Math.floor(this.head / 1000);
  }

  sum(windowSec: number, key: keyof Sums): number {
    const hb = this.headBucket;
    let s = 0;
    for (const { bucket, v } of this.sums) if (bucket > hb - windowSec && bucket <= hb) s += v[key];
    return s;
  }

  features(): SymbolFeatures {
    if (Number.isNaN(this.head)) return emptyFeatures();
    const hb = this.headBucket;
    const pct = (now: number, then: number): number => (then === 0 ? NaN : ((now - then) / then) * 100);
    const last = this.valueAsOf('last', Infinity);
    const oi = this.valueAsOf('oi', Infinity);
    const buy5 = this.sum(300, 'bu');
    const sell5 = this.sum(300, 'su');
    const hour = this.sum(3600, 'bu') + this.sum(3600, 'su');
    const historySec = Math.min(hb - this.firstBucket + 1, this.horizonSec);
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
      liqLongUsd5m: this.sum(300, 'long'),
      liqShortUsd5m: this.sum(300, 'short'),
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
function same(a: number, e: number): boolean {
  return Number.isNaN(e) ? Number.isNaN(a) : !Number.isNaN(a) && Math.abs(a - e) <= 1e-9 * Math.max(Math.abs(a), Math.abs(e));
}

/** Ages probed on the last-value series: each one's ages below its history ({@link LAST_VALUE_HISTORY_SEC}). */
const PROBED_AGES = [0, 1, 59, 60, 299, 300, 898, 899, 900] as const;

/** Every feature, the 5-minute base quantities, and each last-value series at the probed ages it keeps. */
function mismatches(w: SymbolWindows, actual: SymbolFeatures, ref: NaiveWindows): string[] {
  const bad: string[] = [];
  const expected = ref.features();
  for (const key of Object.keys(expected) as (keyof SymbolFeatures)[]) {
    if (!same(actual[key], expected[key])) bad.push(`${key} = ${actual[key]}, expected ${expected[key]}`);
  }
  const qty: [string, number, number][] = [
    ['buyQty5m', w.buyQty5m(), ref.sum(300, 'bq')],
    ['sellQty5m', w.sellQty5m(), ref.sum(300, 'sq')],
  ];
  for (const [name, a, e] of qty) if (!same(a, e)) bad.push(`${name} = ${a}, expected ${e}`);
  for (const f of FIELDS) {
    const history = LAST_VALUE_HISTORY_SEC[FIELD_NAME[f]];
    for (const age of [...PROBED_AGES.filter((a) => a < history), history - 1]) {
      const a = w.valueAt(FIELD_NAME[f], age);
      const e = ref.valueAsOf(f, ref.headBucket - age);
      if (!Object.is(a, e)) bad.push(`${FIELD_NAME[f]} at age ${age} = ${a}, expected ${e}`);
    }
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
  { weight: 3, arbitrary: fc.integer({ min: 850_000, max: 3_000_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3_598_000, max: 3_602_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 3_602_000, max: 9_000_000 }) },
);
const lagMs = fc.oneof(
  { weight: 85, arbitrary: fc.constant(0) },
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 4, arbitrary: fc.integer({ min: 850_000, max: 1_100_000 }) },
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
    it(`matches every feature, 5m quantity and probed history after every event (horizon ${horizonSec}s, seed ${SEED})`, () => {
      fc.assert(
        fc.property(steps, (raw) => {
          const events = toEvents(raw);
          const w = new SymbolWindows({ horizonSec });
          const ref = new NaiveWindows(horizonSec);
          const out = emptyFeatures();
          events.forEach((ev, i) => {
            apply(w, ev);
            ref.push(ev);
            const bad = mismatches(w, w.features(out), ref);
            if (bad.length > 0) expect.fail(`after event ${i} (${JSON.stringify(ev)}): ${bad.join('; ')}`);
          });
          expect(w.staleEventCount).toBe(ref.stale);
          expect(() => w.valueAt('markPrice', 1)).toThrow(RangeError);
          expect(() => w.valueAt('lastPrice', 301)).toThrow(RangeError);
          expect(() => w.valueAt('openInterest', 901)).toThrow(RangeError);
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

  it('a 20-minute gap empties the 5-minute sums but keeps the hour turnover, latest values and history', () => {
    const w = new SymbolWindows();
    w.onTicker(sec(0), 100, 100.5, 1000, 1e5);
    w.onTrades(sec(0), 2, 3, 200, 300);
    w.onLiquidations(sec(0), 1000, 2000);
    w.onTrades(sec(100), 1, 0, 100, 0);
    w.onLiquidations(sec(100), 7, 0);
    w.onTrades(sec(1300), 0.5, 0, 50, 0); // 20 minutes after the last event
    const f = w.features(emptyFeatures());
    expect(w.resetCount).toBe(0);
    expect(f.historySec).toBe(1301);
    expect(f.liqLongUsd5m).toBe(0);
    expect(f.liqShortUsd5m).toBe(0);
    expect(w.buyQty5m()).toBe(0.5);
    expect(w.sellQty5m()).toBe(0);
    expect(f.volume5mUsd).toBe(50);
    // the hour turnover still holds the pre-gap trades: 200 + 300 + 100 + 50 over 1301 s of history
    expect(f.volumeRatio5m).toBeCloseTo(50 / (650 / (1301 / 300)), 12);
    expect(f.lastPrice).toBe(100);
    expect(f.markPrice).toBe(100.5);
    expect(f.openInterestValue).toBe(1e5);
    expect(f.priceChangePct5m).toBe(0); // against the forward-filled pre-gap price
    expect(f.oiChangePct15m).toBe(0);
    expect(w.valueAt('markPrice', 0)).toBe(100.5);
    expect(w.valueAt('lastPrice', 300)).toBe(100);
    expect(w.valueAt('openInterest', 900)).toBe(1000);
    expect(() => w.valueAt('markPrice', 1)).toThrow(RangeError);
    w.onLiquidations(sec(1300), 10, 0);
    w.onTicker(sec(1301), 101, NaN, 1050, NaN);
    w.features(f);
    expect(f.liqLongUsd5m).toBe(10);
    expect(f.priceChangePct5m).toBeCloseTo(1, 12);
    expect(f.oiChangePct15m).toBeCloseTo(5, 12);
    w.onTrades(sec(1600), 0, 0, 0, 0); // second 1300 leaves the 5-minute window
    w.features(f);
    expect(f.liqLongUsd5m).toBe(0);
    expect(w.buyQty5m()).toBe(0);
  });

  it('keeps a late event between 5 minutes and the horizon old for the hour turnover only', () => {
    const w = new SymbolWindows();
    w.onTrades(sec(2000), 0, 0, 1, 0);
    w.onTrades(sec(1000), 9, 9, 700, 0); // 1000 s late: base quantity is out of its 5-minute history
    w.onLiquidations(sec(1000), 5, 5);
    w.onTicker(sec(1000), NaN, 42, NaN, 4200); // first mark/OI value: still the latest value
    expect(w.staleEventCount).toBe(0);
    const f = w.features(emptyFeatures());
    expect(f.markPrice).toBe(42);
    expect(f.openInterestValue).toBe(4200);
    expect(w.valueAt('markPrice', 0)).toBe(42);
    expect(f.historySec).toBe(1001);
    expect(f.volumeRatio5m).toBeCloseTo(1 / (701 / (1001 / 300)), 12);
    w.onTrades(sec(2700), 0, 0, 10, 0);
    // the late turnover is still inside the hour: 700 + 1 + 10 over 1701 s of history
    expect(w.features(f).volumeRatio5m).toBeCloseTo(10 / (711 / (1701 / 300)), 12);
    expect(w.buyQty5m()).toBe(0);
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
