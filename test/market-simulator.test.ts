import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prng } from '../src/core/prng.js';
import { encodeTapeRecord, type TapeRecord } from '../src/core/tape-record.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { simSymbolNames, simulateInstruments, simulateInstrumentsReply, simulateMarket, type MarketSimOptions } from '../src/streams/market-simulator.js';
import { readTape } from '../src/streams/tape-reader.js';

const START_MS = Date.UTC(2026, 7, 9, 21, 0, 0);
const TICKER_FIELDS = [
  'symbol', 'tickDirection', 'price24hPcnt', 'lastPrice', 'prevPrice24h', 'highPrice24h', 'lowPrice24h', 'prevPrice1h', 'markPrice',
  'indexPrice', 'openInterest', 'openInterestValue', 'turnover24h', 'volume24h', 'fundingIntervalHour', 'fundingCap',
  'singleOpenInterest', 'singleOpenInterestValue', 'nextFundingTime', 'fundingRate', 'bid1Price', 'bid1Size', 'ask1Price',
  'ask1Size', 'preOpenPrice', 'preQty', 'curPreListingPhase',
];
const root = mkdtempSync(join(tmpdir(), 'whalestack-sim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Frame {
  topic: string;
  type: string;
  ts: number;
  cs?: number;
  data: unknown;
}

const lines = (recs: Iterable<TapeRecord>): string[] => Array.from(recs, encodeTapeRecord);

/** Merged ticker state per symbol, as the stream layer will build it. */
type TickerState = Record<string, string>;

function decimalsOf(s: string): number {
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

describe('Prng', () => {
  it('is deterministic per seed, differs across seeds and forks, and has sane moments', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const xs = Array.from({ length: 20000 }, () => a.next());
    expect(Array.from({ length: 20000 }, () => b.next())).toEqual(xs);
    expect(new Prng(8).next()).not.toBe(xs[0]);
    expect(new Prng(7).fork('BTCUSDT').next()).toBe(new Prng(7).fork('BTCUSDT').next());
    expect(new Prng(7).fork('BTCUSDT').next()).not.toBe(new Prng(7).fork('ETHUSDT').next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    const n = new Prng('normal');
    const zs = Array.from({ length: 20000 }, () => n.normal(2, 3));
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const sd = Math.sqrt(zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length);
    expect(mean).toBeCloseTo(2, 0);
    expect(sd).toBeGreaterThan(2.85);
    expect(sd).toBeLessThan(3.15);
    const ints = new Set(Array.from({ length: 1000 }, () => n.nextInt(3, 6)));
    expect([...ints].sort()).toEqual([3, 4, 5]);
  });
});

describe('simulateMarket', () => {
  const base: MarketSimOptions = { seed: 11, symbolCount: 6, includeMajors: true, startMs: START_MS, durationMs: 30_000 };

  it('is byte-identical for the same seed and different for another seed', () => {
    const one = lines(simulateMarket(base));
    expect(one.length).toBeGreaterThan(500);
    expect(lines(simulateMarket(base))).toEqual(one);
    const other = lines(simulateMarket({ ...base, seed: 12 }));
    expect(other).not.toEqual(one);
  });

  it('emits Bybit v5 shaped frames: snapshot first, deltas of changed fields only, sorted trades, non-decreasing tsInit', () => {
    const recs = [...simulateMarket({ ...base, includeInstruments: true })];
    expect(recs[0]).toMatchObject({ s: 'sim', k: 'http', t: START_MS });
    const instruments = JSON.parse(recs[0]?.d ?? '{}') as { result: { list: { symbol: string; priceScale: string }[] } };
    const scale = new Map(instruments.result.list.map((i) => [i.symbol, Number(i.priceScale)]));
    expect([...scale.keys()]).toEqual(simSymbolNames(6, true));
    const state = new Map<string, TickerState>();
    const lastTradeT = new Map<string, number>();
    const counts = { snapshot: 0, delta: 0, trades: 0, liqs: 0 };
    let prevT = -Infinity;
    for (const rec of recs.slice(1)) {
      expect(rec.s).toBe('sim');
      expect(rec.t).toBeGreaterThanOrEqual(prevT);
      prevT = rec.t;
      const f = JSON.parse(rec.d) as Frame;
      expect(rec.t).toBeGreaterThanOrEqual(f.ts);
      expect(rec.t - f.ts).toBeLessThan(1000);
      const [topic, symbol = ''] = f.topic.split('.');
      const decimals = scale.get(symbol);
      expect(decimals).toBeDefined();
      if (topic === 'tickers') {
        const data = f.data as Record<string, unknown>;
        expect(data['symbol']).toBe(symbol);
        expect(typeof f.cs).toBe('number');
        for (const v of Object.values(data)) expect(typeof v).toBe('string');
        if (f.type === 'snapshot') {
          expect(state.has(symbol)).toBe(false);
          expect(Object.keys(data)).toEqual(TICKER_FIELDS);
          state.set(symbol, data as TickerState);
          counts.snapshot++;
        } else {
          expect(f.type).toBe('delta');
          const prev = state.get(symbol);
          expect(prev, `delta before snapshot for ${symbol}`).toBeDefined();
          const changed = Object.keys(data).filter((k) => k !== 'symbol');
          expect(changed.length).toBeGreaterThan(0);
          for (const k of changed) {
            expect(TICKER_FIELDS).toContain(k);
            expect(data[k], `${symbol}.${k} repeated unchanged`).not.toBe(prev?.[k]);
          }
          state.set(symbol, { ...prev, ...(data as TickerState) });
          counts.delta++;
        }
        const merged = state.get(symbol) as TickerState;
        expect(decimalsOf(merged['lastPrice'] ?? '')).toBe(decimals);
        expect(Number(merged['ask1Price'])).toBeGreaterThan(Number(merged['bid1Price']));
      } else if (topic === 'publicTrade') {
        expect(state.has(symbol)).toBe(true);
        expect(f.type).toBe('snapshot');
        const trades = f.data as Record<string, unknown>[];
        expect(trades.length).toBeGreaterThan(0);
        for (const tr of trades) {
          expect(Object.keys(tr)).toEqual(['T', 's', 'S', 'v', 'p', 'L', 'i', 'BT', 'RPI', 'seq']);
          expect(tr['s']).toBe(symbol);
          expect(['Buy', 'Sell']).toContain(tr['S']);
          expect(['PlusTick', 'ZeroPlusTick', 'MinusTick', 'ZeroMinusTick']).toContain(tr['L']);
          expect(tr['i']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
          expect(decimalsOf(tr['p'] as string)).toBe(decimals);
          expect(Number(tr['v'])).toBeGreaterThan(0);
          expect(tr['T']).toBeGreaterThanOrEqual(lastTradeT.get(symbol) ?? 0);
          lastTradeT.set(symbol, tr['T'] as number);
        }
        counts.trades++;
      } else {
        expect(topic).toBe('allLiquidation');
        for (const l of f.data as Record<string, unknown>[]) {
          expect(Object.keys(l)).toEqual(['T', 's', 'S', 'v', 'p']);
          expect(l['T']).toBeLessThanOrEqual(f.ts);
        }
        counts.liqs++;
      }
    }
    expect(counts.snapshot).toBe(8);
    expect(counts.delta).toBeGreaterThan(8 * 30);
    expect(counts.trades).toBeGreaterThan(100);
    const btc = state.get('BTCUSDT') as TickerState;
    expect(Number(btc['lastPrice'])).toBeGreaterThan(20_000);
  });

  it('a pump raises lastPrice by ≈movePct and OI by ≈oiChangePct; a dump lowers it; volume and liquidations follow', () => {
    const pump = { symbol: 'SYM001USDT', kind: 'pump', startMs: START_MS + 60_000, durationMs: 120_000, movePct: 8, oiChangePct: 12, volumeMult: 5 } as const;
    const dump = { symbol: 'SYM002USDT', kind: 'dump', startMs: START_MS + 30_000, durationMs: 90_000, movePct: 6, oiChangePct: -5, volumeMult: 4 } as const;
    const state = new Map<string, TickerState>();
    const atStart = new Map<string, TickerState>();
    const atEnd = new Map<string, TickerState>();
    const trades = { before: 0, during: 0 };
    const liqSides: string[] = [];
    for (const rec of simulateMarket({ seed: 5, symbolCount: 20, startMs: START_MS, durationMs: 240_000, scenarios: [pump, dump] })) {
      const f = JSON.parse(rec.d) as Frame;
      const symbol = f.topic.split('.')[1] ?? '';
      if (f.topic.startsWith('tickers.')) {
        for (const sc of [pump, dump]) {
          if (sc.symbol !== symbol) continue;
          if (f.ts > sc.startMs && !atStart.has(symbol)) atStart.set(symbol, { ...state.get(symbol) });
          if (f.ts > sc.startMs + sc.durationMs && !atEnd.has(symbol)) atEnd.set(symbol, { ...state.get(symbol) });
        }
        state.set(symbol, { ...state.get(symbol), ...(f.data as TickerState) });
      } else if (symbol === pump.symbol && f.topic.startsWith('publicTrade.')) {
        const n = (f.data as unknown[]).length;
        if (f.ts < pump.startMs) trades.before += n;
        else if (f.ts < pump.startMs + pump.durationMs) trades.during += n;
      } else if (symbol === pump.symbol && f.ts > pump.startMs && f.ts < pump.startMs + pump.durationMs) {
        for (const l of f.data as { S: string }[]) liqSides.push(l.S);
      }
    }
    const change = (sym: string, field: string): number =>
      (Number(atEnd.get(sym)?.[field]) / Number(atStart.get(sym)?.[field]) - 1) * 100;
    expect(change('SYM001USDT', 'lastPrice')).toBeGreaterThan(8 - 1);
    expect(change('SYM001USDT', 'lastPrice')).toBeLessThan(8 + 1);
    expect(change('SYM001USDT', 'openInterest')).toBeGreaterThan(12 - 1);
    expect(change('SYM001USDT', 'openInterest')).toBeLessThan(12 + 1);
    expect(change('SYM002USDT', 'lastPrice')).toBeGreaterThan(-6 - 1);
    expect(change('SYM002USDT', 'lastPrice')).toBeLessThan(-6 + 1);
    expect(change('SYM002USDT', 'openInterest')).toBeGreaterThan(-5 - 1);
    expect(change('SYM002USDT', 'openInterest')).toBeLessThan(-5 + 1);
    const ratePerSec = { before: trades.before / 60, during: trades.during / 120 };
    expect(ratePerSec.during / ratePerSec.before).toBeGreaterThan(3);
    expect(liqSides.length).toBeGreaterThan(20);
    expect(liqSides.filter((s) => s === 'Sell').length / liqSides.length).toBeGreaterThan(0.8);
  });

  it('a quiet scenario keeps the price nearly still (same seed, with and without it)', () => {
    const markRangePct = (scenarios: MarketSimOptions['scenarios']): number => {
      const marks: number[] = [];
      for (const rec of simulateMarket({ seed: 3, symbolCount: 2, startMs: START_MS, durationMs: 300_000, scenarios })) {
        const mark = rec.d.startsWith('{"topic":"tickers.SYM001USDT"') ? (JSON.parse(rec.d) as { data: TickerState }).data['markPrice'] : undefined;
        if (mark !== undefined) marks.push(Number(mark));
      }
      expect(marks.length).toBeGreaterThan(3);
      return ((Math.max(...marks) - Math.min(...marks)) / (marks[0] ?? 1)) * 100;
    };
    const calm = markRangePct([]);
    const quiet = markRangePct([{ symbol: 'SYM001USDT', kind: 'quiet', startMs: START_MS, durationMs: 300_000 }]);
    expect(calm).toBeGreaterThan(0.1);
    expect(quiet).toBeLessThan(calm * 0.4);
    expect(quiet).toBeLessThan(0.1);
  });

  it('instruments match the symbols and price scales of the frames, whatever the seed', () => {
    const list = simulateInstruments(3, true);
    expect(list.map((i) => i['symbol'])).toEqual(['BTCUSDT', 'ETHUSDT', 'SYM001USDT', 'SYM002USDT', 'SYM003USDT']);
    expect(list[0]).toMatchObject({ priceScale: '2', priceFilter: { tickSize: '0.10' }, contractType: 'LinearPerpetual', status: 'Trading' });
    expect(JSON.parse(simulateInstrumentsReply(3, true, 5))).toMatchObject({ retCode: 0, result: { category: 'linear', nextPageCursor: '' }, time: 5 });
    expect(simulateInstruments(3, false)).toEqual(list.slice(2).map((i, n) => ({ ...i, symbolId: 1000 + n })));
  });

  it('rejects a scenario for a symbol that is not simulated', () => {
    const bad = { symbol: 'NOPEUSDT', kind: 'pump', startMs: START_MS, durationMs: 1000 } as const;
    expect(() => [...simulateMarket({ ...base, scenarios: [bad] })]).toThrow(/NOPEUSDT/);
  });

  it('streams 500 symbols fast and writes a tape the reader gives back unchanged', async () => {
    const opts: MarketSimOptions = { seed: 99, symbolCount: 500, startMs: START_MS, durationMs: 20_000 };
    const t0 = performance.now();
    let n = 0;
    for (const rec of simulateMarket(opts)) n += rec.d.length > 0 ? 1 : 0;
    const ms = performance.now() - t0;
    console.log(`simulateMarket: ${n} records (500 symbols x 20 s) in ${ms.toFixed(0)} ms = ${Math.round((n / ms) * 1000)} records/s`);
    expect(n).toBeGreaterThan(500 * 20 * 2);
    expect(n).toBeLessThan(500 * 20 * 12);
    const dir = join(root, 'sim');
    const small = { ...opts, symbolCount: 30, durationMs: 10_000 };
    const summary = await writeTape(simulateMarket(small), { dir, rotateBytes: 256 * 1024, gzipLevel: 1 });
    expect(summary.files.length).toBeGreaterThan(1);
    const back: string[] = [];
    for await (const r of readTape([dir])) back.push(encodeTapeRecord(r));
    expect(back).toEqual(lines(simulateMarket(small)));
  });
});
