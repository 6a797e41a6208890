import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { VirtualClock } from '../src/core/clock.js';
import { loadConfig } from '../src/cli/config.js';
import { engineSettings } from '../src/cli/engine-settings.js';
import { openStorage, writeEngineOutput } from '../src/cli/storage.js';
import { Engine } from '../src/engine/engine.js';
import { createLogger } from '../src/sinks/logger.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { isMain, mb } from './stats.js';

/**
 * RSS of the daemon's engine + store after `minutes` of simulated all-coin traffic (default 500 symbols, one
 * hour), on a virtual clock as fast as the store takes it: the same Engine, `openStorage` (migrations, batch
 * writer, `writeEngineOutput`) and configuration defaults as `npm start`. Store `pglite` is the default
 * embedded store under a fresh DATA_DIR; `postgres` a throwaway database on the local server, for the ratio.
 * The writer is flushed every simulated 10 s, so rows never pile up in memory or spill: what grows is the store.
 *
 * `node dist/bench/store-memory.js` runs both stores, each in its own child process, and prints the ratio;
 * `… pglite` or `… postgres` runs one in this process. WHALESTACK_BENCH_STORE_SYMBOLS, _MINUTES override.
 */

const SERVER_URL = process.env.WHALESTACK_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 250));
  }
  return process.memoryUsage();
}

async function throwawayDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ws_bench_mem_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(SERVER_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface StoreMemoryResult {
  readonly store: string;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly rssPeakMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
  readonly arrayBuffersMb: number;
  readonly rowsWritten: number;
  readonly frames: number;
  readonly wallSec: number;
}

export async function runStoreMemory(store: 'pglite' | 'postgres', symbols: number, minutes: number): Promise<StoreMemoryResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-bench-store-'));
  const server = store === 'postgres' ? await throwawayDatabase() : undefined;
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(server ? { DATABASE_URL: server.url } : {}) });
  const startMs = Date.UTC(2026, 0, 5);
  const clock = new VirtualClock(startMs);
  const storage = await openStorage(config, createLogger('silent'), clock);
  try {
    await storage.migrated;
    const before = await settle();
    let rssPeak = before.rss;
    const engine = new Engine({ clock, drain: { mode: 'sync' }, ...engineSettings(config), onOutput: (e) => writeEngineOutput(storage.writer, e) });
    let frames = 0;
    let nextFlushMs = startMs + 10_000;
    const t0 = performance.now();
    for (const rec of simulateMarket({ seed: 'store-memory', symbolCount: symbols, includeMajors: true, startMs, durationMs: minutes * 60_000 })) {
      clock.advanceTo(rec.t);
      if (rec.k !== undefined) continue;
      engine.ingest(rec.d, rec.t);
      frames++;
      if (rec.t >= nextFlushMs) {
        nextFlushMs += 10_000;
        await storage.writer.flush();
        const rss = process.memoryUsage().rss;
        if (rss > rssPeak) rssPeak = rss;
      }
    }
    await storage.writer.flush();
    const wallSec = (performance.now() - t0) / 1000;
    const after = await settle();
    const stats = storage.writer.stats();
    if (stats.spilledRows !== 0 || stats.quarantinedRows !== 0) throw new Error(`bench: writer spilled ${stats.spilledRows} / quarantined ${stats.quarantinedRows} rows`);
    return {
      store,
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      rssPeakMb: mb(Math.max(rssPeak, after.rss)),
      heapUsedMb: mb(after.heapUsed),
      externalMb: mb(after.external),
      arrayBuffersMb: mb(after.arrayBuffers),
      rowsWritten: stats.writtenRows,
      frames,
      wallSec: Math.round(wallSec),
    };
  } finally {
    await storage.close();
    await server?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs one store in a child process of its own (its RSS must not include the other store's). */
function child(store: 'pglite' | 'postgres'): StoreMemoryResult {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), store], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const at = r.stdout.indexOf('{');
  if (r.status !== 0 || at < 0) throw new Error(`store-memory ${store} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(r.stdout.slice(at)) as StoreMemoryResult;
}

async function postgresUp(): Promise<boolean> {
  const c = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

if (isMain(import.meta.url)) {
  const which = process.argv[2];
  const symbols = Number(process.env.WHALESTACK_BENCH_STORE_SYMBOLS ?? 500);
  const minutes = Number(process.env.WHALESTACK_BENCH_STORE_MINUTES ?? 60);
  if (which === 'pglite' || which === 'postgres') {
    console.log(JSON.stringify(await runStoreMemory(which, symbols, minutes), null, 2));
  } else {
    const lite = child('pglite');
    const server = (await postgresUp()) ? child('postgres') : undefined;
    const out: Record<string, number | string> = {
      symbols: symbols + 2,
      simulated_minutes: minutes,
      frames: lite.frames,
      rows_written: lite.rowsWritten,
      pglite_rss_before_mb: lite.rssBeforeMb,
      pglite_rss_after_mb: lite.rssAfterMb,
      pglite_rss_peak_mb: lite.rssPeakMb,
      pglite_external_mb: lite.externalMb,
      pglite_wall_s: lite.wallSec,
    };
    if (server) {
      out.postgres_rss_before_mb = server.rssBeforeMb;
      out.postgres_rss_after_mb = server.rssAfterMb;
      out.postgres_rss_peak_mb = server.rssPeakMb;
      out.pglite_vs_postgres_rss_after = Number((lite.rssAfterMb / server.rssAfterMb).toFixed(2));
    }
    out.target = 'pglite rss after ≤ 300 MB';
    console.log(JSON.stringify(out, null, 2));
  }
}
