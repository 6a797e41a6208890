import net from 'node:net';

/**
 * Service-backed tests run when PostgreSQL/Redis answer. With WHALESTACK_REQUIRE_SERVICES=1 (set by .ci/run)
 * an unreachable service is a failure, not a skip, so CI can never go green without them.
 */
export const requireServices = process.env.WHALESTACK_REQUIRE_SERVICES === '1';

export const PG_URL = process.env.WHALESTACK_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.WHALESTACK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

async function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function check(name: string, url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  const ok = await reachable(u.hostname, Number(u.port || defaultPort));
  if (!ok && requireServices) {
    throw new Error(`${name} at ${u.hostname}:${u.port || defaultPort} is required (WHALESTACK_REQUIRE_SERVICES=1) but unreachable`);
  }
  return ok;
}

/** True when PostgreSQL answers; throws when it is required and does not. Use with `describe.runIf`. */
export const pgAvailable = await check('PostgreSQL', PG_URL, 5432);
export const redisAvailable = await check('Redis', REDIS_URL, 6379);

async function timescaleOnServer(): Promise<boolean> {
  if (!pgAvailable) return false;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const r = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
    const preload = await client.query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'`);
    return r.rowCount === 1 && (preload.rows[0]?.setting ?? '').includes('timescaledb');
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * True when the test server has TimescaleDB available and preloaded. `.ci/run` sets
 * WHALESTACK_REQUIRE_TIMESCALEDB=1 after installing it, so a CI run can never pass with the TimescaleDB
 * path silently skipped.
 */
export const timescaleAvailable = await timescaleOnServer();
if (!timescaleAvailable && process.env.WHALESTACK_REQUIRE_TIMESCALEDB === '1') {
  throw new Error('TimescaleDB is required (WHALESTACK_REQUIRE_TIMESCALEDB=1) but not available on the test server');
}

/** A way to run the storage layer on the test server: with TimescaleDB (`auto`) or as plain PostgreSQL (`off`). */
export interface StorageMode {
  readonly name: 'timescaledb' | 'plain';
  readonly timescaledb: 'auto' | 'off';
}

/**
 * The storage paths the storage tests run under (`describe.each`): plain PostgreSQL always, TimescaleDB when
 * the server has it. Both run against the same server; `TIMESCALEDB=off` keeps the extension out.
 */
export const STORAGE_MODES: readonly StorageMode[] = [
  ...(timescaleAvailable ? [{ name: 'timescaledb', timescaledb: 'auto' } as const] : []),
  { name: 'plain', timescaledb: 'off' } as const,
];
