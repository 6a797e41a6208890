import { closeSync, existsSync, fsync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
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
 * order on the order → ack path). Every line is written before `put` returns, so a process kill loses nothing;
 * a record still `sending` is also fsynced, in the background while its order is on the wire (an fsync before
 * the send cost 2–3 ms at p99 on the order → ack path). A record lost with the machine in that window, or an
 * update lost with it later, is settled by reconciliation by orderLinkId, which is derived from the signal and
 * rung, so the exchange refuses a second order with it (110072) in any case. Opening reads the journal (last line per orderLinkId wins; a torn last line
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
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    // In the kernel now: a process kill cannot lose it. A `sending` record also goes to the disk, on libuv's
    // thread pool while the order is on the wire, so a lost machine cannot lose it either except in the few
    // milliseconds of that flush; an order placed in that window is still found at the exchange by its
    // deterministic orderLinkId (reconciliation, and Bybit refusing a second one with 110072).
    if (record.status === 'sending') fsync(fd, () => closeSync(fd));
    else closeSync(fd);
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
