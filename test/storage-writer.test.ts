import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase, PgliteDatabase, type Database } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import type { MarketBarRow, TableName, TradeRow } from '../src/sinks/db/row-types.js';
import { rowKey, sampleRow, storedRowKey } from '../src/sinks/db/sample-rows.js';
import { TABLE_NAMES, TABLES } from '../src/sinks/db/tables.js';
import { WriterMetrics } from '../src/sinks/db/writer-metrics.js';
import { STORAGE_MODES, pgAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs, type TestDatabase } from './support/storage-db.js';

/** Recent times: TimescaleDB retention never drops test rows mid-test (see recentBaseMs). */
const BASE_MS = recentBaseMs();

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function storedKeys(db: Database, table: TableName): Promise<string[]> {
  const cols = TABLES[table].key.map((k) => `"${k}"`).join(', ');
  const r = await db.query<Record<string, unknown>>(`SELECT ${cols} FROM "${table}"`);
  return r.rows.map((row) => storedRowKey(table, row)).sort();
}

const tmpDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ws-writer-'));

async function writesEveryTable(db: Database): Promise<void> {
  const dir = tmpDir();
  const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir, maxBatchRows: 7 });
  const produced = new Map<TableName, string[]>();
  for (const t of TABLE_NAMES) {
    const keys: string[] = [];
    for (let i = 0; i < 23; i++) {
      const row = sampleRow(t, i, { tag: 'W', levels: 20, baseMs: BASE_MS });
      writer.enqueue(t, row);
      keys.push(rowKey(t, row));
    }
    produced.set(t, keys.sort());
  }
  await writer.close();
  for (const t of TABLE_NAMES) expect(await storedKeys(db, t), t).toEqual(produced.get(t));
  const snap = await db.query<{ level_prices: number[]; level_sides: string[]; ts: Date }>(
    `SELECT level_prices, level_sides, fetched_at AS ts FROM liquidation_data_raw ORDER BY fetched_at LIMIT 1`,
  );
  const expected = sampleRow('liquidation_data_raw', 0, { tag: 'W', levels: 20, baseMs: BASE_MS });
  expect(snap.rows[0]?.level_prices).toEqual(expected.levelPrices);
  expect(snap.rows[0]?.level_sides).toEqual(expected.levelSides);
  expect(snap.rows[0]?.ts.getTime()).toBe(expected.fetchedAtMs);
  const log = await db.query<{ details: unknown }>(`SELECT details FROM agent_logs LIMIT 1`);
  expect(log.rows[0]?.details).toMatchObject({ note: 'tab\there' });
  fs.rmSync(dir, { recursive: true, force: true });
}

describe.runIf(pgAvailable).each(STORAGE_MODES)('BatchWriter on PostgreSQL ($name)', (mode) => {
  let tdb: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new PgDatabase({ connectionString: tdb.url });
    const report = await migrate(db, { timescaledb: mode.timescaledb });
    expect(report.timescaledb.available).toBe(mode.name === 'timescaledb');
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('writes every table with COPY and reads back the same keys and values', async () => {
    await writesEveryTable(db);
  });

  it('flushes at the row count without the timer, and at the time limit on the injected clock', async () => {
    const clock = new VirtualClock(1_000);
    const dir = tmpDir();
    const writer = new BatchWriter({ db, clock, journalDir: dir, maxBatchRows: 10, flushIntervalMs: 500 });
    const count = async (): Promise<number> =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fast_price_movers WHERE symbol LIKE 'F%'`)).rows[0]?.n ?? -1;
    for (let i = 0; i < 13; i++) writer.enqueue('fast_price_movers', sampleRow('fast_price_movers', i, { tag: 'F', baseMs: BASE_MS }));
    await waitFor(async () => (await count()) === 10);
    await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBe(10);
    clock.advanceTo(1_499);
    await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBe(10);
    clock.advanceTo(1_500);
    await waitFor(async () => (await count()) === 13);
    await writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('never duplicates a re-sent row and keeps the newest version of state rows', async () => {
    const dir = tmpDir();
    const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir });
    const bar = sampleRow('market_bars_1m', 1, { tag: 'D', baseMs: BASE_MS });
    const open: TradeRow = sampleRow('trades', 1, { tag: 'D', baseMs: BASE_MS });
    const closed: TradeRow = { ...open, status: 'closed', exitPrice: open.entryPrice * 1.05, pnlPct: 5, pnlUsd: 50, closedAtMs: open.openedAtMs + 60_000, updatedAtMs: open.updatedAtMs + 60_000 };
    writer.enqueue('market_bars_1m', bar);
    writer.enqueue('market_bars_1m', bar);
    writer.enqueue('trades', open);
    writer.enqueue('trades', closed);
    await writer.flush();
    writer.enqueue('market_bars_1m', bar);
    writer.enqueue('trades', open);
    await writer.close();
    const bars = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM market_bars_1m WHERE symbol = $1`, [bar.symbol]);
    expect(bars.rows[0]?.n).toBe(1);
    const trade = await db.query<{ status: string; pnl_usd: number }>(`SELECT status, pnl_usd FROM trades WHERE trade_id = $1`, [open.tradeId]);
    expect(trade.rows).toEqual([{ status: 'closed', pnl_usd: 50 }]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('quarantines bad values with a reason and lands the rest of the batch', async () => {
    const dir = tmpDir();
    const registry = new Registry();
    const metrics = new WriterMetrics(registry);
    const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir, metrics, maxBatchRows: 1000 });
    const good = Array.from({ length: 40 }, (_, i) => sampleRow('market_bars_1m', i, { tag: 'Q', baseMs: BASE_MS }));
    const base = sampleRow('market_bars_1m', 100, { tag: 'Q', baseMs: BASE_MS });
    const bad: Array<[string, MarketBarRow]> = [
      ['open: non-finite number NaN', { ...base, tsMs: base.tsMs + 1, open: Number.NaN }],
      ['high: non-finite number Infinity', { ...base, tsMs: base.tsMs + 2, high: Number.POSITIVE_INFINITY }],
      ['symbol: text of 5000 chars exceeds 64', { ...base, tsMs: base.tsMs + 3, symbol: 'X'.repeat(5000) }],
      ['close: expected number, got string(3)', { ...base, tsMs: base.tsMs + 4, close: '1.5' as unknown as number }],
      ['symbol: text contains NUL', { ...base, tsMs: base.tsMs + 5, symbol: 'BAD\u0000USDT' }],
      ['trade_count: expected integer', { ...base, tsMs: base.tsMs + 6, tradeCount: 1.5 }],
      // Passes encode, violates the CHECK (low <= high): the database rejects it and bisection isolates it.
      ['database rejected row', { ...base, tsMs: base.tsMs + 7, high: 1, low: 2 }],
    ];
    good.slice(0, 20).forEach((r) => writer.enqueue('market_bars_1m', r));
    for (const [, row] of bad) writer.enqueue('market_bars_1m', row);
    good.slice(20).forEach((r) => writer.enqueue('market_bars_1m', r));
    await writer.close();
    expect(await storedKeys(db, 'market_bars_1m').then((k) => k.filter((x) => x.includes('"Q')))).toEqual(good.map((r) => rowKey('market_bars_1m', r)).sort());
    const q = await db.query<{ reason: string }>(`SELECT reason FROM write_quarantine WHERE table_name = 'market_bars_1m' ORDER BY reason`);
    expect(q.rows).toHaveLength(bad.length);
    for (const [reason] of bad) expect(q.rows.some((r) => r.reason.includes(reason)), reason).toBe(true);
    expect(writer.stats().quarantinedRows).toBe(bad.length);
    const text = await registry.metrics();
    expect(text).toMatch(/whalestack_db_quarantined_rows_total\{table="market_bars_1m",reason="invalid_value"\} 6/);
    expect(text).toMatch(/whalestack_db_quarantined_rows_total\{table="market_bars_1m",reason="db_rejected"\} 1/);
    expect(text).toMatch(/whalestack_db_rows_written_total\{table="market_bars_1m"\} 40/);
    expect(text).toMatch(/whalestack_db_flush_duration_seconds_count\{table="market_bars_1m"\} \d+/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('BatchWriter on PGlite', () => {
  it('writes every table through COPY FROM /dev/blob', async () => {
    const db = await PgliteDatabase.open(undefined);
    try {
      await migrate(db, {});
      await writesEveryTable(db);
    } finally {
      await db.close();
    }
  });
});
