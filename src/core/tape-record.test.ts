import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTapeHeader,
  decodeTapeRecord,
  encodeTapeHeader,
  encodeTapeRecord,
  findSecretInUrl,
  type TapeRecord,
} from './tape-record.js';

const SEED = 20260809;

/** Any UTF-16 code unit, lone surrogates included, plus the characters JSON has to escape. */
const anyText = fc.string({
  unit: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('"', '\\', '\n', '\r', '\u2028', '\u0000', '😀', 'é')),
  maxLength: 200,
});

const recordArb: fc.Arbitrary<TapeRecord> = fc
  .record(
    {
      t: fc.oneof(fc.double({ min: 0, max: 4e12, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 2 ** 42 })),
      s: anyText.filter((s) => s.length > 0),
      d: anyText,
      k: anyText,
      u: fc.webUrl(),
    },
    { requiredKeys: ['t', 's', 'd'] },
  )
  .map((r) => ({ ...r, t: Object.is(r.t, -0) ? 0 : r.t }));

describe('tape record encode/decode', () => {
  it(`roundtrips any record exactly (seed ${SEED})`, () => {
    fc.assert(
      fc.property(recordArb, (rec) => {
        fc.pre(findSecretInUrl(rec.u ?? '') === undefined);
        const line = encodeTapeRecord(rec);
        expect(line.includes('\n')).toBe(false);
        const back = decodeTapeRecord(line);
        expect(back).toEqual({ ok: true, value: rec });
        expect(encodeTapeRecord(back.ok ? back.value : rec)).toBe(line);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('encodes keys in a fixed order with d last', () => {
    expect(encodeTapeRecord({ d: '{"a":1}', u: 'https://x/y?category=linear', k: 'http', s: 'bybit-rest', t: 1.5 })).toBe(
      '{"t":1.5,"s":"bybit-rest","k":"http","u":"https://x/y?category=linear","d":"{\\"a\\":1}"}',
    );
  });

  it('rejects bad lines with a reason instead of throwing', () => {
    const bad = ['', 'not json', '[1,2]', 'null', '{"t":"1","s":"a","d":""}', '{"t":1,"s":"","d":""}', '{"t":1,"s":"a"}', '{"t":-1,"s":"a","d":""}', '{"t":1,"s":"a","d":"","k":3}'];
    for (const line of bad) {
      const r = decodeTapeRecord(line);
      expect(r.ok, line).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('refuses to encode records whose url carries credentials', () => {
    for (const u of [
      'https://api.bybit.com/v5/order/realtime?category=linear&api_key=abc&sign=def',
      'https://api.bybit.com/x?apiKey=abc',
      'https://api.bybit.com/x?timestamp=1&SIGN=00',
      'https://api.bybit.com/x?signature=00',
      'https://api.telegram.org/bot123456:AAbbCC-dd_ee/sendMessage',
    ]) {
      expect(findSecretInUrl(u), u).toBeDefined();
      expect(() => encodeTapeRecord({ t: 1, s: 'bybit-rest', k: 'http', u, d: '{}' })).toThrow(/secret/);
    }
    expect(findSecretInUrl('https://api.bybit.com/v5/market/kline?category=linear&symbol=BTCUSDT&designation=1')).toBeUndefined();
    expect(findSecretInUrl('https://open-api-v4.coinglass.com/api/futures/liquidation/heatmap/model2?exchange=Bybit&symbol=BTCUSDT&range=3d')).toBeUndefined();
  });

  it('headers roundtrip and are told apart from records and from other versions', () => {
    const line = encodeTapeHeader(1786310817583, { host: 'h1', symbols: 2 });
    expect(decodeTapeHeader(line)).toEqual({ ok: true, value: { whalestack: 'tape', v: 1, startedAt: 1786310817583, meta: { host: 'h1', symbols: 2 } } });
    const notHeader = decodeTapeHeader(encodeTapeRecord({ t: 1, s: 'sim', d: '' }));
    expect(notHeader.ok === false && notHeader.reason.startsWith('not a header')).toBe(true);
    const v2 = decodeTapeHeader('{"whalestack":"tape","v":2,"startedAt":1,"meta":{}}');
    expect(v2.ok === false && v2.reason.includes('unsupported tape version 2')).toBe(true);
  });
});
