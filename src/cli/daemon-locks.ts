import { lockDirectory, type DirLock } from './dir-lock.js';
import type { Part } from './part.js';

/**
 * Locks what a daemon writes: DATA_DIR (embedded store and write journal) unless it only records, and the tape
 * directory when recording. Throws `DirLockedError` (nothing held) when another live process has either.
 */
export function lockDaemonDirs(dataDir: string, recordOnly: boolean, recordDir: string | undefined): { release(): void } {
  const held: DirLock[] = [];
  const release = () => {
    for (const l of held.splice(0).reverse()) l.release();
  };
  try {
    if (!recordOnly) held.push(lockDirectory(dataDir, 'DATA_DIR'));
    if (recordDir !== undefined) held.push(lockDirectory(recordDir, 'tape directory'));
  } catch (err) {
    release();
    throw err;
  }
  return { release };
}

/**
 * The locks as the daemon's first part: taken before anything opens the store, the journal or a tape, released
 * after everything else has stopped. A refusal surfaces as the part's start error with the `DirLockedError` as
 * its cause (see `main.ts`).
 */
export function lockPart(dataDir: string, recordOnly: boolean, recordDir: string | undefined): Part {
  let held: { release(): void } | undefined;
  return {
    name: 'directory locks',
    start() {
      held = lockDaemonDirs(dataDir, recordOnly, recordDir);
    },
    stop() {
      held?.release();
      held = undefined;
    },
  };
}
