import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import type { MarketBarRow, TableName } from '../src/sinks/db/row-types.js';
import { rowKey, sampleRow, storedRowKey } from '../src/sinks/db/sample-rows.js';
import { TABLES, TABLE_NAMES } from '../src/sinks/db/tables.js';
import { pgAvailable, timescaleAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs, type TestDatabase } from './support/storage-db.js';

/**
 * The schema on a real TimescaleDB (2.28 in CI): what the migrations must have built there, checked against
 * TimescaleDB's own rules and catalog, and the writer's staging + ON CONFLICT path on hypertables whose chunks
 * are compressed. Fault tests on hypertables are in storage-faults.test.ts (run under both storage modes).
 */

const HYPERTABLES = TABLE_NAMES.filter((t) => TABLES[t].hypertable);
const DAY_MS = 86_400_000;
const PER_ROW_IDS = ['signal_id', 'event_id', 'order_id'];

/** The compression plan (003 + 005): segment by what queries filter on with equality, order by time. */
const COMPRESSION: Record<string, { segmentby: string[]; orderby: string[] }> = {
  liquidation_data_raw: { segmentby: ['symbol', 'range', 'source'], orderby: ['fetched_at DESC'] },
  liquidation_clusters: { segmentby: ['symbol', 'range', 'source', 'side'], orderby: ['detected_at DESC', 'price_low'] },
  oi_volume_spikes: { segmentby: ['symbol'], orderby: ['ts DESC', 'kind'] },
  fast_price_movers: { segmentby: ['symbol'], orderby: ['ts DESC'] },
  coin_rankings: { segmentby: [], orderby: ['ranked_at DESC', 'rank', 'symbol'] },
  position_monitor_logs: { segmentby: ['trade_id'], orderby: ['ts DESC', 'action'] },
  agent_logs: { segmentby: ['agent_name'], orderby: ['ts DESC', 'event_id'] },
  signals: { segmentby: ['symbol'], orderby: ['ts DESC', 'signal_id'] },
  market_bars_1m: { segmentby: ['symbol'], orderby: ['ts DESC'] },
  liquidations: { segmentby: ['symbol'], orderby: ['ts DESC', 'seq', 'side', 'price', 'qty'] },
  history_klines: { segmentby: ['symbol', 'interval'], orderby: ['ts DESC'] },
  history_open_interest: { segmentby: ['symbol', 'interval'], orderby: ['ts DESC'] },
};

/** History (009) is written in long old ranges by the backfill: 30-day chunks; everything else 1 day. */
const CHUNK_DAYS = (t: string): number => (t.startsWith('history_') ? 30 : 1);

const RETENTION: Record<string, string> = {
  liquidation_data_raw: '90 days',
  liquidation_clusters: '90 days',
  oi_volume_spikes: '180 days',
  fast_price_movers: '180 days',
  coin_rankings: '180 days',
  liquidations: '180 days',
  market_bars_1m: '730 days',
  history_klines: '730 days',
  history_open_interest: '730 days',
};

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ws-tsdb-'));

async function writeRows(db: PgDatabase, rows: ReadonlyArray<readonly [TableName, object]>): Promise<void> {
  const dir = tmpDir();
  const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir, maxBatchRows: 500 });
  for (const [t, r] of rows) writer.enqueue(t, r as never);
  await writer.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

describe.runIf(pgAvailable && timescaleAvailable)('schema on a real TimescaleDB', () => {
  let tdb: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new PgDatabase({ connectionString: tdb.url });
    const report = await migrate(db, { timescaledb: 'auto' });
    expect(report.timescaledb.available).toBe(true);
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('makes every time-series table a hypertable on its time column, 1-day chunks (30 for history)', async () => {
    const r = await db.query<{ hypertable_name: string; column_name: string; time_interval: { days?: number } }>(
      `SELECT hypertable_name, column_name, time_interval FROM timescaledb_information.dimensions WHERE hypertable_schema = 'public' ORDER BY hypertable_name`,
    );
    expect(r.rows.map((d) => d.hypertable_name)).toEqual([...HYPERTABLES].sort());
    for (const d of r.rows) {
      expect(d.column_name, d.hypertable_name).toBe(TABLES[d.hypertable_name as TableName].timeColumn);
      expect(d.time_interval.days, d.hypertable_name).toBe(CHUNK_DAYS(d.hypertable_name));
    }
  });

  it('every unique index on a hypertable includes its time column (TimescaleDB refuses others)', async () => {
    for (const t of HYPERTABLES) {
      const r = await db.query<{ index: string; cols: string[] }>(
        `SELECT i.indexrelid::regclass::text AS index, array_agg(a.attname::text) AS cols
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = $1::regclass AND i.indisunique GROUP BY i.indexrelid`,
        [t],
      );
      expect(r.rows.length, `${t} has its primary key`).toBeGreaterThan(0);
      for (const ix of r.rows) expect(ix.cols, `${t}: ${ix.index}`).toContain(TABLES[t].timeColumn);
    }
  });

  it('compresses every hypertable with the planned segmentby/orderby, every key column covered', async () => {
    const r = await db.query<{ hypertable_name: string; attname: string; segmentby_column_index: number | null; orderby_column_index: number | null; orderby_asc: boolean | null }>(
      `SELECT hypertable_name, attname, segmentby_column_index, orderby_column_index, orderby_asc FROM timescaledb_information.compression_settings`,
    );
    for (const t of HYPERTABLES) {
      const rows = r.rows.filter((x) => x.hypertable_name === t);
      const segmentby = rows.filter((x) => x.segmentby_column_index !== null).sort((a, b) => a.segmentby_column_index! - b.segmentby_column_index!).map((x) => x.attname);
      const orderby = rows
        .filter((x) => x.orderby_column_index !== null)
        .sort((a, b) => a.orderby_column_index! - b.orderby_column_index!)
        .map((x) => (x.orderby_asc ? x.attname : `${x.attname} DESC`));
      expect({ segmentby, orderby }, t).toEqual(COMPRESSION[t]);
      for (const k of TABLES[t].key) expect([...segmentby, ...orderby.map((o) => o.replace(/ DESC$/, ''))], `${t} key ${k}`).toContain(k);
      // A segment per unique value compresses nothing: never segment by a per-row id.
      for (const c of segmentby) expect(PER_ROW_IDS, `${t} segmented by per-row id ${c}`).not.toContain(c);
    }
  });

  it('has a compression policy on every hypertable and retention only where data may be dropped', async () => {
    const jobs = await db.query<{ proc_name: string; hypertable_name: string; config: Record<string, string> }>(
      `SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL`,
    );
    const compress = jobs.rows.filter((j) => j.proc_name === 'policy_compression');
    expect(compress.map((j) => j.hypertable_name).sort()).toEqual([...HYPERTABLES].sort());
    for (const j of compress) expect(j.config.compress_after, j.hypertable_name).toBe('7 days');
    const retention = jobs.rows.filter((j) => j.proc_name === 'policy_retention');
    expect(Object.fromEntries(retention.map((j) => [j.hypertable_name, j.config.drop_after]))).toEqual(RETENTION);
    const cagg = jobs.rows.filter((j) => j.proc_name === 'policy_refresh_continuous_aggregate');
    expect(cagg).toHaveLength(1);
    expect(cagg[0]?.config).toMatchObject({ start_offset: '03:00:00', end_offset: '01:00:00' });
  });

  it('retention drops only chunks past their age: a 200-day-old liquidation goes, today\'s stays', async () => {
    const now = recentBaseMs();
    const old = sampleRow('liquidations', 1, { tag: 'RET', baseMs: now - 200 * DAY_MS });
    const fresh = sampleRow('liquidations', 2, { tag: 'RET', baseMs: now });
    await writeRows(db, [['liquidations', old], ['liquidations', fresh]]);
    const job = await db.query<{ job_id: number }>(`SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'liquidations'`);
    await db.exec(`CALL run_job(${Number(job.rows[0]?.job_id)})`);
    const left = await db.query<Record<string, unknown>>(`SELECT symbol, ts, seq, side, price, qty FROM liquidations WHERE symbol LIKE 'RET%'`);
    expect(left.rows.map((r) => storedRowKey('liquidations', r))).toEqual([rowKey('liquidations', fresh)]);
  });

  it('the hourly continuous aggregate refreshes to the right OHLC and sums', async () => {
    const hourMs = 3_600_000;
    const start = recentBaseMs() - 2 * hourMs; // two complete hours, then refresh them
    const bars: MarketBarRow[] = [];
    for (let s = 0; s < 3; s++) {
      for (let m = 0; m < 120; m++) {
        const p = 100 + s * 10 + m / 10;
        bars.push({
          ...sampleRow('market_bars_1m', m, { tag: 'CAGG' }),
          symbol: `CAGG${s}USDT`, tsMs: start + m * 60_000, open: p, high: p + 1, low: p - 1, close: p + 0.5,
          buyVolumeQty: 1 + m, sellVolumeQty: 2, tradeCount: 3, openInterest: 1000 + m,
        });
      }
    }
    await writeRows(db, bars.map((b) => ['market_bars_1m', b] as const));
    const before = await db.query(`SELECT 1 FROM market_bars_1h WHERE symbol LIKE 'CAGG%'`);
    expect(before.rows).toHaveLength(0); // materialized only, nothing refreshed yet
    await db.exec(`CALL refresh_continuous_aggregate('market_bars_1h', '${new Date(start).toISOString()}', '${new Date(start + 2 * hourMs).toISOString()}')`);
    const r = await db.query<{ symbol: string; bucket: Date; open: number; high: number; low: number; close: number; buy_volume_qty: number; trade_count: string; open_interest: number }>(
      `SELECT symbol, bucket, open, high, low, close, buy_volume_qty, trade_count::text, open_interest FROM market_bars_1h WHERE symbol LIKE 'CAGG%' ORDER BY symbol, bucket`,
    );
    expect(r.rows).toHaveLength(6);
    for (const row of r.rows) {
      const inBucket = bars.filter((b) => b.symbol === row.symbol && b.tsMs >= row.bucket.getTime() && b.tsMs < row.bucket.getTime() + hourMs);
      expect(inBucket).toHaveLength(60);
      expect(row.open).toBeCloseTo(inBucket[0]!.open, 9);
      expect(row.close).toBeCloseTo(inBucket[59]!.close, 9);
      expect(row.high).toBeCloseTo(Math.max(...inBucket.map((b) => b.high)), 9);
      expect(row.low).toBeCloseTo(Math.min(...inBucket.map((b) => b.low)), 9);
      expect(row.buy_volume_qty).toBeCloseTo(inBucket.reduce((a, b) => a + b.buyVolumeQty, 0), 6);
      expect(Number(row.trade_count)).toBe(180);
      expect(row.open_interest).toBe(inBucket[59]!.openInterest);
    }
  });

  it('the writer re-sending rows into compressed chunks stores nothing twice and lands the new rows', async () => {
    // 10 days old: past compress_after (7 days), well inside every retention period.
    const baseMs = recentBaseMs() - 10 * DAY_MS;
    const tables: TableName[] = ['market_bars_1m', 'liquidations', 'signals', 'coin_rankings', 'oi_volume_spikes', 'liquidation_data_raw'];
    const first = tables.flatMap((t) => Array.from({ length: 40 }, (_, i) => [t, sampleRow(t, i, { tag: 'CMP', baseMs, levels: 10 })] as const));
    await writeRows(db, first);
    for (const t of tables) {
      const chunks = await db.query<{ c: string }>(`SELECT c::text FROM show_chunks('${t}', older_than => now() - INTERVAL '8 days') c`);
      expect(chunks.rows.length, t).toBeGreaterThan(0);
      for (const c of chunks.rows) {
        // The compression policy's background job may compress the same chunk between our check and our call.
        await db.query(`SELECT compress_chunk($1::regclass, if_not_compressed => TRUE)`, [c.c]).catch((e: Error) => {
          if (!/already compressed/.test(e.message)) throw e;
        });
      }
    }
    const compressed = await db.query<{ hypertable_name: string }>(
      `SELECT DISTINCT hypertable_name FROM timescaledb_information.chunks WHERE is_compressed AND hypertable_name = ANY($1)`,
      [tables],
    );
    expect(compressed.rows.map((r) => r.hypertable_name).sort()).toEqual([...tables].sort());
    // Same 40 rows again (a retried batch after an ambiguous failure) plus 20 new ones in the same chunks.
    const again = tables.flatMap((t) => Array.from({ length: 60 }, (_, i) => [t, sampleRow(t, i, { tag: 'CMP', baseMs, levels: 10 })] as const));
    await writeRows(db, again);
    for (const t of tables) {
      const cols = TABLES[t].key.map((k) => `"${k}"`).join(', ');
      const like = t === 'signals' ? 'signal_id' : 'symbol';
      const r = await db.query<Record<string, unknown>>(`SELECT ${cols} FROM "${t}" WHERE ${like} LIKE 'CMP%'`);
      const stored = r.rows.map((row) => storedRowKey(t, row)).sort();
      expect(stored, t).toEqual(again.filter(([x]) => x === t).map(([, row]) => rowKey(t, row)).sort());
    }
  });
});

describe.runIf(pgAvailable && timescaleAvailable)('plain PostgreSQL tables upgraded when TimescaleDB is turned on', () => {
  it('TIMESCALEDB=off then auto: skipped files apply later and migrate_data moves the rows into chunks', async () => {
    const tdb = await createTestDatabase();
    const db = new PgDatabase({ connectionString: tdb.url });
    try {
      const plain = await migrate(db, { timescaledb: 'off' });
      expect(plain.applied).toEqual(['001_core_tables.sql', '006_coin_thresholds_and_typical_sizes.sql', '007_execution.sql', '008_history.sql', '010_cluster_outcomes.sql']);
      const rows = Array.from({ length: 50 }, (_, i) => ['market_bars_1m', sampleRow('market_bars_1m', i * 60_000, { tag: 'UP', baseMs: recentBaseMs() })] as const);
      await writeRows(db, rows);
      const upgraded = await migrate(db, { timescaledb: 'auto' });
      expect(upgraded.applied).toEqual(plain.skipped);
      const inChunks = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ONLY market_bars_1m`);
      expect(inChunks.rows[0]?.n).toBe(0); // the parent is empty: every row moved into a chunk
      const all = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM market_bars_1m`);
      expect(all.rows[0]?.n).toBe(50);
    } finally {
      await db.close();
      await tdb.drop();
    }
  });
});
