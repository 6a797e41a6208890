import type { RestoredOutcome } from '../../core/coin-liquidity.js';
import { parseHeatmapRange } from '../../core/heatmap.js';
import type { HourlyBar } from '../../core/wick-stats.js';
import type { DbSession } from './database.js';

/**
 * Reads for the wick statistics and the cluster hit rates (issue 12). Off the hot path: the wick-statistics
 * part calls them at start and then hourly, one coin at a time so a year of bars for 500 coins is never in
 * memory at once.
 */

/**
 * Coins with history: the backfill's `history_klines` and the daemon's own `market_bars_1m`, each by a loose
 * index scan over its primary key (one index probe per coin, not a scan of every row).
 */
export async function historySymbols(db: DbSession): Promise<string[]> {
  const scan = (table: string): string => `(WITH RECURSIVE s(symbol) AS (
       SELECT min(symbol) FROM ${table}
       UNION ALL
       SELECT (SELECT min(k.symbol) FROM ${table} k WHERE k.symbol > s.symbol) FROM s WHERE s.symbol IS NOT NULL
     )
     SELECT symbol FROM s WHERE symbol IS NOT NULL)`;
  const r = await db.query<{ symbol: string }>(`${scan('history_klines')} UNION ${scan('market_bars_1m')} ORDER BY symbol`);
  return r.rows.map((row) => row.symbol);
}

/**
 * One coin's hourly bars since `sinceMs`, ascending: the backfill's `history_klines` (interval '60'), and for
 * hours it does not hold, hours built from the daemon's own `market_bars_1m` (first open, max high, min low,
 * last close on the UTC hour; an hour needs 30 of its 60 minute bars, so a restart's stub hour does not count).
 */
export async function loadHourlyBars(db: DbSession, symbol: string, sinceMs: number): Promise<HourlyBar[]> {
  const r = await db.query<{ ts: Date; open: number; high: number; low: number; close: number }>(
    `SELECT ts, open, high, low, close FROM history_klines
      WHERE symbol = $1 AND interval = '60' AND ts >= to_timestamp($2::double precision / 1000)
     UNION ALL
     SELECT h, (array_agg(open ORDER BY ts))[1], max(high), min(low), (array_agg(close ORDER BY ts DESC))[1]
       FROM (SELECT date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS h, ts, open, high, low, close
               FROM market_bars_1m WHERE symbol = $1 AND ts >= to_timestamp($2::double precision / 1000)) m
      WHERE NOT EXISTS (SELECT 1 FROM history_klines k WHERE k.symbol = $1 AND k.interval = '60' AND k.ts = m.h)
      GROUP BY h HAVING count(*) >= 30
     ORDER BY 1`,
    [symbol, sinceMs],
  );
  return r.rows.map((row) => ({ tsMs: new Date(row.ts).getTime(), open: Number(row.open), high: Number(row.high), low: Number(row.low), close: Number(row.close) }));
}

/** Outcomes resolved since `sinceMs`, per symbol in resolution order, for the hit-rate windows after a restart. Unknown ranges are skipped. */
export async function loadClusterOutcomes(db: DbSession, sinceMs: number): Promise<Map<string, RestoredOutcome[]>> {
  const r = await db.query<{ symbol: string; range: string; outcome: string; resolved_at: Date }>(
    `SELECT symbol, range, outcome, resolved_at FROM cluster_outcomes WHERE resolved_at > to_timestamp($1::double precision / 1000) ORDER BY symbol, resolved_at`,
    [sinceMs],
  );
  const out = new Map<string, RestoredOutcome[]>();
  for (const row of r.rows) {
    const range = parseHeatmapRange(row.range);
    if (range === undefined) continue;
    const list = out.get(row.symbol) ?? [];
    list.push({ range, resolvedAtMs: new Date(row.resolved_at).getTime(), hit: row.outcome === 'hit' });
    out.set(row.symbol, list);
  }
  return out;
}
