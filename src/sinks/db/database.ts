import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PGlite } from '@electric-sql/pglite';
import type { WritePlan } from './copy-encode.js';

/**
 * The storage seam: PostgreSQL (optionally TimescaleDB) through a `pg` pool, or embedded PGlite in a data
 * directory so a fresh machine runs without a server. Both speak the same SQL; only the bulk path differs
 * (COPY FROM STDIN via pg-copy-streams vs PGlite's COPY FROM '/dev/blob'), and both take the same COPY text.
 */

/** Structured log callback shared by the migrator and the writer (the CLI adapts pino to it). */
export type DbLogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

/** One connection's worth of SQL. */
export interface DbSession {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of one or more statements (simple protocol, no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Database extends DbSession {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` on one dedicated connection (transactions, session advisory locks). */
  withSession<T>(fn: (session: DbSession) => Promise<T>): Promise<T>;
  /**
   * In one transaction: COPY `copyText` into the plan's temp staging table, then run its idempotent insert.
   * Returns the rows the insert reported. Throws the driver error untouched (callers classify by SQLSTATE).
   */
  copyBatch(plan: WritePlan, copyText: string): Promise<number>;
  close(): Promise<void>;
}

export interface PgDatabaseOptions {
  readonly connectionString: string;
  readonly poolMax?: number;
  readonly applicationName?: string;
  readonly connectTimeoutMs?: number;
  /** A batch taking longer than this has its connection destroyed (a half-open TCP link never errors). */
  readonly writeTimeoutMs?: number;
  /** Fault-injection seam for tests: awaited after the COPY stream opened and half the payload was sent. */
  readonly onCopyStarted?: (backendPid: number) => Promise<void> | void;
}

/** Driver internals used for the backend pid (fault tests) and for killing a hung socket. */
interface ClientInternals {
  processID?: number;
  connection?: { stream?: { destroy(err?: Error): void } };
}

/** PostgreSQL through a `pg` Pool. Idle-client errors (server restart, terminated backend) are swallowed. */
export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly staged = new WeakMap<pg.PoolClient, Set<string>>();

  constructor(private readonly options: PgDatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolMax ?? 4,
      application_name: options.applicationName ?? 'whalestack',
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
    });
    this.pool.on('error', () => undefined);
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const r = await this.pool.query(sql, params as unknown[] | undefined);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async withSession<T>(fn: (session: DbSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A checked-out client has no pool listener: without ours a dropped connection is an uncaught 'error'.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      return await fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const r = await client.query(sql, params as unknown[] | undefined);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => {
          await client.query(sql);
        },
      });
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async copyBatch(plan: WritePlan, copyText: string): Promise<number> {
    const client = await this.pool.connect();
    const internals = client as unknown as ClientInternals;
    let broken = false;
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    const timeoutMs = this.options.writeTimeoutMs ?? 30_000;
    const watchdog = setTimeout(() => {
      broken = true;
      internals.connection?.stream?.destroy(new Error(`write of ${plan.table} exceeded ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      await client.query('BEGIN');
      let staged = this.staged.get(client);
      if (!staged) this.staged.set(client, (staged = new Set()));
      const creating = !staged.has(plan.stageTable);
      if (creating) await client.query(plan.createStageSql);
      const stream = client.query(copyFrom(`COPY "${plan.stageTable}" (${plan.columnList}) FROM STDIN`));
      const done = finished(stream);
      done.catch(() => undefined);
      if (this.options.onCopyStarted) {
        const half = copyText.lastIndexOf('\n', copyText.length >> 1) + 1;
        stream.write(copyText.slice(0, half));
        await this.options.onCopyStarted(internals.processID ?? -1);
        stream.end(copyText.slice(half));
      } else {
        stream.end(copyText);
      }
      await done;
      const inserted = await client.query(plan.insertSql);
      await client.query('COMMIT');
      if (creating) staged.add(plan.stageTable);
      return inserted.rowCount ?? 0;
    } catch (err) {
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw err;
    } finally {
      clearTimeout(watchdog);
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Memory settings of the embedded store (see `PgliteDatabase.open`). */
export interface PgliteOptions {
  /** PostgreSQL `shared_buffers` inside the WASM heap, MB. PGlite's default is 128. */
  readonly sharedBuffersMb?: number;
  /**
   * Compile PGlite's WASM with V8's baseline compiler only (`--liftoff-only`), default true. The optimizing
   * tier roughly doubles the resident code and compiler memory (~60-80 MB measured) for a store that runs a
   * few batches a second. It is a process-wide V8 flag: WASM compiled after this call (PGlite; undici's HTTP
   * parser) stays on the baseline tier. Must happen before the first PGlite instance compiles its module.
   */
  readonly wasmBaselineOnly?: boolean;
}

/** Our default `shared_buffers` for PGlite: 8 MB instead of 128 MB (the store is written in batches, rarely read). */
export const PGLITE_SHARED_BUFFERS_MB = 8;

const execFileAsync = promisify(execFile);

/**
 * PGlite copies a COPY payload several times (string → Blob → its virtual /dev/blob file → the WASM heap).
 * One multi-MB batch of heatmap snapshots made each of those copies large, and the process kept the peak
 * resident; pieces of at most this many characters keep every copy small and reused.
 */
const PGLITE_COPY_PIECE_CHARS = 256 * 1024;

/** Splits COPY text into pieces of whole lines, each at most `maxChars` unless a single line is longer. */
export function copyPieces(copyText: string, maxChars: number): string[] {
  if (copyText.length <= maxChars) return [copyText];
  const pieces: string[] = [];
  let start = 0;
  while (start < copyText.length) {
    let end = start + maxChars;
    if (end >= copyText.length) end = copyText.length;
    else {
      const nl = copyText.lastIndexOf('\n', end - 1);
      end = nl >= start ? nl + 1 : copyText.indexOf('\n', end) + 1 || copyText.length;
    }
    pieces.push(copyText.slice(start, end));
    start = end;
  }
  return pieces;
}

/**
 * Creates a new PGlite data directory (initdb) in a short-lived child process. initdb runs in its own WASM
 * instance and leaves ~400 MB of RSS behind in the process that ran it (WASM memory never shrinks and the
 * allocator keeps its arenas), so the daemon would carry it for its whole life on a first start.
 */
async function initPgliteDataDir(dataDir: string): Promise<void> {
  const entry = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const script = `const { PGlite } = await import(${JSON.stringify(entry)}); const db = await PGlite.create({ dataDir: ${JSON.stringify(dataDir)} }); await db.close();`;
  await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 300_000 });
}

/**
 * Embedded PostgreSQL (WASM) persisted under `dataDir`; one in-process session, so writes are serialized.
 * Memory: the WASM heap only grows, so everything PostgreSQL touches stays resident; the big items are
 * `shared_buffers` (PGlite default 128 MB, ours 8 MB), V8's optimizing-tier code for the 9 MB module (we keep
 * the baseline tier), and a first start's initdb, which runs in a child process.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private readonly staged = new Set<string>();

  private constructor(private readonly db: PGlite) {}

  /** Opens (creating if needed) the database under `dataDir`; `undefined` keeps it in memory. */
  static async open(dataDir: string | undefined, options: PgliteOptions = {}): Promise<PgliteDatabase> {
    const sharedBuffersMb = options.sharedBuffersMb ?? PGLITE_SHARED_BUFFERS_MB;
    if (!Number.isInteger(sharedBuffersMb) || sharedBuffersMb < 1) throw new Error(`sharedBuffersMb must be a positive integer, got ${sharedBuffersMb}`);
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`];
    if (options.wasmBaselineOnly ?? true) v8.setFlagsFromString('--liftoff-only');
    if (dataDir !== undefined) {
      fs.mkdirSync(dataDir, { recursive: true });
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initPgliteDataDir(dataDir);
    }
    const db = dataDir === undefined ? await PGlite.create({ startParams }) : await PGlite.create({ dataDir, startParams });
    return new PgliteDatabase(db);
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const r = await this.db.query<R>(sql, params as unknown[] | undefined);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async withSession<T>(fn: (session: DbSession) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async copyBatch(plan: WritePlan, copyText: string): Promise<number> {
    const creating = !this.staged.has(plan.stageTable);
    const inserted = await this.db.transaction(async (tx) => {
      if (creating) await tx.exec(plan.createStageSql);
      for (const piece of copyPieces(copyText, PGLITE_COPY_PIECE_CHARS)) {
        await tx.query(`COPY "${plan.stageTable}" (${plan.columnList}) FROM '/dev/blob'`, [], { blob: new Blob([piece]) });
      }
      const r = await tx.query(plan.insertSql);
      return r.affectedRows ?? 0;
    });
    if (creating) this.staged.add(plan.stageTable);
    return inserted;
  }

  /** Plain COPY straight into `table`, no staging and no conflict handling (benchmark baseline only). */
  async copyInto(table: string, columnList: string, copyText: string): Promise<void> {
    await this.db.query(`COPY "${table}" (${columnList}) FROM '/dev/blob'`, [], { blob: new Blob([copyText]) });
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

/**
 * Opens the configured store: PostgreSQL when `databaseUrl` is set, otherwise PGlite under `dataDir`
 * (default `./data/pglite`).
 */
export async function openDatabase(config: {
  databaseUrl?: string;
  dataDir?: string;
  applicationName?: string;
  pgliteSharedBuffersMb?: number;
}): Promise<Database> {
  if (config.databaseUrl) {
    return new PgDatabase({ connectionString: config.databaseUrl, ...(config.applicationName ? { applicationName: config.applicationName } : {}) });
  }
  return PgliteDatabase.open(config.dataDir ?? './data/pglite', { sharedBuffersMb: config.pgliteSharedBuffersMb });
}
