import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, DbLogFn, DbSession } from './database.js';
import { splitSqlStatements } from './sql-script.js';

/**
 * Applies `schema/NNN_name.sql` in order, each in its own transaction, and records name + sha256 in
 * `schema_migrations`. Refuses to run when an applied file was edited or removed (the error names the file).
 *
 * Header markers (SQL comments at the top of a file):
 * - `-- whalestack:requires timescaledb`: run only where the extension exists; elsewhere the file is recorded
 *   as `skipped` and applied later if TimescaleDB shows up (its statements are idempotent for that reason).
 * - `-- whalestack:no-transaction`: run statement by statement in autocommit (continuous aggregates).
 * - `-- whalestack:feature <text>`: what the file enables, for the log.
 *
 * `{{placeholder}}`s are substituted from settings after strict validation, so ages are configurable without
 * editing (and re-checksumming) files; the checksum covers the file as written, not the rendered SQL.
 */

export interface MigrationSettings {
  /** Hypertable chunk interval. */
  readonly chunkInterval: string;
  /** Chunks older than this are compressed. */
  readonly compressAfter: string;
  /** Retention of heatmap snapshots and clusters. */
  readonly retentionSnapshots: string;
  /** Retention of spikes, movers, rankings and realized liquidations. */
  readonly retentionEvents: string;
  /** Retention of minute bars. */
  readonly retentionBars: string;
}

export const DEFAULT_MIGRATION_SETTINGS: MigrationSettings = Object.freeze({
  chunkInterval: '1 day',
  compressAfter: '7 days',
  retentionSnapshots: '90 days',
  retentionEvents: '180 days',
  retentionBars: '730 days',
});

const PLACEHOLDERS: Readonly<Record<string, keyof MigrationSettings>> = {
  chunk_interval: 'chunkInterval',
  compress_after: 'compressAfter',
  retention_snapshots: 'retentionSnapshots',
  retention_events: 'retentionEvents',
  retention_bars: 'retentionBars',
};

const INTERVAL_RE = /^[1-9][0-9]{0,5} (minute|hour|day|week|month|year)s?$/;

/** Validates an interval setting such as `7 days`; anything else throws (it is spliced into SQL). */
export function validateInterval(name: string, value: string): string {
  const v = value.trim();
  if (!INTERVAL_RE.test(v)) throw new Error(`migration setting ${name}='${value}' is not an interval like '7 days' or '12 hours'`);
  return v;
}

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
  readonly requiresTimescale: boolean;
  readonly noTransaction: boolean;
  readonly feature: string | undefined;
}

export interface MigrateOptions {
  readonly log?: DbLogFn;
  readonly settings?: Partial<MigrationSettings>;
  /** Directory of the migration files (default: the repository's `schema/`). */
  readonly dir?: string;
  /**
   * `auto` (default): use TimescaleDB when the server has the extension. `off`: never touch it (no CREATE
   * EXTENSION), record its files as skipped, so the same server can be exercised as plain PostgreSQL.
   * Files skipped this way are applied on a later `auto` run, like on a server that gained the extension.
   */
  readonly timescaledb?: TimescaleMode;
}

/** Whether migrations may use TimescaleDB (`TIMESCALEDB` setting). */
export type TimescaleMode = 'auto' | 'off';

export interface MigrateReport {
  readonly applied: string[];
  readonly skipped: string[];
  readonly timescaledb: { readonly available: boolean; readonly version?: string; readonly reason?: string };
}

/** Raised when an applied migration was edited or deleted. */
export class MigrationChecksumError extends Error {
  constructor(message: string, readonly file: string) {
    super(message);
    this.name = 'MigrationChecksumError';
  }
}

const LOCK_KEY = 7_341_905_551;

/** Finds `schema/` from the source tree or the compiled `dist/` tree, else relative to the working directory. */
export function defaultSchemaDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../../../..']) {
    const dir = path.resolve(here, up, 'schema');
    if (fs.existsSync(path.join(dir, '001_core_tables.sql'))) return dir;
  }
  return path.resolve('schema');
}

export function loadMigrations(dir: string): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name), 'utf8').replace(/\r\n/g, '\n');
      const feature = /^-- whalestack:feature (.+)$/m.exec(sql)?.[1]?.trim();
      return {
        name,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
        requiresTimescale: /^-- whalestack:requires timescaledb\s*$/m.test(sql),
        noTransaction: /^-- whalestack:no-transaction\s*$/m.test(sql),
        feature,
      };
    });
}

/** Substitutes `{{placeholders}}` with validated settings; unknown placeholders are an error naming the file. */
export function renderMigration(m: Pick<Migration, 'name' | 'sql'>, settings: MigrationSettings): string {
  return m.sql.replace(/\{\{([a-z_]+)\}\}/g, (_all, key: string) => {
    const setting = PLACEHOLDERS[key];
    if (setting === undefined) throw new Error(`${m.name}: unknown placeholder {{${key}}}`);
    return validateInterval(setting, settings[setting]);
  });
}

async function detectTimescale(s: DbSession): Promise<MigrateReport['timescaledb']> {
  const avail = await s.query<{ installed_version: string | null }>(
    `SELECT installed_version FROM pg_available_extensions WHERE name = 'timescaledb'`,
  );
  const row = avail.rows[0];
  if (!row) return { available: false, reason: 'extension timescaledb is not available on this server' };
  if (row.installed_version === null) {
    try {
      await s.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    } catch (err) {
      return { available: false, reason: `CREATE EXTENSION timescaledb failed: ${(err as Error).message}` };
    }
  }
  const v = await s.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
  const version = v.rows[0]?.extversion;
  return version === undefined ? { available: false, reason: 'extension not installed' } : { available: true, version };
}

async function apply(s: DbSession, m: Migration, sql: string): Promise<void> {
  const record = `INSERT INTO schema_migrations (name, checksum_sha256, status) VALUES ($1, $2, 'applied')
    ON CONFLICT (name) DO UPDATE SET status = 'applied', checksum_sha256 = EXCLUDED.checksum_sha256, applied_at = now()`;
  try {
    if (m.noTransaction) {
      for (const stmt of splitSqlStatements(sql)) await s.exec(stmt);
      await s.query(record, [m.name, m.checksum]);
      return;
    }
    await s.exec('BEGIN');
    try {
      await s.exec(sql);
      await s.query(record, [m.name, m.checksum]);
      await s.exec('COMMIT');
    } catch (err) {
      await s.exec('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } catch (err) {
    throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Brings the database to the latest schema. Safe to call on every start and from several processes at once
 * (a session advisory lock serializes them). Logs which TimescaleDB features were enabled or skipped.
 */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateReport> {
  const log: DbLogFn = options.log ?? (() => undefined);
  const settings: MigrationSettings = { ...DEFAULT_MIGRATION_SETTINGS, ...options.settings };
  const dir = options.dir ?? defaultSchemaDir();
  const migrations = loadMigrations(dir);
  for (const m of migrations) renderMigration(m, settings);
  return db.withSession(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await s.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        checksum_sha256 text NOT NULL,
        status text NOT NULL CHECK (status IN ('applied', 'skipped')),
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const recorded = new Map(
        (await s.query<{ name: string; checksum_sha256: string; status: string }>('SELECT name, checksum_sha256, status FROM schema_migrations')).rows.map(
          (r) => [r.name, r] as const,
        ),
      );
      const byName = new Map(migrations.map((m) => [m.name, m] as const));
      for (const [name, rec] of recorded) {
        const m = byName.get(name);
        const file = path.join(dir, name);
        if (!m) throw new MigrationChecksumError(`migration ${file} was applied but the file is missing; restore it`, file);
        if (m.checksum !== rec.checksum_sha256) {
          throw new MigrationChecksumError(
            `migration ${file} was edited after it was applied (recorded sha256 ${rec.checksum_sha256.slice(0, 12)}…, ` +
              `file now ${m.checksum.slice(0, 12)}…); restore it and put the change in a new numbered migration`,
            file,
          );
        }
      }
      const timescaledb: MigrateReport['timescaledb'] =
        options.timescaledb === 'off' ? { available: false, reason: 'TIMESCALEDB=off' } : await detectTimescale(s);
      if (timescaledb.available) log('info', `timescaledb ${timescaledb.version} available: enabling its features`);
      else log('info', `timescaledb not available (${timescaledb.reason}): plain PostgreSQL tables only`);
      const report: MigrateReport = { applied: [], skipped: [], timescaledb };
      for (const m of migrations) {
        const rec = recorded.get(m.name);
        if (rec?.status === 'applied') continue;
        const sql = renderMigration(m, settings);
        const feature = m.feature === undefined ? m.name : renderMigration({ name: m.name, sql: m.feature }, settings);
        if (m.requiresTimescale && !timescaledb.available) {
          if (!rec) await s.query(`INSERT INTO schema_migrations (name, checksum_sha256, status) VALUES ($1, $2, 'skipped')`, [m.name, m.checksum]);
          report.skipped.push(m.name);
          log('info', `timescaledb feature skipped: ${feature}`, { migration: m.name });
          continue;
        }
        await apply(s, m, sql);
        report.applied.push(m.name);
        log('info', m.requiresTimescale ? `timescaledb feature enabled: ${feature}` : `migration applied: ${m.name}`, { migration: m.name });
      }
      return report;
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
  });
}
