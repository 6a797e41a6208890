import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { DirLockedError, LOCK_FILE, lockDirectory } from '../../src/cli/dir-lock.js';
import { startDaemon } from '../../src/cli/run.js';
import { createLogger } from '../../src/sinks/logger.js';
import { startFakeBybit } from '../support/fake-bybit.js';
import { Cleanups, waitFor } from '../support/wait.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

interface Spawned {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  out(): string;
  err(): string;
}

function spawnDaemon(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [BIN, 'run'], { env: { PATH: process.env.PATH ?? '', HTTP_PORT: '0', LOG_LEVEL: 'info', ESTIMATOR_BOOTSTRAP_DAYS: '0', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, out: () => out, err: () => err };
}

/**
 * Resolves once the daemon has fully started (its signal handlers are installed only then): the operator port
 * from its start-up log, then `/readyz` 200 against the fake Bybit.
 */
async function listening(d: Spawned): Promise<void> {
  const exitedEarly = () => (d.child.exitCode !== null ? Promise.reject(new Error(`exited ${d.child.exitCode}: ${d.err()}`)) : undefined);
  const port = await waitFor('daemon listening', () => {
    const m = /"port":(\d+)[^\n]*operator HTTP server listening/.exec(d.out());
    return m !== null ? Number(m[1]) : exitedEarly();
  }, 90_000);
  await waitFor('daemon ready', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    return res?.status === 200 ? true : exitedEarly();
  }, 90_000);
}

/** The pid of a process that has exited (so `kill(pid, 0)` fails), as a crashed daemon leaves behind. */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('hostile: two daemons on one DATA_DIR (issue 7, defect 2)', () => {
  it('the second refuses to start with one line naming the directory and the first one\'s pid; the first keeps running', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-lock-'));
    const env = { BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, DATA_DIR: dataDir };
    const first = spawnDaemon(env);
    await listening(first);
    expect(JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: first.child.pid });

    const second = spawnDaemon(env);
    expect(await second.exited).not.toBe(0);
    const lines = second.err().trim().split('\n');
    expect(lines).toEqual([`whalestack: DATA_DIR ${dataDir} is in use by another whalestack (pid ${first.child.pid}); stop it or use another directory`]);
    expect(second.out()).not.toContain('operator HTTP server listening');
    expect(first.child.exitCode).toBeNull();

    first.child.kill('SIGTERM');
    expect(await first.exited, first.err()).toBe(0);
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    // After a clean stop the directory is free again.
    const third = spawnDaemon(env);
    await listening(third);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 240_000);

  it('a stale lock left by a dead process (or an unreadable one) does not block a restart', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    for (const content of [async () => JSON.stringify({ pid: await deadPid(), host: 'x', startedAt: '2026-01-01T00:00:00Z' }), async () => '']) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-stale-lock-'));
      writeFileSync(path.join(dataDir, LOCK_FILE), await content());
      const d = spawnDaemon({ BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, DATA_DIR: dataDir });
      await listening(d);
      expect(JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: d.child.pid });
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
    }
  }, 240_000);

  it('in one process, a second lock on a held directory is refused and release frees it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-lock-unit-'));
    const lock = lockDirectory(dir, 'DATA_DIR');
    expect(() => lockDirectory(dir, 'DATA_DIR')).toThrow(DirLockedError);
    expect(() => lockDirectory(dir, 'DATA_DIR')).toThrow(`(pid ${process.pid})`);
    lock.release();
    lockDirectory(dir).release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('two recorders on one tape directory: the second is refused, naming the directory', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const tapeDir = mkdtempSync(path.join(tmpdir(), 'ws-lock-tapes-'));
    const config = loadConfig({ DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-lock-rec-')), BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, HTTP_PORT: '0', ESTIMATOR_BOOTSTRAP_DAYS: '0' });
    const first = await startDaemon(config, createLogger('silent'), { recordDir: tapeDir, recordOnly: true });
    cleanups.push(() => first.close());
    await expect(startDaemon(config, createLogger('silent'), { recordDir: tapeDir, recordOnly: true })).rejects.toThrow(`tape directory ${tapeDir} is in use by another whalestack (pid ${process.pid})`);
    await first.close();
    expect(existsSync(path.join(tapeDir, LOCK_FILE))).toBe(false);
  });
});
