import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { startDaemon } from '../../src/cli/run.js';
import { dbLog } from '../../src/cli/storage.js';
import { VirtualClock } from '../../src/core/clock.js';
import { LogSummary } from '../../src/sinks/log-summary.js';
import { createLogger } from '../../src/sinks/logger.js';
import { OutageLog } from '../../src/sinks/outage-log.js';
import { FakeBybitRest, instrumentRow } from '../support/fake-bybit-rest.js';
import { FakeBybitWs } from '../support/fake-bybit-ws.js';
import { Cleanups, waitFor } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}

function capture(level = 'info') {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { log: createLogger(level, sink), lines };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('outage logging', () => {
  it('logs the start, a reminder per period with the retry count, and the end with its duration', async () => {
    const { log, lines } = capture();
    const clock = new VirtualClock(0);
    let attempts = 10;
    const outages = new OutageLog({ log, clock, reminderMs: 60_000, attempts: (s) => (s === 'ws' ? attempts : undefined) });
    outages.down('ws', 'connect ECONNREFUSED');
    outages.failure('cg', 'fetch failed');
    outages.failure('cg', 'fetch failed');
    outages.failure('cg', 'timeout');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['source down: ws (outage started; retrying)', 'source down: cg (outage started; retrying)']);
    attempts = 17;
    clock.advanceTo(60_000);
    clock.advanceTo(119_999);
    attempts = 25;
    clock.advanceTo(120_000);
    outages.up('ws');
    await new Promise((r) => setImmediate(r));
    const reminders = lines.filter((l) => l.msg.startsWith('source still down: ws'));
    expect(reminders.map((l) => [l.downSec, l.retries])).toEqual([
      [60, 7],
      [120, 15],
    ]);
    expect(lines.find((l) => l.msg.startsWith('source still down: cg'))).toMatchObject({ retries: 2, reason: 'timeout' });
    expect(lines.at(-1)).toMatchObject({ msg: 'source up: ws (outage over after 120 s, 15 failed retries)', downSec: 120 });
    // Closed outages stop reminding; open ones keep going.
    clock.advanceTo(180_000);
    expect(lines.filter((l) => l.msg.startsWith('source still down: ws'))).toHaveLength(2);
    expect(lines.filter((l) => l.msg.startsWith('source still down: cg'))).toHaveLength(3);
    outages.stop();
  });

  it('a daemon logs Bybit WS and CoinGlass outages with reminders, and the WS outage end', async () => {
    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    rest.instruments = ['BTCUSDT', 'ETHUSDT'].map((s) => instrumentRow(s));
    const wsPort = await freePort();
    const cgPort = await freePort();
    const { log, lines } = capture();
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-outage-')),
      BYBIT_WS_URL: `ws://127.0.0.1:${wsPort}/v5/public/linear`,
      BYBIT_REST_URL: rest.baseUrl,
      COINGLASS_URL: `http://127.0.0.1:${cgPort}`,
      COINGLASS_API_KEY: 'k',
      HTTP_PORT: '0',
      ESTIMATOR_BOOTSTRAP_DAYS: '0',
      OUTAGE_REMINDER_MS: '1000',
    });
    const d = await startDaemon(config, log);
    cleanups.push(() => d.close());
    await waitFor('WS reminders', () => lines.filter((l) => /^source still down: bybit/.test(l.msg)).length >= 2 || undefined);
    await waitFor('CoinGlass outage', () => lines.find((l) => l.msg.startsWith('source down: coinglass')));
    await waitFor('CoinGlass reminder', () => lines.find((l) => l.msg.startsWith('source still down: coinglass')));
    const started = lines.filter((l) => /^source down: bybit-ws/.test(l.msg));
    expect(started.length).toBeGreaterThan(0);
    const wsReminders = lines.filter((l) => /^source still down: bybit/.test(l.msg));
    expect(wsReminders.at(-1)!.retries as number).toBeGreaterThan(0);
    const ws = await FakeBybitWs.start({ port: wsPort });
    cleanups.push(() => ws.stop());
    const ended = await waitFor('WS outage end', () => lines.find((l) => /^source up: bybit-ws.*outage over after \d+ s/.test(l.msg)), 30_000);
    expect(ended.downSec as number).toBeGreaterThan(1);
  });
});

describe('log floods are summarised', () => {
  it('LogSummary: the first lines in full, then one count per window', async () => {
    const { log, lines } = capture();
    let t = 0;
    const s = new LogSummary(log, 'widgets', { firstLines: 3, windowMs: 60_000, now: () => t });
    for (let i = 0; i < 1000; i++) s.line({ i }, `widget ${i} broke`);
    t = 60_000;
    s.line({ i: 1000 }, 'widget 1000 broke');
    s.flush();
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual([
      'widget 0 broke',
      'widget 1 broke',
      'widget 2 broke',
      'further widgets are counted, not logged one by one',
      '997 more widgets not logged one by one (1000 in all)',
      'widget 1000 broke',
    ]);
    expect(s.count).toBe(1001);
  });

  it('journal spills during a database outage: a few lines a minute and a count', async () => {
    const { log, lines } = capture();
    let t = 0;
    const write = dbLog(log, () => t);
    for (let i = 0; i < 500; i++) write('warn', 'memory buffer full: rows spilled to journal', { rows: 100, spilledRows: (i + 1) * 100 });
    write('error', 'batch failed', { table: 'x' });
    t = 61_000;
    write('warn', 'memory buffer full: rows spilled to journal', { rows: 100, spilledRows: 50_100 });
    await new Promise((r) => setImmediate(r));
    expect(lines.filter((l) => l.msg === 'memory buffer full: rows spilled to journal')).toHaveLength(4);
    expect(lines.find((l) => l.msg.startsWith('497 more journal spills'))).toMatchObject({ suppressed: 497, total: 500 });
    expect(lines.filter((l) => l.msg === 'batch failed')).toHaveLength(1);
  });

  it('estimator bootstrap with the history routes missing: five lines and a count by reason, not one per symbol', async () => {
    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    const symbols = Array.from({ length: 40 }, (_, i) => `B${i}USDT`);
    rest.instruments = symbols.map((s) => instrumentRow(s));
    rest.inject({ kind: 'http', status: 404, body: '{"code":404,"msg":"Not Found"}' }, { path: '/v5/market/open-interest', times: 10_000 });
    rest.inject({ kind: 'http', status: 404, body: '{"code":404,"msg":"Not Found"}' }, { path: '/v5/market/kline', times: 10_000 });
    const ws = await FakeBybitWs.start();
    cleanups.push(() => ws.stop());
    const { log, lines } = capture();
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-boot-')),
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      ESTIMATOR_BOOTSTRAP_DAYS: '1',
      BYBIT_REST_REQUESTS_PER_SEC: '100',
    });
    const d = await startDaemon(config, log);
    cleanups.push(() => d.close());
    const finished = await waitFor('bootstrap finished', () => lines.find((l) => l.msg === 'estimator bootstrap finished'), 45_000);
    expect(finished.failed).toBe(40);
    const perSymbol = lines.filter((l) => l.msg.startsWith('estimator bootstrap failed for a symbol'));
    expect(perSymbol).toHaveLength(5);
    expect(lines.find((l) => l.msg.startsWith('35 more estimator bootstrap failures'))).toBeDefined();
    expect(Object.values(finished.failedByReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(40);
  });
});
