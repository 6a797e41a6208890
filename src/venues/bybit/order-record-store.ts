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
}

/**
 * Records in one JSON file, rewritten atomically (temp file, fsync, rename) on every `put`, so a record written
 * before an order is sent survives SIGKILL. Small by design: a trading day holds hundreds of records, not
 * millions; the execution actor's own store may replace this once it exists.
 */
export class JsonFileOrderRecordStore implements OrderRecordStore {
  private readonly memory = new InMemoryOrderRecordStore();

  constructor(private readonly path: string) {
    if (!existsSync(path)) return;
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) throw new Error(`order record file ${path}: expected a JSON array`);
    for (const r of parsed as OrderRecord[]) this.memory.put(r);
  }

  get(orderLinkId: string): OrderRecord | undefined {
    return this.memory.get(orderLinkId);
  }

  put(record: OrderRecord): void {
    this.memory.put(record);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.memory.all()));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }

  all(): OrderRecord[] {
    return this.memory.all();
  }
}
