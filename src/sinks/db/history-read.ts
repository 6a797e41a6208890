import { combineBars, combineOpenInterest, type HistoryBar, type OpenInterestReading, type StoredHistory } from '../../core/bar-events.js';
import type { DbSession } from './database.js';

export type { StoredHistory } from '../../core/bar-events.js';

const INTERVAL_MS = { '1': 60_000, '60': 3_600_000 } as const;

/**
 * Reads `history_klines` and `history_open_interest` for one symbol over [fromMs, toMs) (bars by their open
 * time). Everything for the coin and span is loaded at once: a year of hourly bars plus 30 days of minute bars
 * is ~50k rows, a few MB.
 */
export async function readStoredHistory(db: DbSession, symbol: string, fromMs: number, toMs: number): Promise<StoredHistory> {
  const from = new Date(fromMs).toISOString();
  const to = new Date(toMs).toISOString();
  const klines = await db.query<{ interval: '1' | '60'; ts_ms: string; open: number; high: number; low: number; close: number; volume: number; turnover: number }>(
    `SELECT interval, (extract(epoch from ts) * 1000)::bigint::text AS ts_ms, open, high, low, close, volume, turnover
       FROM history_klines WHERE symbol = $1 AND ts >= $2 AND ts < $3 ORDER BY ts`,
    [symbol, from, to],
  );
  const oi = await db.query<{ interval: '5min' | '1h'; ts_ms: string; open_interest: number }>(
    `SELECT interval, (extract(epoch from ts) * 1000)::bigint::text AS ts_ms, open_interest
       FROM history_open_interest WHERE symbol = $1 AND ts >= $2 AND ts < $3 ORDER BY ts`,
    [symbol, from, to],
  );
  const bars = (interval: '1' | '60'): HistoryBar[] =>
    klines.rows
      .filter((r) => r.interval === interval)
      .map((r) => ({ startMs: Number(r.ts_ms), intervalMs: INTERVAL_MS[interval], open: Number(r.open), high: Number(r.high), low: Number(r.low), close: Number(r.close), volume: Number(r.volume), turnover: Number(r.turnover) }));
  const readings = (interval: '5min' | '1h'): OpenInterestReading[] =>
    oi.rows.filter((r) => r.interval === interval).map((r) => ({ tsMs: Number(r.ts_ms), openInterest: Number(r.open_interest) }));
  const minute = bars('1');
  const hourly = bars('60');
  return { symbol, bars: combineBars(minute, hourly), openInterest: combineOpenInterest(readings('5min'), readings('1h')), minuteBars: minute.length, hourlyBars: hourly.length };
}

/** Symbols with any stored klines (for a backtest without `--symbols`), sorted. */
export async function storedHistorySymbols(db: DbSession, fromMs: number, toMs: number): Promise<string[]> {
  const r = await db.query<{ symbol: string }>(
    'SELECT DISTINCT symbol FROM history_klines WHERE ts >= $1 AND ts < $2 ORDER BY symbol',
    [new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
  );
  return r.rows.map((x) => x.symbol);
}
