import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.js';
import { TICKER_NUMERIC_FIELDS } from '../core/ticker-state.js';
import { BybitDecoder } from './bybit-decoder.js';
import { classifyWithSchemas } from './bybit-schemas.js';

const SEED = 424242;

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
  fc.tuple(symbolArb, fc.array(fc.record({ T: fc.nat(), S: fc.constantFrom('Buy', 'Sell'), v: fc.constantFrom('0.1', '5', '12.5'), p: fc.constantFrom('1', '65000.5') }), { minLength: 1, maxLength: 4 })).map(
    ([s, items]) => JSON.stringify({ topic: `publicTrade.${s}`, type: 'snapshot', ts: 3, data: items.map((i) => ({ ...i, s })) }),
  ),
  fc.tuple(symbolArb, fc.constantFrom('Buy', 'Sell')).map(([s, S]) => JSON.stringify({ topic: `allLiquidation.${s}`, ts: 4, data: [{ T: 4, s, S, v: '1', p: '2' }] })),
  fc.constant('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}'),
  fc.constant('{"topic":"kline.1.BTCUSDT","type":"snapshot","ts":1,"data":[]}'),
);

const jsonValueArb = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));

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

describe('BybitDecoder fuzz', () => {
  it('100k random and mutated frames: nothing throws, every frame is accounted for, verdicts match the zod contract', () => {
    const frameArb = fc.tuple(validFrameArb, fc.nat(6), fc.nat(), jsonValueArb, fc.string({ maxLength: 12 })).map(([t, how, pick, v, junk]) => (how >= 5 ? t : mutate(t, how, pick, v, junk)));
    const samples = fc.sample(frameArb, { seed: SEED, numRuns: 100_000 });
    const d = new BybitDecoder();
    let disagreements = 0;
    let emitted = 0;
    let expectedBad = 0;
    for (const text of samples) {
      const beforeBad = d.badFrames;
      const beforeDbs = d.counters.bad['delta-before-snapshot'];
      let got = 0;
      expect(() => d.decode(text, 0, () => got++)).not.toThrow();
      emitted += got;
      const verdict = classifyWithSchemas(text);
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
    expect(d.badFrames - c.bad['delta-before-snapshot']).toBe(expectedBad);
    expect(expectedBad).toBeGreaterThan(10_000);
    expect(emitted).toBeGreaterThan(10_000);
  });
});
