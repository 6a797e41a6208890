import type { Coverage } from '../../core/history-plan.js';
import { buildWritePlan, encodeRow } from './copy-encode.js';
import type { Database, DbSession } from './database.js';
import type { HistoryKlineRow, HistoryOpenInterestRow } from './row-types.js';
import { TABLES } from './tables.js';

/**
 * Reading and writing the Bybit history tables (`history_klines`, `history_open_interest`, schema 008) on
 * either store (PostgreSQL/TimescaleDB or PGlite). This is the one place other code reads history from: the
 * wick statistics and the backtester call `loadKlines` / `loadOpenInterest`; the backfill writes with
 * `writeHistoryRows` and resumes from `historyCoverage`.
 *
 * Times are epoch ms; ranges are half-open [fromMs, toMs) so consecutive calls neither miss nor repeat a bar.
 */

export type HistoryTable = 'history_klines' | 'history_open_interest';

const TS_MS = `(extract(epoch FROM ts) * 1000)::float8`;

/** First and last stored timestamp of one series, or undefined when nothing is stored. Index-only (the primary key). */
export async function historyCoverage(db: DbSession, table: HistoryTable, symbol: string, interval: string): Promise<Coverage | undefined> {
  const r = await db.query<{ first_ms: number | null; last_ms: number | null }>(
    `SELECT (SELECT ${TS_MS} FROM ${table} WHERE symbol = $1 AND interval = $2 ORDER BY ts ASC LIMIT 1) AS first_ms,
            (SELECT ${TS_MS} FROM ${table} WHERE symbol = $1 AND interval = $2 ORDER BY ts DESC LIMIT 1) AS last_ms`,
    [symbol, interval],
  );
  const row = r.rows[0];
  if (row === undefined || row.first_ms === null || row.last_ms === null) return undefined;
  return { firstMs: Math.round(Number(row.first_ms)), lastMs: Math.round(Number(row.last_ms)) };
}

/**
 * Klines of `symbol` at `interval` ('1' = 1 min, '60' = 1 h) with open time in [fromMs, toMs), oldest first.
 * Gaps Bybit had (no trading) are simply absent: callers must not assume one row per step.
 */
export async function loadKlines(db: DbSession, symbol: string, interval: '1' | '60', fromMs: number, toMs: number): Promise<HistoryKlineRow[]> {
  const r = await db.query<{ ts_ms: number; open: number; high: number; low: number; close: number; volume: number; turnover: number }>(
    `SELECT ${TS_MS} AS ts_ms, open, high, low, close, volume, turnover FROM history_klines
      WHERE symbol = $1 AND interval = $2 AND ts >= to_timestamp($3::float8 / 1000) AND ts < to_timestamp($4::float8 / 1000) ORDER BY ts`,
    [symbol, interval, fromMs, toMs],
  );
  return r.rows.map((x) => ({ symbol, interval, tsMs: Math.round(Number(x.ts_ms)), open: Number(x.open), high: Number(x.high), low: Number(x.low), close: Number(x.close), volume: Number(x.volume), turnover: Number(x.turnover) }));
}

/** Open-interest readings (base coin, both sides) of `symbol` at `interval` with timestamp in [fromMs, toMs), oldest first. */
export async function loadOpenInterest(db: DbSession, symbol: string, interval: '5min' | '1h', fromMs: number, toMs: number): Promise<HistoryOpenInterestRow[]> {
  const r = await db.query<{ ts_ms: number; open_interest: number }>(
    `SELECT ${TS_MS} AS ts_ms, open_interest FROM history_open_interest
      WHERE symbol = $1 AND interval = $2 AND ts >= to_timestamp($3::float8 / 1000) AND ts < to_timestamp($4::float8 / 1000) ORDER BY ts`,
    [symbol, interval, fromMs, toMs],
  );
  return r.rows.map((x) => ({ symbol, interval, tsMs: Math.round(Number(x.ts_ms)), openInterest: Number(x.open_interest) }));
}

/** Symbols that have any stored klines, sorted (a skip scan over the primary key, not a full scan). */
export async function historySymbols(db: DbSession): Promise<string[]> {
  const r = await db.query<{ symbol: string }>(
    `WITH RECURSIVE s AS (
       (SELECT symbol FROM history_klines ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT k.symbol FROM history_klines k WHERE k.symbol > s.symbol ORDER BY k.symbol LIMIT 1) FROM s WHERE s.symbol IS NOT NULL
     ) SELECT symbol FROM s WHERE symbol IS NOT NULL`,
  );
  return r.rows.map((x) => x.symbol);
}

const PLANS = { history_klines: buildWritePlan(TABLES.history_klines), history_open_interest: buildWritePlan(TABLES.history_open_interest) };

/**
 * Writes rows in one transaction, skipping rows whose (symbol, interval, ts) exists, and returns how many were
 * new. Throws on a row the table cannot hold (the REST parser refuses those first), naming the column.
 */
export async function writeHistoryRows(db: Database, table: 'history_klines', rows: readonly HistoryKlineRow[]): Promise<number>;
export async function writeHistoryRows(db: Database, table: 'history_open_interest', rows: readonly HistoryOpenInterestRow[]): Promise<number>;
export async function writeHistoryRows(db: Database, table: HistoryTable, rows: readonly (HistoryKlineRow | HistoryOpenInterestRow)[]): Promise<number> {
  if (rows.length === 0) return 0;
  const spec = TABLES[table];
  let text = '';
  for (const row of rows) {
    const line = encodeRow(spec, row);
    if (!line.ok) throw new Error(`${table}: refused row ${JSON.stringify(row).slice(0, 200)}: ${line.reason}`);
    text += line.line;
  }
  return db.copyBatch(PLANS[table], text);
}
