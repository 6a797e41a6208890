import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/** Name of the lock file a daemon keeps in each directory it writes (DATA_DIR, a tape directory). */
export const LOCK_FILE = 'whalestack.lock';

/** Another live process holds the directory. The message is the one line the operator sees. */
export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
    what: string,
  ) {
    super(
      pid === undefined
        ? `${what} ${dir} is locked by another whalestack (lock file ${path.join(dir, LOCK_FILE)} unreadable); stop it, or delete the file if none runs`
        : `${what} ${dir} is in use by another whalestack (pid ${pid}); stop it or use another directory`,
    );
    this.name = 'DirLockedError';
  }
}

/** A held lock; `release()` is idempotent and also runs at process exit. */
export interface DirLock {
  readonly dir: string;
  release(): void;
}

/** Directories this process holds: a second lock on one of them in the same process is refused too. */
const heldHere = new Set<string>();

/** Whether `pid` names a running process (EPERM: it exists but is not ours, still alive). */
function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own pid in an old lock: a previous life of this container.
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the directory `dir` for this process: creates `dir/whalestack.lock` with O_EXCL holding our pid. Two
 * daemons on one DATA_DIR would share the embedded store, the write journal and the tapes, and silently lose one
 * instance's rows; so a lock held by a live pid refuses the start ({@link DirLockedError}). A lock left by a
 * process that died (checked with `kill(pid, 0)`) is taken over, so a crash never blocks a restart. Liveness is
 * judged on this host's pids: a DATA_DIR shared over a network filesystem between hosts is not protected.
 */
export function lockDirectory(dir: string, what = 'directory'): DirLock {
  const abs = path.resolve(dir);
  mkdirSync(abs, { recursive: true });
  const file = path.join(abs, LOCK_FILE);
  if (heldHere.has(abs)) throw new DirLockedError(abs, process.pid, what);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }) + '\n';
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(file);
      // An unreadable lock may be one being written this very moment: give its writer the benefit once.
      if (pid === undefined && attempt === 0) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      if (pid !== undefined && alive(pid)) throw new DirLockedError(abs, pid, what);
      if (attempt >= 3) throw new DirLockedError(abs, pid, what);
      try {
        unlinkSync(file); // stale: its process is gone.
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    break;
  }
  heldHere.add(abs);
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    heldHere.delete(abs);
    process.off('exit', release);
    try {
      if (readPid(file) === process.pid) unlinkSync(file);
    } catch {
      // Already gone (someone removed the directory): nothing to release.
    }
  };
  process.on('exit', release);
  return { dir: abs, release };
}
