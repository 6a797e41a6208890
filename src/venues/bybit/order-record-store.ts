import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { OrderRecord, OrderRecordStore } from './venue-types.js';

/** Records in memory: for tests, and for a venue whose restart safety comes from reconciliation alone. */
export class InMemoryOrderRecordStore implements OrderRecordStore {
  private readonly records = new Map<string, OrderRecord>();
  get(orderLinkId: string): OrderRecord | undefined {
    const r = this.records.get(orderLinkId);
    return r === undefined ? undefined : { ...r };
  }
  put(record: OrderRecord): void {
    this.records.set(record.orderLinkId, { ...record });
  }
  all(): OrderRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  get size(): number {
    return this.records.size;
  }
}

/**
 * Records in a JSON-lines journal: each `put` appends one line, so its cost does not grow with the number of
 * orders the daemon ever placed (the file used to be rewritten whole, with an fsync, on every put: twice per
 * order on the order → ack path). A record still `sending` is fsynced before `put` returns, because it must be
 * on disk before its order leaves; later updates are appended without fsync: a process kill loses nothing the
 * kernel was handed, and an update lost with the machine leaves its record `sending`, which reconciliation
 * settles by orderLinkId anyway. Opening reads the journal (last line per orderLinkId wins; a torn last line
 * from a crash is skipped; a file in the former single-array format is read too) and rewrites it compacted,
 * atomically (temp file, fsync, rename); it is compacted again once it holds 4× more lines than records.
 */
export class JsonFileOrderRecordStore implements OrderRecordStore {
  private readonly memory = new InMemoryOrderRecordStore();
  private lines = 0;

  constructor(private readonly path: string) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text.trimStart().startsWith('[')) {
        const parsed = JSON.parse(text) as unknown;
        if (!Array.isArray(parsed)) throw new Error(`order record file ${path}: expected a JSON array`);
        for (const r of parsed as OrderRecord[]) this.memory.put(r);
      } else {
        const rows = text.split('\n');
        rows.forEach((line, i) => {
          if (line.trim() === '') return;
          let r: unknown;
          try {
            r = JSON.parse(line);
          } catch (err) {
            // Only the last line can be torn (a crash mid-append); anything else is a damaged file.
            if (i >= rows.length - 2) return;
            throw new Error(`order record file ${path}: line ${i + 1} is not JSON (${err instanceof Error ? err.message : String(err)})`);
          }
          if (typeof r !== 'object' || r === null || typeof (r as OrderRecord).orderLinkId !== 'string') throw new Error(`order record file ${path}: line ${i + 1} is not an order record`);
          this.memory.put(r as OrderRecord);
        });
      }
    }
    this.compact();
  }

  get(orderLinkId: string): OrderRecord | undefined {
    return this.memory.get(orderLinkId);
  }

  put(record: OrderRecord): void {
    this.memory.put(record);
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      if (record.status === 'sending') fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (++this.lines > 4 * this.memory.size + 1000) this.compact();
  }

  all(): OrderRecord[] {
    return this.memory.all();
  }

  /** Rewrites the journal as one line per record, atomically. */
  private compact(): void {
    const records = this.memory.all();
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.lines = records.length;
  }
}
