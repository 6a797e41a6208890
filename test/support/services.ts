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
