import path from 'node:path';
import type { Clock } from '../core/clock.js';
import type { HistorySeries } from '../core/history-plan.js';
import { openDatabase, type Database } from '../sinks/db/database.js';
import { historyCoverage, writeHistoryRows } from '../sinks/db/history-store.js';
import { migrate } from '../sinks/db/migrator.js';
import { createCliLogger, redactUrl } from '../sinks/logger.js';
import { BybitHistoryClient } from '../streams/bybit-history.js';
import { discoverLinearInstruments } from '../streams/bybit-instruments.js';
import { runBackfill, type BackfillSettings, type BackfillSymbol, type HistoryStorePort } from '../streams/history-backfill.js';
import { RestPacer } from '../streams/rest-pacer.js';
import { BackfillProgressDisplay } from './backfill-progress.js';
import type { Config } from './config.js';
import { lockDirectory } from './dir-lock.js';
import { LiveClock } from './live-clock.js';
import { dbLog } from './storage.js';

export const BACKFILL_USAGE = `usage: whalestack backfill [--symbols A,B] [--days N] [--minute-days N] [--oi-max-pages N]
                          [--concurrency N] [--config <file.json>]

Pulls Bybit public REST history into the store (DATABASE_URL, or the embedded PGlite store under DATA_DIR):
hourly klines for --days (default HISTORY_DAYS, 365), minute klines for the last --minute-days (default
HISTORY_MINUTE_DAYS, 30), and open interest at 5 min and 1 h back to each coin's listing, at most
--oi-max-pages requests per series and run (default HISTORY_OI_MAX_PAGES, 500; 0 skips open interest).
Every Trading USDT perpetual, or only --symbols (default SYMBOLS when set). Requests are paced at
BYBIT_REST_REQUESTS_PER_SEC; Bybit's rate-limit replies slow the run down and never fail it.

Resumable: a second run fetches only what the store lacks, and an interrupted run (Ctrl-C, a kill, a crash)
loses nothing already written and duplicates nothing: run the same command again to resume.`;

export const BACKFILL_OPTIONS = {
  config: { type: 'string' as const },
  symbols: { type: 'string' as const },
  days: { type: 'string' as const },
  'minute-days': { type: 'string' as const },
  'oi-max-pages': { type: 'string' as const },
  concurrency: { type: 'string' as const },
};

/** The store seen by the backfill: coverage per series and idempotent writes. */
export function historyStorePort(db: Database): HistoryStorePort {
  return {
    coverage: (series: HistorySeries, symbol: string) => historyCoverage(db, series.kind === 'kline' ? 'history_klines' : 'history_open_interest', symbol, series.interval),
    writeKlines: (rows) => writeHistoryRows(db, 'history_klines', rows),
    writeOpenInterest: (rows) => writeHistoryRows(db, 'history_open_interest', rows),
  };
}

function intFlag(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number | string {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^(0|[1-9][0-9]*)$/.test(raw) || n < min || n > max) return `--${name} must be an integer from ${min} to ${max} (got ${String(raw)})`;
  return n;
}

/** `whalestack backfill`: returns the exit code (0 done, 1 some coins failed, 2 bad usage, 130 interrupted). */
export async function backfillCommand(config: Config, values: Record<string, string | boolean | undefined>): Promise<number> {
  const fail = (msg: string, code = 2): number => {
    process.stderr.write(`whalestack backfill: ${msg}\n`);
    return code;
  };
  const hourDays = intFlag(values, 'days', config.history.hourDays, 0, 3650);
  const minuteDays = intFlag(values, 'minute-days', config.history.minuteDays, 0, 365);
  const oiMaxPages = intFlag(values, 'oi-max-pages', config.history.oiMaxPages, 0, 1_000_000);
  const concurrency = intFlag(values, 'concurrency', 4, 1, 64);
  for (const v of [hourDays, minuteDays, oiMaxPages, concurrency]) if (typeof v === 'string') return fail(v);
  const settings: BackfillSettings = { hourDays: hourDays as number, minuteDays: minuteDays as number, oiMaxPages: oiMaxPages as number };
  const symbolsArg = values.symbols as string | undefined;
  if (symbolsArg !== undefined && !/^[A-Z0-9]+(,[A-Z0-9]+)*$/.test(symbolsArg)) return fail(`--symbols must be a comma-separated list like BTCUSDT,ETHUSDT (got ${symbolsArg})`);
  const wanted = symbolsArg?.split(',') ?? config.symbols;

  const log = createCliLogger(config.logLevel);
  const clock = new LiveClock();
  // A second Ctrl-C while the first is being honoured quits at once; the first one stops cleanly.
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (name: string) => () => {
    if (++signals > 1) process.exit(130);
    log.warn({ signal: name }, 'stopping: writing what has been fetched (Ctrl-C again to quit at once)');
    abort.abort();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const lock = config.databaseUrl === undefined ? lockDirectory(config.dataDir, 'DATA_DIR') : undefined;
  let db: Database | undefined;
  try {
    const instruments = await discoverLinearInstruments({ baseUrl: config.bybitRestUrl, timeoutMs: 15_000 });
    const bySymbol = new Map(instruments.map((i) => [i.symbol, i]));
    const unknown = (wanted ?? []).filter((s) => !bySymbol.has(s));
    if (unknown.length > 0) return fail(`not a Trading USDT perpetual on Bybit: ${unknown.join(', ')}`);
    const where = config.databaseUrl ? redactUrl(config.databaseUrl) : `embedded PGlite in ${path.join(config.dataDir, 'pglite')}`;
    log.info({ store: where }, 'opening store');
    db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), pgliteSharedBuffersMb: config.pgliteSharedBuffersMb, applicationName: 'whalestack-backfill' });
    await migrate(db, { log: dbLog(log), settings: config.timescale, timescaledb: config.timescaledb });
    const coins: BackfillSymbol[] = (wanted ?? instruments.map((i) => i.symbol)).map((s) => ({ symbol: s, launchTimeMs: bySymbol.get(s)?.launchTime }));
    const result = await backfillWithProgress(coins, settings, { config, clock, db, signal: abort.signal, concurrency: concurrency as number });
    const p = result.progress;
    process.stdout.write(
      `backfill: ${p.symbolsDone}/${p.symbolsTotal} coins done, ${p.symbolsFailed} failed; ${p.rowsWritten} rows stored in ${p.requests} requests (${p.rateLimited} rate-limited)${result.capped > 0 ? `; open interest of ${result.capped} series stopped at --oi-max-pages (the next run goes further back)` : ''}\n`,
    );
    for (const e of result.errors.slice(0, 10)) process.stderr.write(`whalestack backfill: ${e.symbol} ${e.series}: ${e.message}\n`);
    if (result.errors.length > 10) process.stderr.write(`whalestack backfill: … and ${result.errors.length - 10} more failures\n`);
    if (result.interrupted) {
      const again = Object.entries(values).filter(([, v]) => typeof v === 'string').map(([k, v]) => ` --${k} ${String(v)}`).join('');
      process.stdout.write(`interrupted: everything fetched so far is stored. To resume, run the same command again:\n  whalestack backfill${again}\n`);
      return 130;
    }
    if (result.stoppedReason !== undefined) return fail(`stopped: ${result.stoppedReason}`, 1);
    return result.errors.length > 0 ? 1 : 0;
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err), 1);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await db?.close();
    lock?.release();
    clock.cancelAll();
  }
}

async function backfillWithProgress(
  coins: readonly BackfillSymbol[],
  settings: BackfillSettings,
  o: { config: Config; clock: Clock; db: Database; signal: AbortSignal; concurrency: number },
) {
  const pacer = new RestPacer(o.clock, { limit: o.config.bybitRestRequestsPerSec, windowMs: 1000, timerName: 'backfill-pacer' });
  const client = new BybitHistoryClient({ baseUrl: o.config.bybitRestUrl, pacer, clock: o.clock });
  const display = new BackfillProgressDisplay({ stream: process.stderr, isTTY: process.stderr.isTTY === true, now: () => o.clock.now() }, coins.length);
  try {
    return await runBackfill(coins, { ...settings, client, store: historyStorePort(o.db), clock: o.clock, signal: o.signal, concurrency: o.concurrency, onProgress: (p) => display.update(p) });
  } finally {
    display.stop();
    pacer.close('backfill finished');
  }
}
