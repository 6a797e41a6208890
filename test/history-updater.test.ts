import { afterEach, describe, expect, it } from 'vitest';
import { HistoryUpdater } from '../src/cli/history-updater.js';
import { LiveClock } from '../src/cli/live-clock.js';
import { PgliteDatabase } from '../src/sinks/db/database.js';
import { historyCoverage } from '../src/sinks/db/history-store.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { createLogger } from '../src/sinks/logger.js';
import { BybitHistoryClient } from '../src/streams/bybit-history.js';
import { RestPacer } from '../src/streams/rest-pacer.js';
import { FakeBybitRest } from './support/fake-bybit-rest.js';
import { HISTORY_PATHS, SERIES, requestWindow, seedHistory, serverSeries, storedSeries } from './support/fake-history.js';
import { Cleanups, waitFor } from './support/wait.js';

const H = 3_600_000;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe('history updater (the run part)', () => {
  it('fills the history on its first round, then each round fetches only the bars closed since', async () => {
    const now = Date.now();
    const launch = Math.floor(now / H) * H - 2 * 24 * H;
    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    // At first Bybit "has" history only until 5 h ago; later rounds see the rest appear.
    seedHistory(rest, 'AAAUSDT', launch, now - 5 * H);
    const db = await PgliteDatabase.open(undefined);
    cleanups.push(() => db.close());
    await migrate(db, {});
    const clock = new LiveClock();
    cleanups.push(() => clock.cancelAll());
    const pacer = new RestPacer(clock, { limit: 50, timerName: 'test-pacer' });
    const updater = new HistoryUpdater({
      hourDays: 365,
      minuteDays: 1,
      oiMaxPages: 100,
      clock,
      log: createLogger('silent'),
      client: new BybitHistoryClient({ baseUrl: rest.baseUrl, pacer, clock }),
      store: async () => db,
      symbols: () => [{ symbol: 'AAAUSDT', launchTimeMs: launch }],
      intervalMs: 300,
      firstDelayMs: 0,
    });
    cleanups.push(() => updater.stop());
    updater.start();
    await waitFor('first round', () => updater.rounds >= 1, 60_000);
    const hourBefore = await historyCoverage(db, 'history_klines', 'AAAUSDT', '60');
    expect(hourBefore?.lastMs).toBe(Math.floor((now - 5 * H) / H) * H);

    seedHistory(rest, 'AAAUSDT', launch, now + 2 * H);
    const mark = rest.requests.length;
    const rounds = updater.rounds;
    await waitFor('a round after new bars appeared', () => updater.rounds >= rounds + 2, 60_000);
    await updater.stop();
    const ended = Date.now();
    const hourAfter = await historyCoverage(db, 'history_klines', 'AAAUSDT', '60');
    expect(hourAfter?.lastMs).toBeGreaterThanOrEqual(Math.floor(now / H) * H - H);
    // Later rounds asked only for what came after the first round's coverage.
    for (const q of rest.requests.slice(mark).filter((r) => HISTORY_PATHS.has(r.path))) {
      const w = requestWindow(q.query);
      if (w.interval === '60') expect(w.fromMs).toBeGreaterThan(hourBefore!.lastMs);
    }
    for (const s of SERIES) {
      const { rows, count } = await storedSeries(db, 'AAAUSDT', s);
      expect(count).toBe(rows.size);
      const times = [...rows.keys()];
      const last = Math.max(...times);
      expect(last).toBeLessThanOrEqual(Math.floor(ended / s.stepMs) * s.stepMs - s.stepMs);
      expect(rows).toEqual(serverSeries(rest, 'AAAUSDT', s, Math.min(...times), last));
    }
  }, 180_000);
});
