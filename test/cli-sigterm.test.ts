import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBybit } from './support/fake-bybit.js';
import { tickerSnapshotFrame } from './support/fake-bybit-ws.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase } from './support/storage-db.js';
import { Cleanups, waitFor } from './support/wait.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/src/cli/main.js');
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe.runIf(pgAvailable)('whalestack run (built binary) on SIGTERM', () => {
  it('flushes every buffered row to PostgreSQL before it exits 0', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const child = spawn(process.execPath, [BIN, 'run'], {
      env: {
        PATH: process.env.PATH ?? '',
        BYBIT_WS_URL: ws.url,
        BYBIT_REST_URL: rest.baseUrl,
        HTTP_PORT: '0',
        DATABASE_URL: db.url,
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-sigterm-')),
        LOG_LEVEL: 'warn',
        ESTIMATOR_BOOTSTRAP_DAYS: '0',
        // Nothing reaches the database before shutdown unless the shutdown flushes it.
        DB_BATCH_ROWS: '100000',
        DB_FLUSH_INTERVAL_MS: '600000',
        // The frames below are stamped an hour ahead (clear of retention jobs); let the event-time band accept them.
        EVENT_TIME_MAX_AHEAD_MS: '7200000',
      },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitFor('subscription', () => ws.subscribedTopics().includes('allLiquidation.BTCUSDT'));

    const t0 = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000;
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', t0, 100));
    ws.push('tickers.BTCUSDT', `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"100.5"},"cs":2,"ts":${t0 + 61_000}}`);
    ws.push('allLiquidation.BTCUSDT', `{"topic":"allLiquidation.BTCUSDT","type":"snapshot","ts":${t0 + 62_000},"data":[{"T":${t0 + 61_500},"s":"BTCUSDT","S":"Sell","v":"2","p":"100.4"},{"T":${t0 + 61_600},"s":"BTCUSDT","S":"Buy","v":"1","p":"99"}]}`);
    await new Promise((r) => setTimeout(r, 1500));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const before = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM liquidations');
    expect(before.rows[0]!.n).toBe(0);

    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    const liqs = await client.query<{ side: string }>('SELECT side FROM liquidations ORDER BY seq');
    expect(liqs.rows.map((r) => r.side)).toEqual(['short', 'long']);
    const bars = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM market_bars_1m WHERE ts >= to_timestamp($1)`, [t0 / 1000]);
    expect(bars.rows[0]!.n).toBe(1);
  }, 60_000);
});
