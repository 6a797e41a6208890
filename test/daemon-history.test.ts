import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import { historyCoverage } from '../src/sinks/db/history-store.js';
import { createLogger } from '../src/sinks/logger.js';
import { instrumentRow } from './support/fake-bybit-rest.js';
import { startFakeBybit } from './support/fake-bybit.js';
import { HISTORY_PATHS, SERIES, seedHistory, serverSeries, storedSeries } from './support/fake-history.js';
import { Cleanups, waitFor } from './support/wait.js';

const H = 3_600_000;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe('run keeps the history current', () => {
  it('the history updater fills the live, allow-listed instruments in the background without delaying start-up', async () => {
    const now = Date.now();
    const launch = Math.floor(now / H) * H - 2 * 24 * H;
    const { rest, ws } = await startFakeBybit(cleanups, ['AAAUSDT', 'BBBUSDT']);
    rest.instruments = ['AAAUSDT', 'BBBUSDT'].map((s) => instrumentRow(s, { launchTime: String(launch) }));
    for (const s of ['AAAUSDT', 'BBBUSDT']) seedHistory(rest, s, launch, now + 2 * H);
    // The first history requests take 2 s each: start-up must not wait for them.
    rest.inject({ kind: 'slow', delayMs: 2_000 }, { path: '/v5/market/kline', times: 2 });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-daemon-history-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = loadConfig({
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      DATA_DIR: dataDir,
      SYMBOLS: 'AAAUSDT',
      ESTIMATOR_BOOTSTRAP_DAYS: '0',
      HISTORY_MINUTE_DAYS: '1',
    });
    const startedAt = Date.now();
    const daemon = await startDaemon(config, createLogger('silent'), { historyFirstDelayMs: 0 });
    let closed = false;
    cleanups.push(() => (closed ? undefined : daemon.close()));
    const startMs = Date.now() - startedAt;
    const db = daemon.storage!.db;
    await daemon.storage!.migrated;
    await waitFor(
      'AAAUSDT history in the store',
      async () => {
        const cov = await historyCoverage(db, 'history_open_interest', 'AAAUSDT', '5min');
        return cov !== undefined && cov.firstMs === launch;
      },
      120_000,
    );
    const historyRequests = rest.requests.filter((r) => HISTORY_PATHS.has(r.path));
    const firstHistoryAt = Math.min(...historyRequests.map((r) => r.atMs));
    // start-up finished before the first history request could have been answered (each takes 2 s).
    expect(startMs).toBeLessThan(firstHistoryAt + 2_000 - startedAt);
    expect(historyRequests.every((r) => r.query.symbol === 'AAAUSDT')).toBe(true);
    await daemon.close();
    closed = true;
    const ended = Date.now();
    // The daemon's store is closed now; reopen it to compare with what the server holds.
    const { PgliteDatabase } = await import('../src/sinks/db/database.js');
    const store = await PgliteDatabase.open(path.join(dataDir, 'pglite'));
    cleanups.push(() => store.close());
    for (const s of SERIES) {
      const { rows, count } = await storedSeries(store, 'AAAUSDT', s);
      expect(count).toBe(rows.size);
      const times = [...rows.keys()];
      if (s.interval !== '1') expect(Math.min(...times)).toBe(launch);
      expect(Math.max(...times)).toBeLessThanOrEqual(Math.floor(ended / s.stepMs) * s.stepMs - s.stepMs);
      expect(rows).toEqual(serverSeries(rest, 'AAAUSDT', s, Math.min(...times), Math.max(...times)));
      expect((await storedSeries(store, 'BBBUSDT', s)).count).toBe(0);
    }
  }, 240_000);
});
