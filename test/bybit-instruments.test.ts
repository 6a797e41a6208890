import { RestClientV5 } from 'bybit-api';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import {
  discoverLinearInstruments,
  InstrumentsDiscoveryError,
  InstrumentsWatcher,
  parseInstrumentsPage,
  type InstrumentsChange,
  type LinearInstrument,
} from '../src/streams/bybit-instruments.js';
import { FakeBybitRest, instrumentRow, type InstrumentRow } from './support/fake-bybit-rest.js';
import { captureAvailable, readCapture } from './support/shared-data.js';

/** 620 USDT perps (alphabet soup), 30 USDC perps, 20 USDT futures, 10 settling USDT perps. */
function marketRows(): InstrumentRow[] {
  const rows: InstrumentRow[] = [];
  for (let i = 0; i < 620; i++) rows.push(instrumentRow(`C${String(619 - i).padStart(3, '0')}USDT`, { launchTime: String(1_600_000_000_000 + i) }));
  for (let i = 0; i < 30; i++) rows.push(instrumentRow(`U${i}PERP`));
  for (let i = 0; i < 20; i++) rows.push(instrumentRow(`F${i}USDT-26DEC26`, { contractType: 'LinearFutures' }));
  for (let i = 0; i < 10; i++) rows.push(instrumentRow(`S${i}USDT`, { status: 'Settling' }));
  return rows;
}

let rest: FakeBybitRest;
beforeAll(async () => {
  rest = await FakeBybitRest.start();
});
afterAll(async () => {
  await rest.stop();
});
beforeEach(() => {
  rest.instruments = marketRows();
  rest.serveAllStatuses = true;
  rest.requests.length = 0;
});

/** A client whose page size we can shrink so >500 symbols span several pages. */
function smallPageClient(limit: number): RestClientV5 {
  const client = new RestClientV5({ baseUrl: rest.baseUrl }, { timeout: 2000 });
  const original = client.getInstrumentsInfo.bind(client);
  client.getInstrumentsInfo = ((params: Parameters<typeof original>[0]) => original({ ...params, limit })) as typeof client.getInstrumentsInfo;
  return client;
}

describe('discoverLinearInstruments', () => {
  it('pages through >500 symbols on >=3 pages and keeps only Trading USDT perpetuals, sorted', async () => {
    const list = await discoverLinearInstruments({ client: smallPageClient(250) });
    const pages = rest.requests.filter((r) => r.path === '/v5/market/instruments-info');
    expect(pages.length).toBe(3); // 680 rows / 250
    expect(pages[0]?.query.cursor).toBeUndefined();
    expect(pages[1]?.query.cursor).toBeTruthy();
    expect(list.length).toBe(620);
    expect(list[0]?.symbol).toBe('C000USDT');
    expect(list.at(-1)?.symbol).toBe('C619USDT');
    expect(list.every((i) => /^C\d{3}USDT$/.test(i.symbol))).toBe(true);
    expect(list[0]).toEqual({
      symbol: 'C000USDT', baseCoin: 'C000', tickSize: 0.0001, qtyStep: 0.1, minOrderQty: 0.1, maxLeverage: 50, launchTime: 1_600_000_000_619,
    });
  });

  it('asks for limit 1000 and the linear category by default', async () => {
    const list = await discoverLinearInstruments({ baseUrl: rest.baseUrl, timeoutMs: 2000 });
    expect(list.length).toBe(620);
    expect(rest.requests[0]?.query).toMatchObject({ category: 'linear', limit: '1000' });
  });

  it('turns a retCode != 0 body into a clear error', async () => {
    rest.inject({ kind: 'retCode', retCode: 10016, retMsg: 'Server error' });
    await expect(discoverLinearInstruments({ baseUrl: rest.baseUrl })).rejects.toThrow(/page 1: retCode 10016 "Server error"/);
  });

  it('turns HTTP 500 and 429 into clear errors', async () => {
    rest.inject({ kind: 'http', status: 500 });
    const err = await discoverLinearInstruments({ baseUrl: rest.baseUrl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstrumentsDiscoveryError);
    expect((err as Error).message).toMatch(/page 1: HTTP 500/);
    rest.inject({ kind: 'http', status: 429, body: 'Too many visits' });
    await expect(discoverLinearInstruments({ baseUrl: rest.baseUrl })).rejects.toThrow(/HTTP 429.*Too many visits/);
  });

  it('reports malformed JSON, and names the page that failed', async () => {
    rest.inject({ kind: 'malformed' });
    await expect(discoverLinearInstruments({ baseUrl: rest.baseUrl })).rejects.toThrow(/page 1: body is not JSON/);
    rest.inject({ kind: 'http', status: 502 }, { path: '/v5/market/instruments-info', skip: 1 });
    await expect(discoverLinearInstruments({ client: smallPageClient(300) })).rejects.toThrow(/page 2: HTTP 502/);
  });

  it('times out a slow reply with a clear error', async () => {
    rest.inject({ kind: 'slow', delayMs: 1500 });
    await expect(discoverLinearInstruments({ baseUrl: rest.baseUrl, timeoutMs: 200 })).rejects.toThrow(/page 1: .*timeout/i);
  });

  it('names the offending field when a kept row has a bad shape', async () => {
    rest.instruments[5] = instrumentRow('BADUSDT', { priceFilter: { tickSize: 'abc' } });
    await expect(discoverLinearInstruments({ baseUrl: rest.baseUrl })).rejects.toThrow(
      /result\.list\[5\]\.priceFilter\.tickSize: expected a decimal string \(got "abc"\) \[symbol BADUSDT\]/,
    );
  });

  it('ignores odd fields on rows that are filtered out anyway', async () => {
    rest.instruments.push(instrumentRow('ODDUSDT-27MAR27', { contractType: 'LinearFutures', priceFilter: null }));
    expect((await discoverLinearInstruments({ baseUrl: rest.baseUrl })).length).toBe(620);
  });
});

describe('FakeBybitRest market endpoints through RestClientV5', () => {
  it('serves tickers, klines newest first, and open interest in the real envelope', async () => {
    const client = new RestClientV5({ baseUrl: rest.baseUrl }, { timeout: 2000 });
    rest.prices.set('C001USDT', 2.5);
    const t = await client.getTickers({ category: 'linear', symbol: 'C001USDT' });
    expect(t.retCode).toBe(0);
    expect(t.result.list[0]).toMatchObject({ symbol: 'C001USDT', lastPrice: '2.5000' });
    const k = await client.getKline({ category: 'linear', symbol: 'C001USDT', interval: '5', end: 1_800_000_000_000, limit: 3 });
    expect(k.result.list.map((row) => Number(row[0]))).toEqual([1_800_000_000_000, 1_799_999_700_000, 1_799_999_400_000]);
    const oi = await client.getOpenInterest({ category: 'linear', symbol: 'C001USDT', intervalTime: '1h', limit: 2 });
    expect(oi.result.list.length).toBe(2);
    expect(Number(oi.result.list[0]?.timestamp)).toBeGreaterThan(Number(oi.result.list[1]?.timestamp));
    const bad = await client.getTickers({ category: 'linear', symbol: 'NOPEUSDT' });
    expect(bad.retCode).toBe(10001);
  });
});

describe('parseInstrumentsPage', () => {
  it('rejects envelopes without retCode or with a missing list, naming the field', () => {
    expect(() => parseInstrumentsPage({ retMsg: 'OK', result: {} })).toThrow(/retCode: .*\(got undefined\)/);
    expect(() => parseInstrumentsPage({ retCode: 0, retMsg: 'OK', result: { list: 'x' } })).toThrow(/result\.list: /);
  });

  it('keeps exactly the Trading USDT LinearPerpetual rows of any generated page (seeded property)', () => {
    const seed = 20260809;
    const row = fc.record({
      n: fc.integer({ min: 0, max: 9999 }),
      status: fc.constantFrom('Trading', 'Settling', 'PreLaunch'),
      contractType: fc.constantFrom('LinearPerpetual', 'LinearFutures'),
      quoteCoin: fc.constantFrom('USDT', 'USDC'),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const list = rows.map((r, i) => instrumentRow(`X${r.n}N${i}USDT`, { status: r.status, contractType: r.contractType, quoteCoin: r.quoteCoin }));
        const got = parseInstrumentsPage({ retCode: 0, retMsg: 'OK', result: { list, nextPageCursor: '' }, retExtInfo: {}, time: 1 });
        const want = list.filter((r) => r.status === 'Trading' && r.contractType === 'LinearPerpetual' && r.quoteCoin === 'USDT').map((r) => r.symbol);
        expect(got.instruments.map((i) => i.symbol)).toEqual(want);
      }),
      { seed, numRuns: 200 },
    );
  });

  it.skipIf(!captureAvailable)('parses the real captured instruments-info reply', () => {
    const line = readCapture().find((l) => l.t === 'http' && l.url?.includes('category=linear'));
    expect(line?.data).toBeDefined();
    const body: unknown = JSON.parse(line?.data ?? '');
    const { instruments, nextPageCursor } = parseInstrumentsPage(body);
    expect(nextPageCursor).toBe('');
    expect(instruments.length).toBe(692);
    const btc = instruments.find((i) => i.symbol === 'BTCUSDT');
    expect(btc?.baseCoin).toBe('BTC');
    expect(btc?.tickSize).toBeGreaterThan(0);
    expect(instruments.every((i) => i.symbol.endsWith('USDT') && Number.isFinite(i.launchTime))).toBe(true);
  });
});

describe('InstrumentsWatcher', () => {
  const inst = (symbol: string, tickSize = 0.01): LinearInstrument => ({
    symbol, baseCoin: symbol.replace('USDT', ''), tickSize, qtyStep: 1, minOrderQty: 1, maxLeverage: 25, launchTime: 0,
  });
  const flush = () => new Promise((r) => setImmediate(r));

  it('emits the full list first, then only diffs; keeps the last good list on failure and retries with backoff', async () => {
    const clock = new VirtualClock(1_000);
    const replies: (LinearInstrument[] | Error)[] = [
      [inst('AUSDT'), inst('BUSDT')],
      new InstrumentsDiscoveryError('instruments-info page 1: HTTP 500'),
      [inst('BUSDT', 0.1), inst('CUSDT')],
      [inst('BUSDT', 0.1), inst('CUSDT')],
    ];
    let calls = 0;
    const watcher = new InstrumentsWatcher({
      clock,
      random: () => 0.5,
      intervalMs: 60_000,
      retry: { baseMs: 1_000, capMs: 10_000 },
      discover: async () => {
        const r = replies[calls++];
        if (r === undefined || r instanceof Error) throw r ?? new Error('no more replies');
        return r;
      },
    });
    const changes: InstrumentsChange[] = [];
    const events: string[] = [];
    watcher.changes$.subscribe((c) => changes.push(c));
    watcher.sourceEvents$.subscribe((e) => events.push(e.kind));
    watcher.start();
    await flush();
    expect(changes.map((c) => c.listed.map((i) => i.symbol))).toEqual([['AUSDT', 'BUSDT']]);

    clock.advanceTo(61_000); // scheduled refresh fails
    await flush();
    expect(watcher.current().map((i) => i.symbol)).toEqual(['AUSDT', 'BUSDT']);
    expect(events).toEqual(['source-down']);
    expect(watcher.stats().lastError).toMatch(/HTTP 500/);

    clock.advanceTo(61_000 + 499); // backoff: 0.5 * 1000 = 500 ms
    await flush();
    expect(calls).toBe(2);
    clock.advanceTo(61_500);
    await flush();
    expect(calls).toBe(3);
    expect(events).toEqual(['source-down', 'source-up']);
    const last = changes.at(-1) as InstrumentsChange;
    expect(last.listed.map((i) => i.symbol)).toEqual(['CUSDT']);
    expect(last.delisted.map((i) => i.symbol)).toEqual(['AUSDT']);
    expect(last.changed.map((i) => i.symbol)).toEqual(['BUSDT']);

    clock.advanceTo(61_500 + 60_000); // unchanged list: no emission
    await flush();
    expect(calls).toBe(4);
    expect(changes.length).toBe(2);
    watcher.stop();
  });
});
