import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PgDatabase, PgliteDatabase, type DbSession } from '../src/sinks/db/database.js';
import { historyCoverage } from '../src/sinks/db/history-store.js';
import { FakeBybitRest, instrumentRow } from './support/fake-bybit-rest.js';
import { HISTORY_PATHS, SERIES, requestWindow, seedHistory, serverSeries, storedSeries } from './support/fake-history.js';
import { BIN, ROOT, runCli } from './support/run-cli.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase } from './support/storage-db.js';
import { Cleanups } from './support/wait.js';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.now();
const LAUNCH = Math.floor(T0 / H) * H - 5 * DAY;
const UNTIL = T0 + 3 * H;
/** Holes Bybit has too: 3 h on day 2 (every series) and 40 min yesterday (inside the minute-bar range). */
const HOLES: [number, number][] = [
  [LAUNCH + 30 * H, LAUNCH + 33 * H],
  [Math.floor(T0 / H) * H - 10 * H, Math.floor(T0 / H) * H - 10 * H + 40 * 60_000],
];
const SYMBOLS = ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'];
const MINUTE_DAYS = 2;

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function fakeBybit(symbols: readonly string[]): Promise<FakeBybitRest> {
  const rest = await FakeBybitRest.start();
  cleanups.push(() => rest.stop());
  rest.instruments = symbols.map((s) => instrumentRow(s, { launchTime: String(LAUNCH) }));
  for (const s of symbols) seedHistory(rest, s, LAUNCH, UNTIL, HOLES);
  return rest;
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-backfill-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lastClosed = (nowMs: number, stepMs: number) => Math.floor(nowMs / stepMs) * stepMs - stepMs;
const alignUp = (ms: number, stepMs: number) => Math.ceil(ms / stepMs) * stepMs;

/**
 * The store holds, per coin and series, exactly the server's rows from the expected first bar to a last bar
 * that had closed when the run began (or later): no row missing, none invented, none twice.
 */
async function expectComplete(db: DbSession, rest: FakeBybitRest, symbols: readonly string[], startedMs: number, endedMs: number): Promise<void> {
  for (const symbol of symbols) {
    for (const s of SERIES) {
      const { rows, count } = await storedSeries(db, symbol, s);
      expect(count, `${symbol} ${s.interval}: duplicate rows`).toBe(rows.size);
      const times = [...rows.keys()];
      const first = Math.min(...times);
      const last = Math.max(...times);
      if (s.interval === '1') {
        expect(first).toBeGreaterThanOrEqual(alignUp(startedMs - MINUTE_DAYS * DAY, s.stepMs));
        expect(first).toBeLessThanOrEqual(alignUp(endedMs - MINUTE_DAYS * DAY, s.stepMs));
      } else {
        expect(first, `${symbol} ${s.interval} first`).toBe(LAUNCH);
      }
      expect(last, `${symbol} ${s.interval} last`).toBeGreaterThanOrEqual(lastClosed(startedMs, s.stepMs));
      expect(last).toBeLessThanOrEqual(lastClosed(endedMs, s.stepMs));
      const expected = serverSeries(rest, symbol, s, first, last);
      expect(rows.size, `${symbol} ${s.interval} rows`).toBe(expected.size);
      expect(rows).toEqual(expected);
    }
  }
}

function cliEnv(rest: FakeBybitRest, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { BYBIT_REST_URL: rest.baseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'warn', BYBIT_REST_REQUESTS_PER_SEC: '20', ...extra };
}

const ARGS = ['backfill', '--minute-days', String(MINUTE_DAYS)];

async function withPglite<T>(dataDir: string, fn: (db: PgliteDatabase) => Promise<T>): Promise<T> {
  const db = await PgliteDatabase.open(path.join(dataDir, 'pglite'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function historyRequests(rest: FakeBybitRest, from = 0) {
  return rest.requests.slice(from).filter((r) => HISTORY_PATHS.has(r.path));
}

/**
 * Ctrl-C mid-way, then SIGKILL mid-way, then a run to the end against the store that `extra` selects (PGlite
 * under DATA_DIR, or DATABASE_URL): complete, no duplicates, and no page fetched twice.
 */
async function interruptAndResume(extra: Record<string, string>, withStore: <T>(dataDir: string, fn: (db: DbSession) => Promise<T>) => Promise<T>): Promise<void> {
  const rest = await fakeBybit(SYMBOLS);
  const dataDir = tempDir();
  const started = Date.now();
  const interruptAt = async (signal: NodeJS.Signals, requests: number) => {
    const child = spawn(process.execPath, [BIN, ...ARGS], { env: { PATH: process.env.PATH ?? '', ...cliEnv(rest, dataDir, { ...extra, BYBIT_REST_REQUESTS_PER_SEC: '5' }) }, cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(sig === null ? code : -1)));
    for (let i = 0; i < 2400 && historyRequests(rest).length < requests; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill(signal);
    return { code: await exited, stdout: () => stdout };
  };
  const first = await interruptAt('SIGINT', 8);
  expect(first.code).toBe(130);
  expect(first.stdout()).toMatch(/interrupted: everything fetched so far is stored. To resume, run the same command again:\n {2}whalestack backfill --minute-days 2\n/);
  const afterSigint = historyRequests(rest).length;
  expect(afterSigint).toBeLessThan(SYMBOLS.length * 13);

  const killed = await interruptAt('SIGKILL', afterSigint + 9);
  expect(killed.code).toBe(-1);
  const firstRun = historyRequests(rest).length;
  expect(firstRun).toBeGreaterThanOrEqual(afterSigint + 9);
  expect(firstRun).toBeLessThan(SYMBOLS.length * 13);

  // What survived the kill: one contiguous covered range per series (or nothing).
  const covered = await withStore(dataDir, async (db) => {
    const out = new Map<string, { firstMs: number; lastMs: number }>();
    for (const symbol of SYMBOLS) {
      for (const s of SERIES) {
        const cov = await historyCoverage(db, s.table, symbol, s.interval);
        if (cov) out.set(`${symbol}:${s.interval}`, cov);
      }
    }
    return out;
  });
  expect(covered.size).toBeGreaterThan(0);

  const before = rest.requests.length;
  const r = await runCli(ARGS, cliEnv(rest, dataDir, extra), 120_000);
  const ended = Date.now();
  expect(r.code, r.stderr).toBe(0);
  const resumed = historyRequests(rest, before);
  for (const q of resumed) {
    const w = requestWindow(q.query);
    const cov = covered.get(`${w.symbol}:${w.interval}`);
    // No request asks again for a window the killed run had already stored.
    if (cov) expect(w.fromMs >= cov.firstMs && w.toMs <= cov.lastMs, `${w.symbol} ${w.interval} ${w.fromMs}..${w.toMs} was stored`).toBe(false);
  }
  // Together the three runs sent about one complete run's pages (+ a few heads for bars closed meanwhile).
  expect(firstRun + resumed.length).toBeLessThanOrEqual(SYMBOLS.length * 13 + 4 + SYMBOLS.length * 2);
  await withStore(dataDir, (db) => expectComplete(db, rest, SYMBOLS, started, ended));
}

describe('whalestack backfill against a local Bybit (PGlite store)', () => {
  it('stores exactly the server history, holes included, pages within Bybit limits; a second run fetches only new bars', async () => {
    const rest = await fakeBybit(SYMBOLS);
    const dataDir = tempDir();
    const started = Date.now();
    const r = await runCli(ARGS, cliEnv(rest, dataDir), 120_000);
    const ended = Date.now();
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3\/3 coins done, 0 failed; \d+ rows stored in 39 requests/);
    // No terminal: plain progress lines on stderr (the last one at the end), no bar.
    expect(r.stderr).toMatch(/backfill: 3\/3 coins \(0 failed\), \d+ rows stored, 39 requests/);
    for (const q of historyRequests(rest)) {
      expect(q.query.category).toBe('linear');
      expect(Number(q.query.limit)).toBeLessThanOrEqual(q.path === '/v5/market/kline' ? 1000 : 200);
    }
    // 1 h klines: 1 page, 1 min: 3, OI 1 h: 1, OI 5 min: 8 (1440 points / 200) per coin.
    expect(historyRequests(rest).length).toBe(SYMBOLS.length * 13);
    await withPglite(dataDir, (db) => expectComplete(db, rest, SYMBOLS, started, ended));

    const before = rest.requests.length;
    const again = await runCli(ARGS, cliEnv(rest, dataDir), 120_000);
    expect(again.code, again.stderr).toBe(0);
    const second = historyRequests(rest, before);
    // Only heads: at most the minute series (and the 5 min one) can have closed a bar in between.
    expect(second.length).toBeLessThanOrEqual(SYMBOLS.length * 2);
    await withPglite(dataDir, async (db) => {
      for (const q of second) {
        const w = requestWindow(q.query);
        const cov = await historyCoverage(db, w.interval.endsWith('h') || w.interval.endsWith('min') ? 'history_open_interest' : 'history_klines', w.symbol, w.interval);
        expect(w.fromMs).toBeGreaterThan(cov!.lastMs - (w.interval === '1' ? 60_000 : 300_000) * 5);
      }
    });
  }, 240_000);

  it('Ctrl-C stops cleanly and says how to resume; a run killed with SIGKILL resumes too: complete, no duplicates, only missing pages fetched', async () => {
    await interruptAndResume({}, withPglite);
  }, 240_000);

  it("Bybit's 10006 rate-limit replies slow the run down but it finishes complete", async () => {
    const rest = await fakeBybit(['AAAUSDT']);
    rest.rateLimitPerSec = 3;
    const dataDir = tempDir();
    const started = Date.now();
    const r = await runCli(ARGS, cliEnv(rest, dataDir), 120_000);
    const ended = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect(rest.rateLimitedReplies).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/1\/1 coins done, 0 failed; .* \([1-9][0-9]* rate-limited\)/);
    await withPglite(dataDir, (db) => expectComplete(db, rest, ['AAAUSDT'], started, ended));
  }, 240_000);

  it('refuses an unknown symbol and bad flags with one clear line', async () => {
    const rest = await fakeBybit(['AAAUSDT']);
    const dataDir = tempDir();
    const unknown = await runCli(['backfill', '--symbols', 'AAAUSDT,NOPEUSDT'], cliEnv(rest, dataDir), 120_000);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/not a Trading USDT perpetual on Bybit: NOPEUSDT/);
    const bad = await runCli(['backfill', '--days', '1e3'], cliEnv(rest, dataDir), 60_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--days must be an integer/);
    expect(historyRequests(rest).length).toBe(0);
  }, 240_000);
});

describe.runIf(pgAvailable)('whalestack backfill into PostgreSQL', () => {
  it('stores exactly the server history and a second run adds nothing twice', async () => {
    const tdb = await createTestDatabase();
    cleanups.push(() => tdb.drop());
    const rest = await fakeBybit(SYMBOLS.slice(0, 2));
    const dataDir = tempDir();
    const started = Date.now();
    const r = await runCli(ARGS, cliEnv(rest, dataDir, { DATABASE_URL: tdb.url }), 120_000);
    expect(r.code, r.stderr).toBe(0);
    const again = await runCli(ARGS, cliEnv(rest, dataDir, { DATABASE_URL: tdb.url }), 120_000);
    expect(again.code, again.stderr).toBe(0);
    const ended = Date.now();
    const db = new PgDatabase({ connectionString: tdb.url });
    cleanups.push(() => db.close());
    await expectComplete(db, rest, SYMBOLS.slice(0, 2), started, ended);
    expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(false);
  }, 240_000);

  it('Ctrl-C and SIGKILL mid-way, then a resume: complete, no duplicates, only missing pages fetched', async () => {
    const tdb = await createTestDatabase();
    cleanups.push(() => tdb.drop());
    await interruptAndResume({ DATABASE_URL: tdb.url }, async (_dir, fn) => {
      const db = new PgDatabase({ connectionString: tdb.url });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    });
  }, 240_000);
});
