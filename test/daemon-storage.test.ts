import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import { createLogger } from '../src/sinks/logger.js';
import { startFakeBybit } from './support/fake-bybit.js';
import { tickerSnapshotFrame } from './support/fake-bybit-ws.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase } from './support/storage-db.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe.runIf(pgAvailable)('daemon writes what it sees to PostgreSQL', () => {
  it('migrates on start; minute bars, spikes and realized liquidations land once, flushed on close', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const config = loadConfig({
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-daemon-pg-')),
      SPIKE_COOLDOWN_MS: '0',
      // The frames below are stamped an hour ahead (clear of retention jobs); let the event-time band accept them.
      EVENT_TIME_MAX_AHEAD_MS: '7200000',
    });
    const daemon = await startDaemon(config, createLogger('silent'));
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : daemon.close()));
    await waitFor('subscription', async () => ws.subscribedTopics().includes('tickers.BTCUSDT'));

    // Exchange time: minute 0 at 100, minute 1 at 103 (+3 % in a minute → a Price1m spike), minute 2 closes minute 1.
    // After the snapshot the fake server pushes on subscribe (stamped with the wall clock).
    const t0 = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000;
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', t0, 100));
    const delta = (ts: number, price: string) =>
      `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"${price}"},"cs":2,"ts":${ts}}`;
    ws.push('tickers.BTCUSDT', delta(t0 + 30_000, '101'));
    ws.push('tickers.BTCUSDT', delta(t0 + 61_000, '103'));
    ws.push('allLiquidation.BTCUSDT', `{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":${t0 + 62_000},"data":[{"T":${t0 + 61_500},"s":"BTCUSDT","S":"Sell","v":"2","p":"103.5"},{"T":${t0 + 61_600},"s":"BTCUSDT","S":"Buy","v":"1","p":"99"}]}`);
    ws.push('tickers.BTCUSDT', delta(t0 + 121_000, '103.5'));
    await waitFor('engine to see the frames', async () => (daemon.engine?.outputs.bar ?? 0) >= 2);
    await daemon.storage!.migrated;
    await daemon.close();
    closed = true;

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const bars = await client.query<{ open: number; high: number; close: number }>(`SELECT open, high, close FROM market_bars_1m WHERE symbol = 'BTCUSDT' AND ts >= to_timestamp($1) ORDER BY ts`, [t0 / 1000]);
    expect(bars.rows.map((r) => [Number(r.open), Number(r.high), Number(r.close)])).toEqual([
      [100, 101, 101],
      [101, 103, 103],
    ]);
    const liqs = await client.query<{ side: string; usd: number }>(`SELECT side, usd FROM liquidations ORDER BY seq`);
    expect(liqs.rows.map((r) => [r.side, Number(r.usd)])).toEqual([
      ['short', 207],
      ['long', 99],
    ]);
    const spikes = await client.query<{ kind: string; direction: string }>(`SELECT kind, direction FROM oi_volume_spikes`);
    expect(spikes.rows.length).toBeGreaterThanOrEqual(1);
    expect(spikes.rows[0]).toMatchObject({ kind: expect.stringContaining('Price1m'), direction: 'up' });
    const movers = await client.query(`SELECT count(*)::int AS n FROM fast_price_movers`);
    expect(movers.rows[0].n).toBe(spikes.rows.filter((r) => r.kind.includes('Price')).length);
  });
});
