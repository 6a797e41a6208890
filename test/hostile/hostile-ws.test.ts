import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { startDaemon } from '../../src/cli/run.js';
import { createLogger } from '../../src/sinks/logger.js';
import { startFakeBybit } from '../support/fake-bybit.js';
import { Cleanups, waitFor } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const delta = (ts: number, fields: string, data?: string) => `{"topic":"tickers.BTCUSDT","type":"delta","ts":${ts},"cs":1,"data":${data ?? `{"symbol":"BTCUSDT",${fields}}`}}`;
const trade = (ts: number, T: number | string, v = '"1"', p = '"100"') => `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${ts},"data":[{"T":${T},"s":"BTCUSDT","S":"Buy","v":${v},"p":${p}}]}`;
const liquidation = (ts: number, T: number) => `{"topic":"allLiquidation.BTCUSDT","ts":${ts},"data":[{"T":${T},"s":"BTCUSDT","S":"Sell","v":"1","p":"100"}]}`;

describe('hostile Bybit WebSocket server against the daemon (issue 7)', () => {
  it('survives oversize frames, deep nesting, extreme and non-decimal numbers, bad times and a flood; counts each refusal; keeps processing good frames', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-')),
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      ESTIMATOR_BOOTSTRAP_DAYS: '0',
      WS_MAX_FRAME_BYTES: String(1024 * 1024),
    });
    const d = await startDaemon(config, createLogger('silent'));
    cleanups.push(() => d.close());
    const engine = d.engine!;
    const get = async (p: string) => {
      const res = await fetch(`http://127.0.0.1:${d.port}${p}`);
      return { status: res.status, body: await res.text() };
    };
    await waitFor('subscription and snapshot', () => ws.subscribedTopics().includes('tickers.BTCUSDT') && engine.decoder.counters.tickers >= 1);

    // 1. Oversize: refused at the socket before it is buffered; the connection is reopened.
    ws.push('tickers.BTCUSDT', delta(Date.now(), `"lastPrice":"1","junk":"${'x'.repeat(2 * 1024 * 1024)}"`));
    await waitFor('reconnect after oversize', () => ws.accepted >= 2 && ws.subscribedTopics().includes('tickers.BTCUSDT'));
    await waitFor('fresh snapshot', () => engine.decoder.counters.tickers >= 2);
    expect(d.stream.stats()[0]!.oversizeFrames).toBe(1);

    const before = { ...engine.decoder.counters.bad };
    const framesBefore = engine.decoder.counters.frames;
    const now = Date.now();
    const hostile: [string, string][] = [
      // Deep nesting: 400k levels as a whole frame, and as a ticker's data.
      ['json-or-envelope', '['.repeat(400_000) + ']'.repeat(400_000)],
      ['ticker', delta(now, '', '['.repeat(100_000) + ']'.repeat(100_000))],
      // Numbers that are not plain decimals, extreme ones, and prices that cannot be.
      ...['"1e3"', '"0b1"', '" 1"', '"0x10"', `"${'9'.repeat(40)}"`, '"0"', '"-5"', '1e308', '"Infinity"'].map((v): [string, string] => ['ticker', delta(now, `"lastPrice":${v}`)]),
      ['trade', trade(now, now, '"1e400"')],
      // JSON reads 1e400 as Infinity: not a time.
      ['envelope', '{"topic":"tickers.BTCUSDT","type":"delta","ts":1e400,"data":{"symbol":"BTCUSDT","lastPrice":"100"}}'],
      // Times far in the future, at zero and negative.
      ...[99999999999999, 0, -5, now + 10 * 60_000].map((T): [string, string] => ['event-time', trade(now, T)]),
      ['event-time', liquidation(now, 99999999999999)],
      ['event-time', delta(-1, '"lastPrice":"100"')],
      ['event-time', delta(now + 3_600_000, '"lastPrice":"100"')],
    ];
    for (const [, text] of hostile) ws.push(text.startsWith('{"topic":"publicTrade') ? 'publicTrade.BTCUSDT' : text.startsWith('{"topic":"allLiquidation') ? 'allLiquidation.BTCUSDT' : 'tickers.BTCUSDT', text);
    // A flood: garbage and valid book-only deltas interleaved.
    const flood = 40_000;
    for (let i = 0; i < flood; i++) ws.push('tickers.BTCUSDT', i % 2 === 0 ? `garbage ${i}` : delta(now, `"bid1Price":"99.5","bid1Size":"${i}"`));
    // Then good data: it must get through and be processed as if nothing happened.
    ws.push('tickers.BTCUSDT', delta(Date.now(), '"lastPrice":"101.5","openInterest":"2000"'));
    ws.push('publicTrade.BTCUSDT', trade(Date.now(), Date.now(), '"2"', '"101.5"'));

    const total = hostile.length + flood + 2;
    await waitFor('every frame decoded', () => engine.decoder.counters.frames - framesBefore >= total, 60_000);
    const bad = engine.decoder.counters.bad;
    const grew = (r: keyof typeof bad) => bad[r] - before[r];
    const expected = (r: string) => hostile.filter(([k]) => k === r).length;
    expect(grew('event-time')).toBe(expected('event-time'));
    expect(grew('ticker')).toBe(expected('ticker'));
    expect(grew('trade')).toBe(expected('trade'));
    expect(grew('envelope') + grew('json')).toBe(expected('envelope') + expected('json-or-envelope') + flood / 2);

    const view = await waitFor('good frames processed', async () => {
      const r = await get('/symbols/BTCUSDT');
      const body = JSON.parse(r.body) as { features: { lastPrice: number; openInterest: number; volume5mUsd: number } };
      return body.features.lastPrice === 101.5 ? body : undefined;
    });
    expect(view.features.openInterest).toBe(2000);
    expect(view.features.volume5mUsd).toBeCloseTo(203, 6);
    expect((await get('/healthz')).status).toBe(200);
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(new RegExp(`whalestack_bad_frames_total\\{reason="event-time"\\} ${bad['event-time']}`));
    expect(metrics).toMatch(/whalestack_ws_oversize_frames_total\{connection="bybit-ws-1"\} 1/);
  }, 120_000);
});
