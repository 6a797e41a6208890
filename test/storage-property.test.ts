import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
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

type Event =
  | { readonly kind: 'produce'; readonly table: TableName; readonly n: number }
  | { readonly kind: 'flush' }
  | { readonly kind: 'fail' }
  | { readonly kind: 'recover' }
  | { readonly kind: 'pause'; readonly ms: number }
  | { readonly kind: 'restart' };

const TABLES_USED: readonly TableName[] = ['market_bars_1m', 'liquidations', 'coin_rankings', 'oi_volume_spikes'];

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('produce' as const), table: fc.constantFrom(...TABLES_USED), n: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'fail' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'recover' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 1, max: 25 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe.runIf(pgAvailable).each(STORAGE_MODES)('property on $name: produced set == stored set under any produce/flush/fail/recover sequence', (mode) => {
  let tdb: TestDatabase;
  let direct: PgDatabase;
  let proxy: TcpProxy;
  const dirs: string[] = [];
  beforeAll(async () => {
    tdb = await createTestDatabase();
    direct = new PgDatabase({ connectionString: tdb.url });
    await migrate(direct, { timescaledb: mode.timescaledb });
    proxy = new TcpProxy({ host: '127.0.0.1', port: Number(new URL(tdb.url).port || 5432) });
    await proxy.start();
  });
  afterAll(async () => {
    await proxy?.stop();
    await direct?.close();
    await tdb?.drop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('holds for random event sequences (seeded)', async () => {
    const seed = Number(process.env.WHALESTACK_PROPERTY_SEED ?? 20_240_611);
    console.log(`storage property seed=${seed}`);
    let run = 0;
    const baseMs = recentBaseMs();
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 3, max: 80 }),
        fc.integer({ min: 10, max: 200 }),
        async (events, maxBatchRows, maxBufferedRows) => {
          const tag = `R${run++}X`;
          const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-prop-'));
          dirs.push(journalDir);
          const clock = wallClock();
          const db = new PgDatabase({ connectionString: tdb.urlVia('127.0.0.1', proxy.port), connectTimeoutMs: 300, poolMax: 2 });
          const make = (): BatchWriter =>
            new BatchWriter({ db, clock, journalDir, maxBatchRows, maxBufferedRows, flushIntervalMs: 5, retryBaseMs: 2, retryMaxMs: 20 });
          let writer = make();
          const produced = new Map<TableName, Set<string>>();
          let i = 0;
          let up = true;
          proxy.restore();
          try {
            for (const e of events) {
              if (e.kind === 'produce') {
                for (let k = 0; k < e.n; k++, i++) {
                  const row = sampleRow(e.table, i, { tag, baseMs });
                  writer.enqueue(e.table, row);
                  const set = produced.get(e.table) ?? new Set<string>();
                  set.add(rowKey(e.table, row));
                  produced.set(e.table, set);
                }
              } else if (e.kind === 'flush') {
                if (up) await writer.flush();
              } else if (e.kind === 'fail') {
                proxy.cut();
                up = false;
              } else if (e.kind === 'recover') {
                proxy.restore();
                up = true;
              } else if (e.kind === 'pause') {
                await new Promise((r) => setTimeout(r, e.ms));
              } else {
                await writer.close();
                writer = make();
              }
            }
            proxy.restore();
            await writer.flush();
            await writer.close();
          } finally {
            clock.cancelAll();
            await db.close();
          }
          for (const table of TABLES_USED) {
            const cols = TABLES[table].key.map((k) => `"${k}"`).join(', ');
            const r = await direct.query<Record<string, unknown>>(`SELECT ${cols} FROM "${table}" WHERE symbol LIKE $1`, [`${tag}%`]);
            const stored = r.rows.map((row) => storedRowKey(table, row)).sort();
            expect(stored, `${table} (${tag})`).toEqual([...(produced.get(table) ?? [])].sort());
          }
        },
      ),
      { seed, numRuns: 40 },
    );
  });
});
