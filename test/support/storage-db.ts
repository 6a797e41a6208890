import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PgDatabase } from '../../src/sinks/db/database.js';
import { migrate } from '../../src/sinks/db/migrator.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LiveClock } from '../../src/cli/live-clock.js';
import { PG_URL } from './services.js';

/** A throwaway database on the test server, so storage test files can run in parallel. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** URL of the same database through another host/port (e.g. a TcpProxy). */
  urlVia(host: string, port: number): string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ws_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    urlVia(host: string, port: number): string {
      const u = new URL(url.toString());
      u.hostname = host;
      u.port = String(port);
      return u.toString();
    },
    async drop(): Promise<void> {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A wall-clock `Clock` for tests that talk to real sockets or need timers to fire on their own: the daemon's own. */
export function wallClock(): LiveClock {
  return new LiveClock();
}

/**
 * Base time for rows written by storage tests: the start of the previous hour. Test rows carry recent times
 * so TimescaleDB's retention jobs (90/180/730 days) and compression jobs (7 days) never touch them while a
 * test runs, exactly like the rows the daemon writes; a fixed 2025 stamp lost rows to retention mid-test.
 */
export function recentBaseMs(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 3_600_000) * 3_600_000 - 3_600_000;
}

/**
 * A migrated throwaway database and a journal directory for one `describe` block: created in `beforeAll`,
 * dropped and removed in `afterAll`. Read `db` and `dir` inside the tests (they exist only once set up).
 */
export function useMigratedDatabase(dirPrefix: string): { readonly db: PgDatabase; readonly dir: string; readonly tdb: TestDatabase } {
  const state = {} as { db: PgDatabase; dir: string; tdb: TestDatabase };
  beforeAll(async () => {
    state.tdb = await createTestDatabase();
    state.db = new PgDatabase({ connectionString: state.tdb.url });
    await migrate(state.db, {});
    state.dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  });
  afterAll(async () => {
    await state.db?.close();
    await state.tdb?.drop();
    if (state.dir !== undefined) fs.rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}
