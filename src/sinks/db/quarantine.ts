import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Database } from './database.js';

/** One row the writer refused to retry: which table, why, and the evidence (COPY line or raw row JSON). */
export interface QuarantinedRow {
  readonly table: string;
  readonly reason: string;
  readonly payload: string;
  readonly quarantinedAtMs: number;
}

const MAX_PAYLOAD_CHARS = 100_000;
const MAX_REASON_CHARS = 2_000;

/**
 * Collects quarantined rows and stores them in `write_quarantine` when the database is reachable, else appends
 * them as JSON lines to a file next to the journal, so a bad row is never silently lost and never blocks the
 * rows around it. Keyed by (table, sha256(payload)) so a row quarantined twice is stored once.
 */
export class QuarantineSink {
  private queue: QuarantinedRow[] = [];

  constructor(private readonly filePath: string) {}

  get pending(): number {
    return this.queue.length;
  }

  add(table: string, reason: string, payload: string, quarantinedAtMs: number): void {
    this.queue.push({
      table,
      reason: reason.slice(0, MAX_REASON_CHARS),
      payload: payload.length > MAX_PAYLOAD_CHARS ? `${payload.slice(0, MAX_PAYLOAD_CHARS)}…(truncated)` : payload,
      quarantinedAtMs,
    });
  }

  /** Writes queued rows to the table, or to the file when the table is unreachable. Never throws. */
  async flush(db: Database): Promise<'table' | 'file' | 'none'> {
    if (this.queue.length === 0) return 'none';
    const rows = this.queue;
    this.queue = [];
    try {
      await db.query(
        `INSERT INTO write_quarantine (quarantined_at, table_name, reason, payload, payload_sha256)
         SELECT to_timestamp(t / 1000.0), n, r, p, s FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(t, n, r, p, s)
         ON CONFLICT DO NOTHING`,
        [
          rows.map((r) => r.quarantinedAtMs),
          rows.map((r) => r.table),
          rows.map((r) => r.reason.replace(/\u0000/g, '\\0')),
          rows.map((r) => r.payload.replace(/\u0000/g, '\\0')),
          rows.map((r) => createHash('sha256').update(r.payload).digest('hex')),
        ],
      );
      return 'table';
    } catch {
      this.writeFile(rows);
      return 'file';
    }
  }

  /** Synchronous fallback used on shutdown when the database is gone. */
  writeFile(rows: readonly QuarantinedRow[] = this.drainQueue()): void {
    if (rows.length === 0) return;
    fs.appendFileSync(this.filePath, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  private drainQueue(): QuarantinedRow[] {
    const rows = this.queue;
    this.queue = [];
    return rows;
  }
}
