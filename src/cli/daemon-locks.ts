import { lockDirectory, type DirLock } from './dir-lock.js';

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
