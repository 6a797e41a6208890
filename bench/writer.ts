import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { encodeRow } from '../src/sinks/db/copy-encode.js';
import { PgDatabase, PgliteDatabase, type Database } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import type { TableName, TableRows } from '../src/sinks/db/row-types.js';
import { REALISTIC_MIX, sampleRow } from '../src/sinks/db/sample-rows.js';
import { TABLES, TABLE_NAMES } from '../src/sinks/db/tables.js';

/**
 * Writer benchmarks, reported as ratios against a baseline measured in the same run:
 * 1. throughput: the BatchWriter (encode + COPY to staging + INSERT … ON CONFLICT, per-table batches) vs a
 *    raw COPY of the same rows straight into the tables (encode + one COPY per table, no idempotency), into
 *    TimescaleDB hypertables when the server has the extension and into plain tables (TIMESCALEDB=off);
 * 2. sustained: simulated engine output for 500 symbols over 10 simulated minutes on a VirtualClock, as fast
 *    as the writer takes it: rows/s, p99 batch write time, peak RSS, peak spilled rows.
 * Uses a throwaway database on WHALESTACK_BENCH_PG_URL / DATABASE_URL / the local test server, else PGlite.
 */

const SERVER_URL = process.env.WHALESTACK_BENCH_PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
type AnyRow = { table: TableName; row: TableRows[TableName] };
/** Rows carry recent times: into hypertables, old times would be dropped by the retention jobs mid-run. */
const RECENT_MS = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;

function mixRows(count: number, tag: string): AnyRow[] {
  const out: AnyRow[] = [];
  const cumulative: Array<[TableName, number]> = [];
  let acc = 0;
  for (const [t, w] of REALISTIC_MIX) cumulative.push([t, (acc += w)]);
  for (let i = 0; i < count; i++) {
    const u = ((i * 2654435761) % 1_000_003) / 1_000_003;
    const table = (cumulative.find(([, c]) => u < c) ?? cumulative[cumulative.length - 1])?.[0] as TableName;
    out.push({ table, row: sampleRow(table, i, { tag, levels: 100, baseMs: RECENT_MS }) });
  }
  return out;
}

async function openStore(): Promise<{ db: Database; url?: string; cleanup: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch {
    const db = await PgliteDatabase.open(undefined);
    return { db, cleanup: () => db.close() };
  }
  const name = `ws_bench_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(SERVER_URL);
  u.pathname = `/${name}`;
  const db = new PgDatabase({ connectionString: u.toString(), poolMax: 4, applicationName: 'whalestack-bench' });
  return {
    db,
    url: u.toString(),
    cleanup: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function truncateAll(db: Database): Promise<void> {
  await db.exec(`TRUNCATE ${TABLE_NAMES.map((t) => `"${t}"`).join(', ')}`);
}

/** Baseline: encode and COPY each table's rows directly into the table, one COPY per table, one connection. */
async function rawCopy(db: Database, url: string | undefined, rows: readonly AnyRow[]): Promise<number> {
  const started = performance.now();
  const byTable = new Map<TableName, string[]>();
  for (const { table, row } of rows) {
    const enc = encodeRow(TABLES[table], row);
    if (!enc.ok) throw new Error(enc.reason);
    const lines = byTable.get(table) ?? [];
    lines.push(enc.line);
    byTable.set(table, lines);
  }
  if (url === undefined) {
    for (const [table, lines] of byTable) {
      const cols = TABLES[table].columns.map((c) => `"${c.name}"`).join(', ');
      await (db as PgliteDatabase).copyInto(table, cols, lines.join(''));
    }
  } else {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const [table, lines] of byTable) {
      const cols = TABLES[table].columns.map((c) => `"${c.name}"`).join(', ');
      const stream = client.query(copyFrom(`COPY "${table}" (${cols}) FROM STDIN`));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.end(lines.join(''));
      });
    }
    await client.end();
  }
  return performance.now() - started;
}

async function viaWriter(db: Database, rows: readonly AnyRow[]): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-bench-'));
  const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir, maxBatchRows: 5_000, concurrency: 4, maxBufferedRows: 1_000_000 });
  const started = performance.now();
  for (const { table, row } of rows) writer.enqueue(table, row as never);
  await writer.flush();
  const ms = performance.now() - started;
  await writer.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** 500 symbols, 10 simulated minutes of what the engine writes, pushed as fast as the writer absorbs it. */
async function sustained(db: Database, symbols: number, minutes: number): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-bench-sustained-'));
  const t0 = RECENT_MS;
  const clock = new VirtualClock(t0);
  const durations: number[] = [];
  const writer = new BatchWriter({
    db, clock, journalDir: dir, maxBatchRows: 2_000, flushIntervalMs: 1_000, maxBufferedRows: 50_000, concurrency: 2,
    onFlush: (_t, _n, ms) => durations.push(ms),
  });
  let produced = 0;
  let rssPeak = process.memoryUsage().rss;
  let spilledPeak = 0;
  let seq = 0;
  const emit = <T extends TableName>(table: T, row: TableRows[T]): void => {
    writer.enqueue(table, row);
    produced++;
  };
  const started = performance.now();
  for (let s = 0; s < minutes * 60; s++) {
    const nowMs = t0 + s * 1_000;
    for (let k = 0; k < 25; k++) emit('liquidations', { ...sampleRow('liquidations', seq++, { baseMs: nowMs - seq }), tsMs: nowMs + k, symbol: `SYM${(s * 25 + k) % symbols}USDT` });
    emit('oi_volume_spikes', { ...sampleRow('oi_volume_spikes', s, { baseMs: nowMs - s }), symbol: `SYM${s % symbols}USDT` });
    emit('fast_price_movers', { ...sampleRow('fast_price_movers', s, { baseMs: nowMs - s }), symbol: `SYM${(s * 7) % symbols}USDT` });
    for (let k = 0; k < 5; k++) emit('agent_logs', sampleRow('agent_logs', seq++, { baseMs: nowMs - seq + k, tag: 'B' }));
    if (s % 60 === 59) {
      for (let y = 0; y < symbols; y++) emit('market_bars_1m', { ...sampleRow('market_bars_1m', y), tsMs: nowMs - 59_000, symbol: `SYM${y}USDT` });
    }
    if (s % 300 === 0) {
      for (let y = 0; y < symbols; y++) {
        const symbol = `SYM${y}USDT`;
        emit('liquidation_data_raw', { ...sampleRow('liquidation_data_raw', y, { levels: 100 }), fetchedAtMs: nowMs, symbol });
        for (let c = 0; c < 3; c++) emit('liquidation_clusters', { ...sampleRow('liquidation_clusters', c), detectedAtMs: nowMs, symbol, priceLow: 90 + c, priceHigh: 91 + c });
        emit('coin_rankings', { ...sampleRow('coin_rankings', y), rankedAtMs: nowMs, symbol, rank: y + 1 });
      }
    }
    clock.advanceTo(nowMs + 999);
    await new Promise((r) => setImmediate(r));
    if (s % 10 === 0) {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      spilledPeak = Math.max(spilledPeak, writer.stats().spilledRows);
    }
  }
  await writer.flush();
  const wallMs = performance.now() - started;
  const stats = writer.stats();
  await writer.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    sustained_rows: produced,
    sustained_written_rows: stats.writtenRows,
    sustained_rows_per_s: Math.round(produced / (wallMs / 1000)),
    sustained_speedup_vs_realtime: Math.round((minutes * 60_000) / wallMs),
    sustained_flush_p50_ms: Number(percentile(durations, 50).toFixed(2)),
    sustained_flush_p99_ms: Number(percentile(durations, 99).toFixed(2)),
    sustained_rss_peak_mb: Math.round(rssPeak / 1_048_576),
    sustained_spilled_rows_peak: spilledPeak,
  };
}

/** Paired rounds of raw COPY vs the writer on one database; medians, and the median of the per-round ratio. */
async function compare(db: Database, url: string | undefined, rows: readonly AnyRow[]): Promise<{ raw: number; writer: number; ratio: number; rounds: string }> {
  // Warm-up (JIT, staging tables, caches), then alternate to spread machine noise over both contenders.
  await rawCopy(db, url, rows.slice(0, 2_000));
  await truncateAll(db);
  await viaWriter(db, rows.slice(0, 2_000));
  // Paired rounds, median of the per-round ratio: one slow round (autovacuum, a checkpoint) cannot decide it.
  const rounds = 5;
  const rawRates: number[] = [];
  const writerRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await truncateAll(db);
    const rawMs = await rawCopy(db, url, rows);
    await truncateAll(db);
    const writerMs = await viaWriter(db, rows);
    rawRates.push(rows.length / (rawMs / 1000));
    writerRates.push(rows.length / (writerMs / 1000));
    ratios.push(rawMs / writerMs);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return { raw: med(rawRates), writer: med(writerRates), ratio: med(ratios), rounds: ratios.map((r) => r.toFixed(2)).join(' ') };
}

/**
 * On a server: the same rows into hypertables (TimescaleDB, when the server has it) and into plain tables
 * (`TIMESCALEDB=off`), each as writer vs raw COPY; then the sustained engine mix on the hypertables.
 */
export async function benchWriter(): Promise<Record<string, number | string>> {
  const main = await openStore();
  const plain = main.url !== undefined ? await openStore() : undefined;
  try {
    const report = await migrate(main.db, {});
    const rows = mixRows(Number(process.env.WHALESTACK_BENCH_WRITER_ROWS ?? 60_000), 'M');
    const out: Record<string, number | string> = { store: main.db.kind, mix_rows: rows.length };
    const label = report.timescaledb.available ? 'hypertables' : 'tables';
    out.timescaledb = report.timescaledb.available ? (report.timescaledb.version ?? 'yes') : `no (${report.timescaledb.reason ?? ''})`;
    const ts = await compare(main.db, main.url, rows);
    out[`${label}_raw_copy_rows_per_s`] = Math.round(ts.raw);
    out[`${label}_writer_rows_per_s`] = Math.round(ts.writer);
    out[`${label}_writer_vs_raw_copy`] = Number(ts.ratio.toFixed(3));
    out[`${label}_writer_vs_raw_copy_rounds`] = ts.rounds;
    if (plain !== undefined && report.timescaledb.available) {
      await migrate(plain.db, { timescaledb: 'off' });
      const pl = await compare(plain.db, plain.url, rows);
      out.plain_raw_copy_rows_per_s = Math.round(pl.raw);
      out.plain_writer_rows_per_s = Math.round(pl.writer);
      out.plain_writer_vs_raw_copy = Number(pl.ratio.toFixed(3));
      out.plain_writer_vs_raw_copy_rounds = pl.rounds;
      out.hypertable_vs_plain_raw_copy = Number((ts.raw / pl.raw).toFixed(3));
      out.hypertable_vs_plain_writer = Number((ts.writer / pl.writer).toFixed(3));
    }
    await truncateAll(main.db);
    const sus = await sustained(main.db, 500, 10);
    return { ...out, sustained_symbols: 500, sustained_sim_minutes: 10, ...sus };
  } finally {
    await plain?.cleanup();
    await main.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchWriter().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
