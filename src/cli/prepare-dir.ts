import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes sure `dir` is a writable directory, creating it (and missing parents) one level at a time, and returns
 * a one-line reason when it cannot be; `what` names it in that line (e.g. "DATA_DIR").
 *
 * Why not `mkdirSync(dir, { recursive: true })`: on Linux, mkdir under /proc (or any filesystem that answers
 * ENOENT for a parent that exists) makes Node's recursive mkdir retry the parent forever at 100 % CPU
 * (`DATA_DIR=/proc/nope` hung the daemon before its HTTP server started). Creating each level ourselves turns
 * that into an error, and a file in the way into a clear line instead of an ENOTDIR stack trace.
 */
export function prepareDir(dir: string, what: string): string | undefined {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let probe = abs;
  for (;;) {
    let st;
    try {
      st = statSync(probe);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${what} ${dir}: cannot inspect ${probe} (${code ?? String(err)})`;
      missing.push(probe);
      const parent = path.dirname(probe);
      if (parent === probe) return `${what} ${dir}: the filesystem root is missing`;
      probe = parent;
      continue;
    }
    if (!st.isDirectory()) return `${what} ${dir}: ${probe === abs ? 'is not a directory' : `${probe} is a file, not a directory`}`;
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statSync(p).isDirectory()) continue;
      return `${what} ${dir}: cannot create ${p} (${code ?? String(err)})`;
    }
  }
  try {
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch {
    return `${what} ${dir}: not writable by this user`;
  }
  return undefined;
}
