import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import type { TableName } from '../src/sinks/db/row-types.js';
import { rowKey, sampleRow, storedRowKey } from '../src/sinks/db/sample-rows.js';
import { TABLES } from '../src/sinks/db/tables.js';
import { STORAGE_MODES, pgAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs, wallClock, type TestDatabase } from './support/storage-db.js';
import { TcpProxy } from './support/tcp-proxy.js';

const TABLES_UNDER_TEST: readonly TableName[] = ['market_bars_1m', 'liquidations', 'liquidation_data_raw', 'signals', 'agent_logs'];

/** Produces rows tagged `tag` and remembers their keys. */
class Producer {
  readonly produced = new Map<TableName, string[]>();
  private i = 0;
  private readonly baseMs = recentBaseMs();
  constructor(private readonly writer: () => BatchWriter, private readonly tag: string) {}
  produce(n: number): void {
    for (let k = 0; k < n; k++, this.i++) {
      const table = TABLES_UNDER_TEST[this.i % TABLES_UNDER_TEST.length] as TableName;
      const row = sampleRow(table, this.i, { tag: this.tag, levels: 30, baseMs: this.baseMs });
      this.writer().enqueue(table, row);
      const keys = this.produced.get(table) ?? [];
      keys.push(rowKey(table, row));
      this.produced.set(table, keys);
    }
  }
  get count(): number {
    return this.i;
  }
}

/** Every produced row is stored exactly once: same count, same key set, no extra rows with this tag. */
async function expectExactlyOnce(client: pg.Client, producer: Producer, tag: string): Promise<void> {
  for (const table of TABLES_UNDER_TEST) {
    const spec = TABLES[table];
    const cols = spec.key.map((k) => `"${k}"`).join(', ');
    const like = table === 'signals' || table === 'agent_logs' ? `${spec.key[table === 'signals' ? 0 : 1]} LIKE $1` : `symbol LIKE $1`;
    const r = await client.query(`SELECT ${cols} FROM "${table}" WHERE ${like}`, [`${tag}%`]);
    const stored = r.rows.map((row: Record<string, unknown>) => storedRowKey(table, row)).sort();
    const expected = [...(producer.produced.get(table) ?? [])].sort();
    expect(stored.length, `${table} row count`).toBe(expected.length);
    expect(stored, `${table} keys`).toEqual(expected);
  }
}

describe.runIf(pgAvailable).each(STORAGE_MODES)('writer faults against real PostgreSQL ($name)', (mode) => {
  let tdb: TestDatabase;
  let admin: pg.Client;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-faults-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    tdb = await createTestDatabase();
    const db = new PgDatabase({ connectionString: tdb.url });
    await migrate(db, { timescaledb: mode.timescaledb });
    await db.close();
    admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await tdb?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('survives pg_terminate_backend of its own backend in the middle of a COPY', async () => {
    const killed: number[] = [];
    const db = new PgDatabase({
      connectionString: tdb.url,
      applicationName: 'ws-fault-terminate',
      onCopyStarted: async (pid) => {
        if (killed.length >= 3) return;
        const r = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
        if (r.rows[0]?.ok) killed.push(pid);
        await new Promise((res) => setTimeout(res, 20));
      },
    });
    const clock = wallClock();
    const writer = new BatchWriter({ db, clock, journalDir: tmp(), maxBatchRows: 400, retryBaseMs: 5, retryMaxMs: 50 });
    const producer = new Producer(() => writer, 'TK');
    producer.produce(3_000);
    await writer.flush();
    await writer.close();
    clock.cancelAll();
    await db.close();
    expect(killed).toHaveLength(3);
    expect(writer.stats().retries).toBeGreaterThanOrEqual(3);
    await expectExactlyOnce(admin, producer, 'TK');
  });

  it('spills a full buffer to the journal during an outage, persists it on close, and drains it after a restart', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(tdb.url).port || 5432) });
    const port = await proxy.start();
    const journalDir = tmp();
    const clock = wallClock();
    const downDb = new PgDatabase({ connectionString: tdb.urlVia('127.0.0.1', port), connectTimeoutMs: 500 });
    proxy.cut();
    let writer = new BatchWriter({ db: downDb, clock, journalDir, maxBatchRows: 100, maxBufferedRows: 250, retryBaseMs: 5, retryMaxMs: 20 });
    const producer = new Producer(() => writer, 'JS');
    producer.produce(2_000);
    expect(writer.stats().spilledRows).toBeGreaterThan(1_500);
    expect(writer.stats().bufferedRows).toBeLessThanOrEqual(250);
    await writer.close();
    expect(writer.stats().spilledRows).toBe(2_000);
    const segments = fs.readdirSync(journalDir).filter((f) => f.endsWith('.wsj'));
    expect(segments.length).toBeGreaterThan(0);
    await downDb.close();
    await proxy.stop();

    const upDb = new PgDatabase({ connectionString: tdb.url });
    writer = new BatchWriter({ db: upDb, clock, journalDir, maxBatchRows: 100 });
    expect(writer.stats().spilledRows).toBe(2_000);
    producer.produce(300);
    await writer.flush();
    await writer.close();
    clock.cancelAll();
    await upDb.close();
    expect(writer.stats().spilledRows).toBe(0);
    expect(fs.readdirSync(journalDir).filter((f) => f.endsWith('.wsj'))).toEqual([]);
    await expectExactlyOnce(admin, producer, 'JS');
  });

  it('loses and duplicates nothing when the server goes away and comes back while rows keep coming', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(tdb.url).port || 5432) });
    const port = await proxy.start();
    const clock = wallClock();
    const db = new PgDatabase({ connectionString: tdb.urlVia('127.0.0.1', port), connectTimeoutMs: 500, poolMax: 2 });
    const writer = new BatchWriter({
      db, clock, journalDir: tmp(), maxBatchRows: 200, flushIntervalMs: 20, maxBufferedRows: 600, retryBaseMs: 5, retryMaxMs: 40,
    });
    const producer = new Producer(() => writer, 'PX');
    const started = Date.now();
    let spilledDuringOutage = 0;
    for (let step = 0; Date.now() - started < 1_500; step++) {
      const t = Date.now() - started;
      if (t > 300 && t < 900) proxy.cut();
      else proxy.restore();
      if (t > 800 && t < 900) spilledDuringOutage = Math.max(spilledDuringOutage, writer.stats().spilledRows);
      producer.produce(25);
      await new Promise((r) => setTimeout(r, 3));
    }
    proxy.restore();
    await writer.flush();
    await writer.close();
    clock.cancelAll();
    await db.close();
    await proxy.stop();
    expect(producer.count).toBeGreaterThan(3_000);
    expect(spilledDuringOutage).toBeGreaterThan(0);
    expect(writer.stats().retries).toBeGreaterThan(0);
    await expectExactlyOnce(admin, producer, 'PX');
  });
});
