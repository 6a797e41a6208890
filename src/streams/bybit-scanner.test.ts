import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.js';
import { TICKER_NUMERIC_FIELDS } from '../core/ticker-state.js';
import { BybitDecoder } from './bybit-decoder.js';

const SEED = 131313;
const T0 = 1_786_310_817_000;
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', '1000PEPEUSDT'] as const;

/** Decimal strings as Bybit writes them, plus long ones that take the scanner's `Number()` branch. */
const digits = (min: number, max: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((a) => a.join(''));
const decimalArb = fc.oneof(
  fc.tuple(fc.constantFrom('', '-'), fc.integer({ min: 0, max: 9_999_999 }).map(String), fc.option(digits(1, 8), { nil: undefined })).map(([sign, i, f]) => `${sign}${i}${f === undefined ? '' : `.${f}`}`),
  fc.tuple(digits(1, 12), digits(1, 12)).map(([i, f]) => `${i.replace(/^0+(?=\d)/, '')}.${f}`),
  fc.double({ min: 1e-8, max: 1e9, noNaN: true }).map((n) => String(n)),
  fc.constantFrom('', '0', '-0', '0.0001', '65114.30', '3899996265.01', '1142118412.9021', '0.30000000000000004', '123456789012345.6', '9007199254740993'),
);
const sideArb = fc.constantFrom('Buy', 'Sell');

/** A ticker frame in Bybit's own key order: topic, type, data (symbol first, unknown fields mixed in), cs, ts. */
const tickerArb = fc
  .record({
    symbol: fc.constantFrom(...SYMBOLS),
    type: fc.constantFrom('snapshot', 'delta', 'delta', 'delta'),
    fields: fc.dictionary(fc.constantFrom(...TICKER_NUMERIC_FIELDS), decimalArb, { maxKeys: 10 }),
    extra: fc.dictionary(fc.constantFrom('tickDirection', 'fundingIntervalHour', 'singleOpenInterest', 'preOpenPrice', 'curPreListingPhase'), fc.constantFrom('PlusTick', '8', '', '29945.866'), { maxKeys: 3 }),
    cs: fc.option(fc.nat(), { nil: undefined }),
    dt: fc.integer({ min: -1000, max: 1000 }),
  })
  .map((f) => {
    const data = JSON.stringify({ symbol: f.symbol, ...f.extra, ...f.fields });
    return `{"topic":"tickers.${f.symbol}","type":"${f.type}","data":${data}${f.cs === undefined ? '' : `,"cs":${f.cs}`},"ts":${T0 + f.dt}}`;
  });

/** A publicTrade frame in Bybit's key order, with the fields the decoder skips (L, i, BT, RPI, seq). */
const tradeArb = fc
  .record({
    symbol: fc.constantFrom(...SYMBOLS),
    items: fc.array(fc.record({ dt: fc.integer({ min: -2000, max: 0 }), S: sideArb, v: decimalArb, p: decimalArb, seq: fc.nat() }), { minLength: 1, maxLength: 5 }),
  })
  .map(({ symbol, items }) => {
    const data = items.map((it) => `{"T":${T0 + it.dt},"s":"${symbol}","S":"${it.S}","v":"${it.v}","p":"${it.p}","L":"PlusTick","i":"a9188a0a-82bc-50de","BT":false,"RPI":false,"seq":${it.seq}}`);
    return `{"topic":"publicTrade.${symbol}","type":"snapshot","ts":${T0 + 1},"data":[${data.join(',')}]}`;
  });

/** Ways a frame can leave the shapes the scanner knows; each must still decode exactly as JSON.parse does. */
function perturb(text: string, how: number, at: number): string {
  const pos = at % (text.length + 1);
  switch (how) {
    case 0: // whitespace somewhere (inside a string it is data, between tokens it is legal JSON)
      return `${text.slice(0, pos)} ${text.slice(pos)}`;
    case 1: // a key or value written with an escape
      return text.replace('"lastPrice"', '"last\\u0050rice"').replace('"p":', '"\\u0070":').replace('"Buy"', '"B\\u0075y"');
    case 2: // a duplicated key: JSON.parse keeps the last value
      return text.replace('"data":{"symbol":', '"data":{"lastPrice":"1","lastPrice":"2","symbol":').replace('"s":', '"v":"3","s":');
    case 3: // ts as a float or an exponent
      return text.replace(/"ts":(\d+)/, at % 2 === 0 ? '"ts":$1.5' : '"ts":$1e0');
    case 4: // key order other than Bybit's
      return text.replace(/^\{("topic":"[^"]+"),("type":"[^"]+"),/, '{$2,$1,');
    case 5: // trailing bytes, or the frame cut short
      return at % 2 === 0 ? `${text}x` : text.slice(0, pos);
    case 6: // a nested value where the scanner expects a scalar
      return text.replace('"L":"PlusTick"', '"L":{"a":[1]}').replace('"tickDirection":"PlusTick"', '"tickDirection":[]');
    case 7: // a symbol that does not match the topic
      return text.replace(/"(symbol|s)":"([A-Z0-9]+)"/, '"$1":"$2X"');
    default: // one character replaced
      return `${text.slice(0, pos)}${String.fromCharCode(32 + (at % 95))}${text.slice(pos + 1)}`;
  }
}

/** Feeds the frames to a scanner decoder and a JSON-only decoder; returns the first frame index where they differ. */
function firstDifference(frames: readonly string[], tsInit = T0): { at: number; scanned: BybitDecoder } {
  const scanned = new BybitDecoder();
  const parsed = new BybitDecoder({ scanner: false });
  for (let i = 0; i < frames.length; i++) {
    const a: MarketEvent[] = [];
    const b: MarketEvent[] = [];
    scanned.decode(frames[i]!, tsInit, (e) => a.push(e));
    parsed.decode(frames[i]!, tsInit, (e) => b.push(e));
    if (!sameEvents(a, b) || JSON.stringify(scanned.counters) !== JSON.stringify(parsed.counters)) return { at: i, scanned };
    const sym = SYMBOLS.find((s) => frames[i]!.includes(s));
    if (sym !== undefined && !sameState(scanned, parsed, sym)) return { at: i, scanned };
  }
  return { at: -1, scanned };
}

function sameEvents(a: readonly MarketEvent[], b: readonly MarketEvent[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((e, i) => {
    const x = e as unknown as Record<string, unknown>;
    const y = b[i] as unknown as Record<string, unknown>;
    const keys = Object.keys(x);
    return keys.length === Object.keys(y).length && keys.every((k) => (typeof x[k] === 'object' ? JSON.stringify(x[k]) === JSON.stringify(y[k]) : Object.is(x[k], y[k])));
  });
}

function sameState(a: BybitDecoder, b: BybitDecoder, symbol: string): boolean {
  const x = a.tickerState(symbol) as unknown as Record<string, unknown> | undefined;
  const y = b.tickerState(symbol) as unknown as Record<string, unknown> | undefined;
  if (x === undefined || y === undefined) return x === y;
  return Object.keys(x).every((k) => Object.is(x[k], y[k]));
}

describe('BybitFrameScanner against the JSON.parse path', () => {
  it('canonical Bybit-shaped ticker and trade frames: identical events, counters and state, and the scanner reads them', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(tickerArb, tradeArb), { minLength: 1, maxLength: 40 }), (frames) => {
        const { at, scanned } = firstDifference(frames);
        expect(at, at >= 0 ? frames[at] : '').toBe(-1);
        // Every frame the JSON path accepts is one the scanner should have read itself.
        const c = scanned.counters;
        expect(scanned.scanHits).toBe(c.tickers + c.tickersQuiet + c.trades);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('perturbed frames (whitespace, escapes, duplicate keys, float ts, key order, cuts, nesting, mismatches): identical to JSON.parse', () => {
    const perturbed = fc.tuple(fc.oneof(tickerArb, tradeArb), fc.nat(8), fc.nat()).map(([t, how, at]) => perturb(t, how, at));
    fc.assert(
      fc.property(fc.array(fc.oneof(tickerArb, tradeArb, perturbed, perturbed), { minLength: 1, maxLength: 40 }), (frames) => {
        const { at } = firstDifference(frames);
        expect(at, at >= 0 ? frames[at] : '').toBe(-1);
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('decimals parse to the same double as Number() (property over digit strings up to 24 digits)', () => {
    fc.assert(
      fc.property(digits(1, 12), fc.option(digits(1, 12), { nil: undefined }), fc.boolean(), (i, f, neg) => {
        const text = `${neg ? '-' : ''}${i.replace(/^0+(?=\d)/, '')}${f === undefined ? '' : `.${f}`}`;
        const frame = `{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","fundingRate":"${text}"},"ts":${T0}}`;
        const d = new BybitDecoder();
        d.decode(frame, T0, () => undefined);
        expect(d.scanHits).toBe(1);
        expect(Object.is(d.tickerState('BTCUSDT')!.fundingRate, Number(text)), text).toBe(true);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

const CAPTURE = fileURLToPath(new URL('../../../shared/data/bybit-v5-capture.jsonl', import.meta.url));

describe.skipIf(!existsSync(CAPTURE))('BybitFrameScanner on the real Bybit capture (../shared/data)', () => {
  it('reads every real ticker and trade frame itself, with the same events and state as JSON.parse', () => {
    const frames: { text: string; tsInit: number }[] = [];
    for (const line of readFileSync(CAPTURE, 'utf8').split('\n')) {
      if (line === '') continue;
      const rec = JSON.parse(line) as { t: string; ts: number; data: string };
      if (rec.t === 'recv' && typeof rec.data === 'string') frames.push({ text: rec.data, tsInit: Math.round(rec.ts * 1000) });
    }
    const scanned = new BybitDecoder();
    const parsed = new BybitDecoder({ scanner: false });
    let candidates = 0;
    for (const f of frames) {
      if (f.text.startsWith('{"topic":"tickers.') || f.text.startsWith('{"topic":"publicTrade.')) candidates++;
      const a: MarketEvent[] = [];
      const b: MarketEvent[] = [];
      scanned.decode(f.text, f.tsInit, (e) => a.push(e));
      parsed.decode(f.text, f.tsInit, (e) => b.push(e));
      expect(sameEvents(a, b), f.text).toBe(true);
    }
    expect(scanned.counters).toEqual(parsed.counters);
    for (const sym of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT']) expect(sameState(scanned, parsed, sym)).toBe(true);
    const accepted = scanned.counters.tickers + scanned.counters.tickersQuiet + scanned.counters.trades;
    console.log(`real capture: ${frames.length} frames, ${candidates} ticker/trade frames, ${accepted} accepted, ${scanned.scanHits} read by the scanner (hit rate ${((100 * scanned.scanHits) / candidates).toFixed(1)} % of ticker/trade frames)`);
    expect(accepted).toBeGreaterThan(900);
    expect(scanned.scanHits).toBe(accepted);
  });
});
