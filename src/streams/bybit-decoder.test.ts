import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.js';
import { TICKER_NUMERIC_FIELDS } from '../core/ticker-state.js';
import { BybitDecoder } from './bybit-decoder.js';
import { classifyWithSchemas } from './bybit-schemas.js';

const SEED = 424242;
/** Receipt time of the fuzz frames; their event times sit around it, inside and outside the default band. */
const TS_INIT = 0;

function collect(decoder: BybitDecoder, frames: string[]): MarketEvent[] {
  const out: MarketEvent[] = [];
  frames.forEach((f, i) => decoder.decode(f, i, (e) => out.push(e)));
  return out;
}

const decimalArb = fc.oneof(
  fc.double({ min: 0.000001, max: 1e7, noNaN: true }).map((n) => n.toFixed(6)),
  fc.integer({ min: 0, max: 1_000_000 }).map(String),
  fc.constant(''),
);
const fieldsArb = fc.dictionary(fc.constantFrom(...TICKER_NUMERIC_FIELDS), decimalArb, { maxKeys: 8 });
const symbolArb = fc.constantFrom('BTCUSDT', 'ETHUSDT', 'SOLUSDT');

describe('BybitDecoder tickers', () => {
  it('merges snapshot then deltas into full state and keeps "" as no value', () => {
    const d = new BybitDecoder();
    const ev = collect(d, [
      '{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"cs":5,"data":{"symbol":"BTCUSDT","lastPrice":"100.5","markPrice":"100.4","openInterest":"10","fundingRate":"","preOpenPrice":""}}',
      '{"topic":"tickers.BTCUSDT","type":"delta","ts":2,"cs":6,"data":{"symbol":"BTCUSDT","lastPrice":"101"}}',
    ]);
    expect(ev).toHaveLength(2);
    const last = ev[1]!;
    expect(last.kind === 'ticker' && [last.lastPrice, last.markPrice, last.openInterest]).toEqual([101, 100.4, 10]);
    expect(d.tickerState('BTCUSDT')!.fundingRate).toBeNaN();
    expect(d.tickerState('BTCUSDT')!.cs).toBe(6);
  });

  it('merges a book-only delta into state without raising an event', () => {
    const d = new BybitDecoder();
    const ev = collect(d, [
      '{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"data":{"symbol":"BTCUSDT","lastPrice":"100","bid1Price":"99.5"}}',
      '{"topic":"tickers.BTCUSDT","type":"delta","ts":2,"data":{"symbol":"BTCUSDT","bid1Price":"99.6","ask1Size":"3"}}',
      '{"topic":"tickers.BTCUSDT","type":"delta","ts":3,"data":{"symbol":"BTCUSDT","lastPrice":"100"}}',
      '{"topic":"tickers.BTCUSDT","type":"delta","ts":4,"data":{"symbol":"BTCUSDT","lastPrice":"101"}}',
    ]);
    expect(ev.map((e) => e.tsEvent)).toEqual([1, 4]);
    expect(d.tickerState('BTCUSDT')!.bid1Price).toBe(99.6);
    expect(d.counters).toMatchObject({ tickers: 2, tickersQuiet: 2 });
  });

  it('refuses a delta before any snapshot and a bad field without touching state', () => {
    const d = new BybitDecoder();
    const ev = collect(d, [
      '{"topic":"tickers.ETHUSDT","type":"delta","ts":1,"data":{"symbol":"ETHUSDT","lastPrice":"1"}}',
      '{"topic":"tickers.ETHUSDT","type":"snapshot","ts":2,"data":{"symbol":"ETHUSDT","lastPrice":"2","markPrice":"2"}}',
      '{"topic":"tickers.ETHUSDT","type":"delta","ts":3,"data":{"symbol":"ETHUSDT","lastPrice":"3","markPrice":"abc"}}',
      '{"topic":"tickers.ETHUSDT","type":"delta","ts":4,"data":{"symbol":"BTCUSDT","lastPrice":"3"}}',
    ]);
    expect(ev).toHaveLength(1);
    expect(d.tickerState('ETHUSDT')!.lastPrice).toBe(2);
    expect(d.counters.bad).toMatchObject({ 'delta-before-snapshot': 1, ticker: 1, 'symbol-mismatch': 1 });
  });

  it('a new snapshot replaces the state; merged state equals a full-state reference (property)', () => {
    const frameArb = fc.record({ symbol: symbolArb, type: fc.constantFrom('snapshot', 'delta'), fields: fieldsArb });
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 60 }), (frames) => {
        const d = new BybitDecoder();
        const reference = new Map<string, Record<string, string>>();
        frames.forEach((fr, i) => {
          const text = JSON.stringify({ topic: `tickers.${fr.symbol}`, type: fr.type, ts: i, data: { symbol: fr.symbol, ...fr.fields } });
          d.decode(text, i, () => undefined);
          if (fr.type === 'snapshot') reference.set(fr.symbol, { ...fr.fields });
          else if (reference.has(fr.symbol)) Object.assign(reference.get(fr.symbol)!, fr.fields);
        });
        for (const sym of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
          const ref = reference.get(sym);
          const state = d.tickerState(sym);
          if (ref === undefined) {
            expect(state).toBeUndefined();
            continue;
          }
          for (const f of TICKER_NUMERIC_FIELDS) {
            const raw = ref[f];
            const expected = raw === undefined || raw === '' ? NaN : Number(raw);
            expect(state![f]).toBe(expected);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('BybitDecoder trades and liquidations', () => {
  it('aggregates trades by taker side and keeps the newest price', () => {
    const d = new BybitDecoder();
    const [ev] = collect(d, [
      '{"topic":"publicTrade.SOLUSDT","type":"snapshot","ts":9,"data":[{"T":5,"s":"SOLUSDT","S":"Buy","v":"2","p":"10"},{"T":7,"s":"SOLUSDT","S":"Sell","v":"1","p":"11"},{"T":6,"s":"SOLUSDT","S":"Buy","v":"1","p":"12"}]}',
    ]);
    expect(ev).toMatchObject({ kind: 'trades', tsEvent: 7, count: 3, buyQty: 3, sellQty: 1, buyTurnoverUsd: 32, sellTurnoverUsd: 11, lastPrice: 11 });
  });

  it('reads allLiquidation as array or object; Buy means a long was liquidated', () => {
    const d = new BybitDecoder();
    const ev = collect(d, [
      '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"ROSEUSDT","S":"Buy","v":"20000","p":"0.05"}]}',
      '{"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":2,"data":{"T":2,"s":"ROSEUSDT","S":"Sell","v":"100","p":"0.06"}}',
    ]);
    expect(ev.map((e) => e.kind === 'liquidations' && [e.longUsd, e.shortUsd])).toEqual([
      [1000, 0],
      [0, 6],
    ]);
  });
});

/** Valid frames of each kind, then mutations of them: the raw material of the fuzz. */
const validFrameArb = fc.oneof(
  fc.record({ symbol: symbolArb, type: fc.constantFrom('snapshot', 'delta'), fields: fieldsArb }).map((f) =>
    JSON.stringify({ topic: `tickers.${f.symbol}`, type: f.type, ts: 1, cs: 2, data: { symbol: f.symbol, ...f.fields } }),
  ),
  fc.tuple(symbolArb, fc.array(fc.record({ T: fc.oneof(fc.nat(4000), fc.integer({ min: -61_000, max: 6_000 }), fc.constantFrom(99999999999999, 0, -5, -60_000, -60_001, 5_000, 5_001)), S: fc.constantFrom('Buy', 'Sell'), v: fc.constantFrom('0.1', '5', '12.5'), p: fc.constantFrom('1', '65000.5') }), { minLength: 1, maxLength: 4 })).map(
    ([s, items]) => JSON.stringify({ topic: `publicTrade.${s}`, type: 'snapshot', ts: 3, data: items.map((i) => ({ ...i, s })) }),
  ),
  fc.tuple(symbolArb, fc.constantFrom('Buy', 'Sell')).map(([s, S]) => JSON.stringify({ topic: `allLiquidation.${s}`, ts: 4, data: [{ T: 4, s, S, v: '1', p: '2' }] })),
  fc.constant('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}'),
  fc.constant('{"topic":"kline.1.BTCUSDT","type":"snapshot","ts":1,"data":[]}'),
);

const jsonValueArb = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
  // Strings JS reads as numbers but Bybit never sends, and edge values of real fields.
  fc.constantFrom('0b1', '1e3', ' 1', '1 ', '0x10', '+1', '.5', '1.', '-0', '0', '-1', '1'.repeat(33), 'Infinity', 'NaN', '1.2.3', '--1'),
  fc.constantFrom(99999999999999, -1, 0, -5, 1e300),
);

function mutate(text: string, how: number, pick: number, value: unknown, junk: string): string {
  switch (how) {
    case 0:
      return text.slice(0, pick % (text.length + 1));
    case 1: {
      const at = pick % (text.length + 1);
      return text.slice(0, at) + junk + text.slice(at);
    }
    case 2:
    case 3: {
      const obj = JSON.parse(text) as Record<string, unknown>;
      const target = how === 3 && typeof obj.data === 'object' && obj.data !== null ? (Array.isArray(obj.data) ? (obj.data[0] as Record<string, unknown>) : (obj.data as Record<string, unknown>)) : obj;
      if (target === undefined || target === null || typeof target !== 'object') return text;
      const keys = Object.keys(target);
      if (keys.length === 0) return text;
      const key = keys[pick % keys.length]!;
      if (pick % 3 === 0) delete target[key];
      else target[key] = value;
      return JSON.stringify(obj);
    }
    default:
      return junk;
  }
}

describe('BybitDecoder refuses hostile numbers and times (issue 7, defect 3)', () => {
  const T0 = 1_786_310_817_000;
  const trade = (T: number | string, p = '100', v = '1') => `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${T0},"data":[{"T":${T},"s":"BTCUSDT","S":"Buy","v":"${v}","p":"${p}"}]}`;
  const liq = (T: number) => `{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":${T0},"data":[{"T":${T},"s":"BTCUSDT","S":"Buy","v":"1","p":"100"}]}`;
  const ticker = (ts: number, fields: string) => `{"topic":"tickers.BTCUSDT","type":"snapshot","ts":${ts},"data":{"symbol":"BTCUSDT",${fields}}}`;

  it('refuses trade and liquidation T of 99999999999999, 0 and -5, and ticker ts -1, counted as event-time', () => {
    const d = new BybitDecoder();
    const frames = [trade(99999999999999), trade(0), trade(-5), liq(99999999999999), liq(0), liq(-5), ticker(-1, '"lastPrice":"100"')];
    const ev: MarketEvent[] = [];
    for (const f of frames) d.decode(f, T0, (e) => ev.push(e));
    expect(ev).toEqual([]);
    expect(d.counters.bad['event-time']).toBe(7);
    for (const f of frames) expect(classifyWithSchemas(f, T0)).toBe('bad');
  });

  it('accepts times inside the band and honours a configured band', () => {
    const d = new BybitDecoder();
    const ok = [trade(T0 + 5_000), trade(T0 - 60_000), liq(T0 - 1), ticker(T0 + 4_999, '"lastPrice":"100"')];
    let n = 0;
    for (const f of ok) d.decode(f, T0, () => n++);
    expect(n).toBe(4);
    for (const f of ok) expect(classifyWithSchemas(f, T0)).not.toBe('bad');
    const strict = new BybitDecoder({ eventTimeBand: { maxAheadMs: 100, maxBehindMs: 100 } });
    strict.decode(trade(T0 + 101), T0, () => n++);
    strict.decode(trade(T0 - 101), T0, () => n++);
    strict.decode(trade(T0 + 100), T0, () => n++);
    expect(n).toBe(5);
    expect(strict.counters.bad['event-time']).toBe(2);
  });

  it('reads only plain decimal strings as numbers', () => {
    for (const bad of ['0b1', '1e3', ' 1', '1 ', '0x10', '+1', '.5', '1.', 'Infinity', '1_000', '١']) {
      const d = new BybitDecoder();
      d.decode(trade(T0, bad), T0, () => undefined);
      d.decode(ticker(T0, `"lastPrice":"100","openInterest":${JSON.stringify(bad)}`), T0, () => undefined);
      expect(d.counters.bad, bad).toMatchObject({ trade: 1, ticker: 1 });
      expect(classifyWithSchemas(trade(T0, bad), T0), bad).toBe('bad');
    }
    const d = new BybitDecoder();
    const ev: MarketEvent[] = [];
    d.decode(ticker(T0, '"lastPrice":"65000.5","fundingRate":"-0.0001","openInterest":"0","price24hPcnt":"-0.05"'), T0, (e) => ev.push(e));
    expect(ev).toHaveLength(1);
  });

  it('refuses zero and negative ticker prices and negative open interest without touching state', () => {
    const d = new BybitDecoder();
    d.decode(ticker(T0, '"lastPrice":"100","markPrice":"100"'), T0, () => undefined);
    for (const fields of ['"lastPrice":"0"', '"lastPrice":"-1"', '"markPrice":"0"', '"indexPrice":"-3"', '"openInterest":"-1"']) {
      d.decode(`{"topic":"tickers.BTCUSDT","type":"delta","ts":${T0},"data":{"symbol":"BTCUSDT",${fields}}}`, T0, () => undefined);
      expect(classifyWithSchemas(ticker(T0, fields), T0), fields).toBe('bad');
    }
    expect(d.counters.bad.ticker).toBe(5);
    expect(d.tickerState('BTCUSDT')!.lastPrice).toBe(100);
    expect(d.tickerState('BTCUSDT')!.markPrice).toBe(100);
  });
});

describe('BybitDecoder fuzz', () => {
  it('100k random and mutated frames: nothing throws, every frame is accounted for, verdicts match the zod contract, the scanner matches JSON.parse frame by frame', () => {
    const frameArb = fc.tuple(validFrameArb, fc.nat(6), fc.nat(), jsonValueArb, fc.string({ maxLength: 12 })).map(([t, how, pick, v, junk]) => (how >= 5 ? t : mutate(t, how, pick, v, junk)));
    const samples = fc.sample(frameArb, { seed: SEED, numRuns: 100_000 });
    const d = new BybitDecoder();
    // The same frames through the JSON.parse path only: every event and every counter must match frame by frame.
    const j = new BybitDecoder({ scanner: false });
    let disagreements = 0;
    let pathDifferences = 0;
    let emitted = 0;
    let expectedBad = 0;
    for (const text of samples) {
      const beforeBad = d.badFrames;
      const beforeDbs = d.counters.bad['delta-before-snapshot'];
      let got = 0;
      const scanned: MarketEvent[] = [];
      const parsed: MarketEvent[] = [];
      expect(() => d.decode(text, TS_INIT, (e) => (got++, scanned.push(e)))).not.toThrow();
      j.decode(text, TS_INIT, (e) => parsed.push(e));
      if (!sameDecoding(scanned, parsed, d, j)) {
        pathDifferences++;
        if (pathDifferences <= 3) console.error(`scanner and JSON.parse paths differ on ${text}`);
      }
      emitted += got;
      const verdict = classifyWithSchemas(text, TS_INIT);
      const decoderBad = d.badFrames > beforeBad;
      const statefulRefusal = d.counters.bad['delta-before-snapshot'] > beforeDbs;
      if (verdict === 'bad') expectedBad++;
      if ((verdict === "bad") !== decoderBad && !statefulRefusal) {
        disagreements++;
        if (disagreements <= 3) console.error(`decoder and zod disagree (zod: ${verdict}) on ${text}`);
      }
    }
    const c = d.counters;
    expect(c.frames).toBe(100_000);
    expect(c.tickers + c.tickersQuiet + c.trades + c.liquidations + c.control + c.ignoredTopics + d.badFrames).toBe(c.frames);
    expect(c.tickers + c.trades + c.liquidations).toBe(emitted);
    expect(disagreements).toBe(0);
    expect(pathDifferences).toBe(0);
    for (const sym of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT']) expect(d.tickerState(sym)).toEqual(j.tickerState(sym));
    expect(d.scanHits).toBeGreaterThan(10_000);
    expect(d.badFrames - c.bad['delta-before-snapshot']).toBe(expectedBad);
    expect(expectedBad).toBeGreaterThan(10_000);
    expect(emitted).toBeGreaterThan(10_000);
  });
});

/** Same events (Object.is on every number, so -0 and NaN count) and the same counters on both decoders. */
function sameDecoding(a: MarketEvent[], b: MarketEvent[], da: BybitDecoder, db: BybitDecoder): boolean {
  if (a.length !== b.length || JSON.stringify(da.counters) !== JSON.stringify(db.counters)) return false;
  return a.every((e, i) => {
    const o = b[i] as unknown as Record<string, unknown>;
    const keys = Object.keys(e);
    return keys.length === Object.keys(o).length && keys.every((k) => (k === 'items' ? JSON.stringify(o[k]) === JSON.stringify((e as unknown as Record<string, unknown>)[k]) : Object.is((e as unknown as Record<string, unknown>)[k], o[k])));
  });
}
