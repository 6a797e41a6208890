import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import { buildWritePlan, encodeRow, quarantinePayload, type WritePlan } from './copy-encode.js';
import type { Database, DbLogFn } from './database.js';
import { SpillJournal } from './journal.js';
import { QuarantineSink } from './quarantine.js';
import type { TableName, TableRows } from './row-types.js';
import { TABLES, TABLE_NAMES, isTableName } from './tables.js';
import type { WriterMetrics } from './writer-metrics.js';

export type WriterLogFn = DbLogFn;

export interface BatchWriterOptions {
  readonly db: Database;
  /** Flush and retry timers run on this clock (live in production, virtual in replay/tests). */
  readonly clock: Clock;
  /** Directory of the spill journal and the quarantine fallback file. */
  readonly journalDir: string;
  readonly metrics?: WriterMetrics;
  readonly log?: WriterLogFn;
  /** A table's batch is written as soon as it holds this many rows (default 2000). */
  readonly maxBatchRows?: number;
  /** …or when this long has passed since a row entered an empty buffer (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** Rows kept in memory before the oldest spill to the journal (default 50 000). */
  readonly maxBufferedRows?: number;
  /** Tables written in parallel (default 2; each table has at most one batch in flight, so order holds). */
  readonly concurrency?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Jitter source in [0, 1) for retry delays (default Math.random). */
  readonly random?: () => number;
  /** Prefix of the clock timer names (default `db-writer`); give each writer on a shared clock its own. */
  readonly name?: string;
  readonly maxSegmentBytes?: number;
  /** Called after each successful batch write (benchmarks use it for latency percentiles). */
  readonly onFlush?: (table: TableName, rows: number, durationMs: number) => void;
}

export interface WriterStats {
  readonly enqueuedRows: number;
  readonly writtenRows: number;
  readonly quarantinedRows: number;
  readonly bufferedRows: number;
  readonly spilledRows: number;
  readonly retries: number;
}

interface Batch {
  readonly table: TableName;
  lines: string[];
  readonly fromJournal: boolean;
  /** Rows this batch counts against the memory bound (0 for journal batches, which live on disk). */
  readonly memRows: number;
  readonly rejected: Set<string>;
}

/** SQLSTATE classes that mean "this data is bad", as opposed to "the database is unwell": bisect, don't retry. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  return code.startsWith('22') || code.startsWith('23') || code === '42804' || code === '54000';
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Batched, idempotent, outage-proof writer of typed rows.
 *
 * `enqueue` validates and encodes the row to a COPY line right away (a bad row is quarantined with its reason,
 * never thrown at the caller) and returns without touching the database. Per-table buffers flush at
 * `maxBatchRows` or after `flushIntervalMs` on the injected clock; each batch is one transaction of COPY into a
 * staging table and an INSERT … ON CONFLICT on the natural key, so a batch retried after an ambiguous failure
 * (commit sent, ack lost) cannot duplicate. A batch the database rejects for its data is bisected until the
 * offending rows are isolated and quarantined; the rest lands. On connection or server failure the batch is
 * retried with exponential backoff and jitter; meanwhile rows beyond `maxBufferedRows` spill to the journal,
 * which drains (oldest first, before newer in-memory rows) when the database answers again.
 *
 * Gotchas: retry delays run on the injected clock, so a VirtualClock must be advanced for retries to happen.
 * `close()` tries every batch once more, then persists whatever could not be written to the journal.
 */
export class BatchWriter {
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly plans = new Map<TableName, WritePlan>();
  private readonly pending = new Map<TableName, string[]>();
  private readonly inflight = new Map<TableName, Batch>();
  private readonly journal: SpillJournal;
  private readonly quarantine: QuarantineSink;
  private readonly maxBatchRows: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedRows: number;
  private readonly concurrency: number;
  private readonly timerName: string;
  private pendingRows = 0;
  private inflightMemRows = 0;
  private timerArmed = false;
  private flushRequested = false;
  private loop: Promise<void> | undefined;
  private attempt = 0;
  private wake: (() => void) | undefined;
  private closing = false;
  private closeFailed = false;
  private closed = false;
  private counts = { enqueuedRows: 0, writtenRows: 0, quarantinedRows: 0, retries: 0 };

  constructor(private readonly options: BatchWriterOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.maxBatchRows = options.maxBatchRows ?? 2_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1_000;
    this.maxBufferedRows = Math.max(options.maxBufferedRows ?? 50_000, 1);
    this.concurrency = Math.max(options.concurrency ?? 2, 1);
    this.timerName = options.name ?? 'db-writer';
    for (const t of TABLE_NAMES) this.plans.set(t, buildWritePlan(TABLES[t]));
    this.journal = new SpillJournal({
      dir: options.journalDir,
      ...(options.maxSegmentBytes !== undefined ? { maxSegmentBytes: options.maxSegmentBytes } : {}),
      onCorruption: (segment, detail) => {
        options.metrics?.journalCorruptRecords.inc();
        this.log('error', 'spill journal: skipped a corrupt record', { segment, detail });
      },
    });
    this.quarantine = new QuarantineSink(path.join(options.journalDir, 'quarantine.jsonl'));
    this.updateGauges();
    if (this.journal.spilledRows > 0) {
      this.log('info', 'spill journal holds rows from a previous run; draining', { rows: this.journal.spilledRows });
      this.kick();
    }
  }

  /** Buffers one row for `table`. Synchronous and never waits on the database. Throws only after `close()`. */
  enqueue<T extends TableName>(table: T, row: TableRows[T]): void {
    if (this.closing) throw new Error(`BatchWriter: enqueue(${table}) after close()`);
    const spec = TABLES[table];
    this.counts.enqueuedRows += 1;
    const encoded = spec ? encodeRow(spec, row) : { ok: false as const, reason: `unknown table ${String(table)}` };
    if (!encoded.ok) {
      this.reject(table, encoded.reason, quarantinePayload(row), 'invalid_value');
      this.kick();
      return;
    }
    let lines = this.pending.get(table);
    if (!lines) this.pending.set(table, (lines = []));
    lines.push(encoded.line);
    this.pendingRows += 1;
    if (this.pendingRows + this.inflightMemRows > this.maxBufferedRows) this.spillPending();
    if (lines.length >= this.maxBatchRows) this.kick();
    else this.armTimer();
    this.options.metrics?.bufferedRows.set(this.pendingRows + this.inflightMemRows);
  }

  /** Resolves once every row enqueued before the call is stored (waits through outages). */
  async flush(): Promise<void> {
    this.flushRequested = true;
    this.kick();
    while (this.loop) await this.loop;
  }

  /** Writes everything it can, persists the rest to the journal (fsynced), and stops. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.clock.cancelTimer(this.timerName);
    this.wake?.();
    this.flushRequested = true;
    do {
      this.kick();
      while (this.loop) await this.loop;
    } while (!this.closeFailed && this.hasWork());
    this.spillAll();
    if ((await this.quarantine.flush(this.db)) === 'file') this.log('warn', 'quarantined rows written to file (database unreachable)');
    this.journal.close();
    this.closed = true;
    this.updateGauges();
  }

  stats(): WriterStats {
    return { ...this.counts, bufferedRows: this.pendingRows + this.inflightMemRows, spilledRows: this.journal.spilledRows };
  }

  private log(level: Parameters<WriterLogFn>[0], msg: string, fields?: Record<string, unknown>): void {
    this.options.log?.(level, msg, fields);
  }

  private updateGauges(): void {
    this.options.metrics?.bufferedRows.set(this.pendingRows + this.inflightMemRows);
    this.options.metrics?.spilledRows.set(this.journal.spilledRows);
  }

  private reject(table: string, reason: string, payload: string, kind: 'invalid_value' | 'db_rejected'): void {
    this.counts.quarantinedRows += 1;
    this.options.metrics?.quarantinedRows.inc({ table, reason: kind });
    this.quarantine.add(table, reason, payload, this.clock.now());
    this.log('warn', 'row quarantined', { table, reason });
  }

  private armTimer(): void {
    if (this.timerArmed || this.closing) return;
    this.timerArmed = true;
    this.clock.setTimer(this.timerName, this.clock.now() + this.flushIntervalMs, () => {
      this.timerArmed = false;
      this.flushRequested = true;
      this.kick();
    });
  }

  /** Moves every pending (not in-flight) row to the journal, in batches of at most `maxBatchRows`. */
  private spillPending(): void {
    let moved = 0;
    for (const [table, lines] of this.pending) {
      for (let i = 0; i < lines.length; i += this.maxBatchRows) this.journal.append(table, lines.slice(i, i + this.maxBatchRows));
      moved += lines.length;
    }
    this.pending.clear();
    this.pendingRows = 0;
    if (moved > 0) {
      this.options.metrics?.spilledRowsTotal.inc(moved);
      this.log('warn', 'memory buffer full: rows spilled to journal', { rows: moved, spilledRows: this.journal.spilledRows });
    }
    this.updateGauges();
  }

  private spillAll(): void {
    for (const b of this.inflight.values()) {
      if (!b.fromJournal) this.journal.append(b.table, b.lines.filter((l) => !b.rejected.has(l)));
    }
    this.inflight.clear();
    this.inflightMemRows = 0;
    this.spillPending();
  }

  private hasWork(): boolean {
    if (this.inflight.size > 0 || this.quarantine.pending > 0 || this.journal.spilledRows > 0) return true;
    if (this.flushRequested && this.pendingRows > 0) return true;
    for (const lines of this.pending.values()) if (lines.length >= this.maxBatchRows) return true;
    return false;
  }

  private kick(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      if (this.closing) return;
      if (this.hasWork()) this.kick();
      else if (this.pendingRows > 0) this.armTimer();
    });
  }

  /**
   * Moves ready work into `inflight`. Journal records go one at a time (they are older than anything in memory,
   * and only the head can be read); memory batches only once the journal is empty, one per table, at most
   * `concurrency` in flight.
   */
  private takeWork(): void {
    if (this.journal.spilledRows > 0) {
      if ([...this.inflight.values()].some((b) => b.fromJournal)) return;
      const rec = this.journal.peek();
      if (rec) {
        if (!isTableName(rec.table)) {
          this.log('error', 'spill journal: record for unknown table skipped', { table: rec.table, rows: rec.lines.length });
          this.journal.ack();
          return this.takeWork();
        }
        if (!this.inflight.has(rec.table)) {
          this.inflight.set(rec.table, { table: rec.table, lines: [...rec.lines], fromJournal: true, memRows: 0, rejected: new Set() });
        }
        return;
      }
    }
    for (const [table, lines] of this.pending) {
      if (this.inflight.size >= this.concurrency) break;
      if (this.inflight.has(table) || (!this.flushRequested && lines.length < this.maxBatchRows)) continue;
      const batch = lines.splice(0, this.maxBatchRows);
      if (lines.length === 0) this.pending.delete(table);
      this.pendingRows -= batch.length;
      this.inflightMemRows += batch.length;
      this.inflight.set(table, { table, lines: batch, fromJournal: false, memRows: batch.length, rejected: new Set() });
    }
    if (this.pendingRows === 0) this.flushRequested = false;
  }

  /** Keeps up to `concurrency` batches running; on any failure lets the others settle, then backs off. */
  private async run(): Promise<void> {
    const running = new Map<TableName, Promise<void>>();
    let failed = false;
    for (;;) {
      if (this.quarantine.pending > 0) await this.quarantine.flush(this.db);
      this.takeWork();
      for (const b of this.inflight.values()) {
        if (running.has(b.table)) continue;
        running.set(
          b.table,
          this.writeBatch(b).then((ok) => {
            running.delete(b.table);
            if (!ok) failed = true;
          }),
        );
      }
      if (running.size === 0) return;
      await Promise.race(running.values());
      if (!failed) {
        if (this.attempt > 0) this.log('info', 'database writes recovered', { retries: this.attempt, spilledRows: this.journal.spilledRows });
        this.attempt = 0;
        continue;
      }
      await Promise.all(running.values());
      failed = false;
      if (this.closing) {
        this.closeFailed = true;
        this.spillAll();
        return;
      }
      this.attempt += 1;
      await this.backoff();
    }
  }

  private async writeBatch(b: Batch): Promise<boolean> {
    const plan = this.plans.get(b.table) as WritePlan;
    const started = performance.now();
    if (b.rejected.size > 0) b.lines = b.lines.filter((l) => !b.rejected.has(l));
    const rejectedBefore = b.rejected.size;
    try {
      await this.writeBisecting(plan, b, b.lines);
    } catch (err) {
      this.counts.retries += 1;
      this.options.metrics?.retries.inc({ table: b.table });
      if (this.attempt === 0 || this.attempt % 20 === 0) {
        this.log('warn', 'database write failed; will retry', { table: b.table, rows: b.lines.length, attempt: this.attempt, error: errorText(err) });
      }
      return false;
    }
    const durationMs = performance.now() - started;
    const stored = b.lines.length - (b.rejected.size - rejectedBefore);
    this.counts.writtenRows += stored;
    this.options.metrics?.rowsWritten.inc({ table: b.table }, stored);
    this.options.metrics?.flushDuration.observe({ table: b.table }, durationMs / 1000);
    this.options.onFlush?.(b.table, stored, durationMs);
    this.inflight.delete(b.table);
    if (b.fromJournal) this.journal.ack();
    this.inflightMemRows -= b.memRows;
    this.updateGauges();
    return true;
  }

  private async writeBisecting(plan: WritePlan, b: Batch, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      await this.db.copyBatch(plan, lines.join(''));
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (lines.length === 1) {
        const line = lines[0] as string;
        b.rejected.add(line);
        this.reject(b.table, `database rejected row: ${errorText(err)}`, line, 'db_rejected');
        return;
      }
      const mid = lines.length >> 1;
      await this.writeBisecting(plan, b, lines.slice(0, mid));
      await this.writeBisecting(plan, b, lines.slice(mid));
    }
  }

  private backoff(): Promise<void> {
    const base = this.options.retryBaseMs ?? 100;
    const max = this.options.retryMaxMs ?? 10_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.attempt - 1, 20));
    const delayMs = exp * (0.5 + 0.5 * (this.options.random ?? Math.random)());
    return new Promise((resolve) => {
      const done = (): void => {
        this.wake = undefined;
        this.clock.cancelTimer(`${this.timerName}:retry`);
        resolve();
      };
      this.wake = done;
      this.clock.setTimer(`${this.timerName}:retry`, this.clock.now() + delayMs, done);
    });
  }
}
