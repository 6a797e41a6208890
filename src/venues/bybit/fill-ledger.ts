import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { FillLedger } from './bybit-broker.js';

/**
 * The execIds the Bybit broker already reported, in one JSON file rewritten atomically on every fill (fills are
 * few), so the fills the venue re-delivers after a restart (its execution lookback) are not counted twice.
 * Keeps the newest `capacity` ids: far more than one lookback window holds.
 */
export class JsonFileFillLedger implements FillLedger {
  private readonly ids: Set<string>;

  constructor(private readonly path: string, private readonly capacity = 20_000) {
    const parsed = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : [];
    if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string')) throw new Error(`fill ledger ${path}: expected a JSON array of execIds`);
    this.ids = new Set(parsed as string[]);
  }

  has(execId: string): boolean {
    return this.ids.has(execId);
  }

  add(execId: string): void {
    if (this.ids.has(execId)) return;
    this.ids.add(execId);
    while (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify([...this.ids]));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
