import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase, PgliteDatabase, type Database } from '../src/sinks/db/database.js';
import {
  DEFAULT_MIGRATION_SETTINGS,
  MigrationChecksumError,
  defaultSchemaDir,
  loadMigrations,
  migrate,
  renderMigration,
  validateInterval,
} from '../src/sinks/db/migrator.js';
import { splitSqlStatements } from '../src/sinks/db/sql-script.js';
import { TABLES, TABLE_NAMES, type ColumnType } from '../src/sinks/db/tables.js';
import { STORAGE_MODES, pgAvailable } from './support/services.js';
import { createTestDatabase, type TestDatabase } from './support/storage-db.js';

const UDT: Record<ColumnType, string> = {
  text: 'text', float8: 'float8', int4: 'int4', int8: 'int8', bool: 'bool', timestamptz: 'timestamptz',
  'float8[]': '_float8', 'text[]': '_text', jsonb: 'jsonb',
};

function collectLog(): { lines: string[]; log: (level: string, msg: string) => void } {
  const lines: string[] = [];
  return { lines, log: (_level, msg) => lines.push(msg) };
}

/** The live catalog agrees with tables.ts: same columns in order, same types, same nullability, key = PK. */
async function expectCatalogMatchesSpecs(db: Database): Promise<void> {
  for (const t of TABLE_NAMES) {
    const spec = TABLES[t];
    const cols = await db.query<{ column_name: string; udt_name: string; is_nullable: string }>(
      `SELECT column_name, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [t],
    );
    expect(cols.rows.map((c) => c.column_name), t).toEqual(spec.columns.map((c) => c.name));
    expect(cols.rows.map((c) => c.udt_name), t).toEqual(spec.columns.map((c) => UDT[c.type]));
    expect(cols.rows.map((c) => c.is_nullable === 'YES'), t).toEqual(spec.columns.map((c) => c.nullable));
    const pk = await db.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = $1::regclass AND i.indisprimary`,
      [t],
    );
    expect(pk.rows.map((r) => r.attname).sort(), `${t} primary key`).toEqual([...spec.key].sort());
    if (spec.hypertable) expect(spec.key, `${t}: hypertable key needs its time column`).toContain(spec.timeColumn);
  }
}

const TS_FILES = [
  '002_timescale_hypertables.sql',
  '003_timescale_compression_retention.sql',
  '004_timescale_bars_hourly.sql',
  '005_timescale_compression_segments.sql',
  '009_timescale_history.sql',
];

/** Plain (non-TimescaleDB) migrations after 001, applied on every server. */
const PLAIN_LATER = ['006_coin_thresholds_and_typical_sizes.sql', '007_execution.sql', '008_history.sql', '010_cluster_outcomes.sql'];

describe.runIf(pgAvailable).each(STORAGE_MODES)('migrations on PostgreSQL ($name)', (mode) => {
  let tdb: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new PgDatabase({ connectionString: tdb.url });
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('migrates from empty (concurrently), logs each TimescaleDB feature as enabled or skipped, and is a no-op the second time', async () => {
    const { lines, log } = collectLog();
    const opts = { timescaledb: mode.timescaledb };
    const [first, concurrent] = await Promise.all([migrate(db, { log, ...opts }), migrate(db, opts)]);
    const withTs = mode.name === 'timescaledb';
    expect(first.timescaledb.available).toBe(withTs);
    expect([...first.applied, ...concurrent.applied].sort()).toEqual(withTs ? ['001_core_tables.sql', ...TS_FILES, ...PLAIN_LATER].sort() : ['001_core_tables.sql', ...PLAIN_LATER]);
    const featureLines = lines.filter((l) => l.startsWith(withTs ? 'timescaledb feature enabled' : 'timescaledb feature skipped'));
    if (withTs) {
      expect(first.skipped).toEqual([]);
      expect(concurrent.skipped).toEqual([]);
      expect(lines.some((l) => l.startsWith('timescaledb 2.') && l.endsWith('enabling its features'))).toBe(true);
    } else {
      expect(first.skipped).toEqual(TS_FILES);
      expect(concurrent.skipped).toEqual(TS_FILES);
      expect(lines.some((l) => l.startsWith('timescaledb not available (TIMESCALEDB=off)'))).toBe(true);
      // off means off: the extension was not even created in this database.
      const ext = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
      expect(ext.rows).toHaveLength(0);
    }
    // Whoever took the advisory lock first did the work and logged it; the other found nothing to do.
    if (first.applied.length > 0) {
      expect(featureLines).toHaveLength(TS_FILES.length);
      expect(featureLines.some((l) => l.includes('hypertables'))).toBe(true);
      expect(featureLines.some((l) => l.includes('compression after 7 days'))).toBe(true);
      expect(featureLines.some((l) => l.includes('continuous aggregate market_bars_1h'))).toBe(true);
    }
    await expectCatalogMatchesSpecs(db);
    const again = await migrate(db, opts);
    expect(again.applied).toEqual([]);
    expect(again.skipped).toEqual(withTs ? [] : TS_FILES);
    const recorded = await db.query<{ name: string; status: string }>('SELECT name, status FROM schema_migrations ORDER BY name');
    expect(recorded.rows).toEqual(
      [
        { name: '001_core_tables.sql', status: 'applied' },
        ...TS_FILES.map((name) => ({ name, status: withTs ? 'applied' : 'skipped' })),
        ...PLAIN_LATER.map((name) => ({ name, status: 'applied' })),
      ].sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('refuses to run when an applied file was edited, naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-schema-'));
    const other = await createTestDatabase();
    const odb = new PgDatabase({ connectionString: other.url });
    try {
      for (const f of fs.readdirSync(defaultSchemaDir())) fs.copyFileSync(path.join(defaultSchemaDir(), f), path.join(dir, f));
      await migrate(odb, { dir });
      fs.appendFileSync(path.join(dir, '001_core_tables.sql'), '\n-- an innocent-looking edit\n');
      fs.writeFileSync(path.join(dir, '099_new.sql'), 'CREATE TABLE should_not_exist (x int);\n');
      const err = await migrate(odb, { dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationChecksumError);
      expect((err as Error).message).toContain('001_core_tables.sql');
      expect((err as Error).message).toContain('edited');
      const created = await odb.query(`SELECT 1 FROM pg_tables WHERE tablename = 'should_not_exist'`);
      expect(created.rows).toHaveLength(0);
      fs.rmSync(path.join(dir, '099_new.sql'));
      fs.rmSync(path.join(dir, '001_core_tables.sql'));
      const missing = await migrate(odb, { dir }).catch((e: unknown) => e);
      expect((missing as Error).message).toMatch(/001_core_tables\.sql was applied but the file is missing/);
    } finally {
      await odb.close();
      await other.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migrations on PGlite', () => {
  it('migrates from empty in a data dir and finds nothing to do after reopening it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-pglite-'));
    try {
      const { lines, log } = collectLog();
      const db = await PgliteDatabase.open(dir);
      const report = await migrate(db, { log });
      expect(report.applied).toEqual(['001_core_tables.sql', ...PLAIN_LATER]);
      expect(report.skipped).toEqual(TS_FILES);
      expect(lines.filter((l) => l.startsWith('timescaledb feature skipped'))).toHaveLength(TS_FILES.length);
      await expectCatalogMatchesSpecs(db);
      // Bounded memory: 8 MB of shared_buffers instead of PGlite's 128 MB (resident for the daemon's life).
      const sb = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(sb.rows[0]?.shared_buffers).toBe('8MB');
      await db.close();
      const reopened = await PgliteDatabase.open(dir, { sharedBuffersMb: 12 });
      expect((await reopened.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]?.shared_buffers).toBe('12MB');
      const again = await migrate(reopened, {});
      expect(again.applied).toEqual([]);
      await reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migration files and settings', () => {
  it('validates interval settings before splicing them into SQL', () => {
    expect(validateInterval('x', ' 14 days ')).toBe('14 days');
    for (const bad of ["7 days'; DROP TABLE trades; --", '0 days', '7', 'forever', '1 fortnight']) {
      expect(() => validateInterval('x', bad)).toThrow(/not an interval/);
    }
    const m = loadMigrations(defaultSchemaDir()).find((f) => f.name.startsWith('003'));
    expect(m).toBeDefined();
    const sql = renderMigration(m!, { ...DEFAULT_MIGRATION_SETTINGS, compressAfter: '3 days', retentionBars: '2 years' });
    expect(sql).toContain(`compress_after => INTERVAL '3 days'`);
    expect(sql).toContain(`drop_after => INTERVAL '2 years'`);
    expect(sql).not.toContain('{{');
    expect(() => renderMigration({ name: 'x.sql', sql: '{{nope}}' }, DEFAULT_MIGRATION_SETTINGS)).toThrow(/x\.sql: unknown placeholder/);
  });

  it('splits scripts only at top-level semicolons', () => {
    const script = `-- head; comment\nSELECT 'a;b' AS "c;d";\n/* x; /* nested; */ */ CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;\n-- tail only`;
    expect(splitSqlStatements(script)).toEqual([
      `-- head; comment\nSELECT 'a;b' AS "c;d"`,
      `/* x; /* nested; */ */ CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql`,
    ]);
  });
});
