import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { createLogger } from '../src/sinks/logger.js';
import { startFakeBybit } from './support/fake-bybit.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs } from './support/storage-db.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const HOUR = 3_600_000;

async function getJson(port: number, p: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

describe.runIf(pgAvailable)('the daemon reads wick statistics from the stored history', () => {
  it('GET /symbols/:symbol shows the coin\'s wicks and wick stop; /reliable-ranges and the outcome metrics answer', async () => {
    const tdb = await createTestDatabase();
    cleanups.push(() => tdb.drop());
    const db = new PgDatabase({ connectionString: tdb.url });
    cleanups.push(() => db.close());
    await migrate(db, {});
    // 31 days of ETH hours at 2000 with 1 % wicks; one day wicks 6 % down.
    const end = Math.floor(recentBaseMs() / (24 * HOUR)) * 24 * HOUR;
    const writer = new BatchWriter({ db, clock: new VirtualClock(end), journalDir: mkdtempSync(path.join(tmpdir(), 'ws-wick-daemon-j-')), maxBatchRows: 5000 });
    for (let ts = end - 31 * 24 * HOUR; ts < end; ts += HOUR) {
      const low = ts === end - 3 * 24 * HOUR + 2 * HOUR ? 1880 : 1980;
      writer.enqueue('history_klines', { symbol: 'ETHUSDT', interval: '60', tsMs: ts, open: 2000, high: 2020, low, close: 2000, volume: 1, turnover: 2000 });
    }
    await writer.close();

    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const config = loadConfig({ BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, HTTP_PORT: '0', DATABASE_URL: tdb.url, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-wick-daemon-')), ESTIMATOR_BOOTSTRAP_DAYS: '0' });
    const daemon = await startDaemon(config, createLogger('silent'));
    cleanups.push(() => daemon.close());

    let view: { status: number; body: any } = { status: 0, body: null };
    await waitFor('wick statistics loaded', async () => (view = await getJson(daemon.port, '/symbols/ETHUSDT')).status === 200);
    expect(view.body.symbol).toBe('ETHUSDT');
    expect(view.body.wickStats).toMatchObject({
      hourlyBars: 31 * 24,
      timeframes: { '1d': { bars: 31, down: { maxPct: 6 }, up: { maxPct: 1 } }, '1h': { down: { maxPct: 6, p95Pct: 1 } } },
      wickStop: { timeframe: '1d', minDays: 30, longPct: 6, shortPct: 1 },
    });
    // Trading got the same figures: the execution actor holds ETH's historical wicks.
    await daemon.executionStarted;
    await waitFor('execution actor told', async () => daemon.execution?.ref.peek()?.historicalWicks.get('ETHUSDT') !== undefined);
    expect(daemon.execution!.ref.peek()!.historicalWicks.get('ETHUSDT')).toMatchObject({ longFraction: 0.06, shortFraction: 0.01 });

    expect((await getJson(daemon.port, '/symbols/NOPEUSDT')).status).toBe(404);
    expect(await getJson(daemon.port, '/reliable-ranges')).toEqual({ status: 200, body: { coins: [] } });
    const metrics = (await getJson(daemon.port, '/metrics')).body as string;
    expect(metrics).toMatch(/whalestack_clusters_followed 0/);
    expect(metrics).toMatch(/# TYPE whalestack_cluster_outcomes_total counter/);
  }, 60_000);
});
