import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { redactUrlsIn } from '../core/redact-url.js';
import { join } from 'node:path';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import type { Clock } from '../core/clock.js';
import { encodeTapeHeader, encodeTapeRecord, type TapeRecord } from '../core/tape-record.js';

export interface TapeWriterOptions {
  readonly dir: string;
  /** File name prefix; default `tape`. */
  readonly prefix?: string;
  /** Rotate once a file holds this many uncompressed bytes; default 256 MiB. */
  readonly rotateBytes?: number;
  /** Rotate once a file has been open this long (checked on write); default 1 h. */
  readonly rotateMs?: number;
  /** Only `now()` is used: file names and rotation age. */
  readonly clock: Pick<Clock, 'now'>;
  /** Free-form metadata stored in every file header. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /** gzip level 1..9; default 6. */
  readonly gzipLevel?: number;
  /** Push buffered lines through gzip with a sync flush this often (bounds loss on a crash); 0 disables; default 1000. */
  readonly flushIntervalMs?: number;
  /** Records are dropped (and counted) while more than this many bytes wait for the disk; default 64 MiB. */
  readonly maxBacklogBytes?: number;
  /** Every write error, refused record and drop episode lands here; never thrown at the caller. */
  readonly onError?: (err: Error) => void;
}

/** Counters for metrics. `bytes` is uncompressed bytes accepted into files, headers included. */
export interface TapeWriterStats {
  readonly records: number;
  readonly bytes: number;
  readonly files: number;
  readonly errors: number;
  readonly dropped: number;
}

interface OpenFile {
  readonly path: string;
  readonly gz: Gzip;
  readonly out: WriteStream;
  readonly openedAtMs: number;
  readonly closed: Promise<void>;
  bytes: number;
  failed: boolean;
}

const BATCH_BYTES = 64 * 1024;
const RETRY_AFTER_ERROR_MS = 5000;
const BULK_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * Records raw frames to rotating gzip JSON-Lines tape files (format: `core/tape-record.ts`).
 *
 * `write` is synchronous and cheap: lines are batched in memory and handed to gzip in 64 KiB chunks, so
 * the hot path never waits for the disk. When the disk falls behind, records are dropped past
 * `maxBacklogBytes` (counted in `stats.dropped`) rather than growing memory without bound; bulk producers
 * should `await drain()` now and then. Errors (disk full, refused secret URL, tsInit going backwards) go to
 * `onError` and the counters; after a file error the writer opens a fresh file on a later write.
 * `close()` must be awaited: only then is the last gzip member complete on disk.
 */
export class TapeWriter {
  private readonly opts: Required<Omit<TapeWriterOptions, 'onError' | 'meta'>> & Pick<TapeWriterOptions, 'onError' | 'meta'>;
  private file: OpenFile | undefined;
  private readonly closing = new Set<Promise<void>>();
  private batch: string[] = [];
  private batchBytes = 0;
  private lastT = -Infinity;
  private seq = 0;
  private failedAtMs = -Infinity;
  private dropEpisode = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly paths: string[] = [];
  private counts = { records: 0, bytes: 0, files: 0, errors: 0, dropped: 0 };

  constructor(options: TapeWriterOptions) {
    this.opts = {
      prefix: 'tape',
      rotateBytes: 256 * 1024 * 1024,
      rotateMs: 3_600_000,
      gzipLevel: 6,
      flushIntervalMs: 1000,
      maxBacklogBytes: 64 * 1024 * 1024,
      ...options,
    };
    mkdirSync(this.opts.dir, { recursive: true });
    if (this.opts.flushIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush(), this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Appends one record. Never throws and never waits; problems are counted and reported via `onError`. */
  write(rec: TapeRecord): void {
    if (this.closed) return this.drop(new Error('TapeWriter: write after close'));
    let line: string;
    try {
      line = encodeTapeRecord(rec) + '\n';
    } catch (err) {
      return this.report(err instanceof Error ? err : new Error(String(err)), true);
    }
    if (rec.t < this.lastT) {
      return this.report(new Error(`TapeWriter: tsInit went backwards (${rec.t} < ${this.lastT}), record from ${rec.s} refused`), true);
    }
    if (this.backlogBytes > this.opts.maxBacklogBytes) {
      if (!this.dropEpisode) this.report(new Error(`TapeWriter: disk backlog over ${this.opts.maxBacklogBytes} bytes, dropping records`));
      this.dropEpisode = true;
      this.counts.dropped++;
      return;
    }
    this.dropEpisode = false;
    const file = this.currentFile();
    if (file === undefined) return this.drop();
    this.lastT = rec.t;
    const n = Buffer.byteLength(line);
    this.batch.push(line);
    this.batchBytes += n;
    file.bytes += n;
    this.counts.records++;
    this.counts.bytes += n;
    if (this.batchBytes >= BATCH_BYTES) this.pushBatch(file);
  }

  /** Hands buffered lines to gzip and sync-flushes it; resolves once everything written so far is readable in the file. */
  flush(): Promise<void> {
    const file = this.file;
    if (file === undefined || file.failed) return Promise.resolve();
    this.pushBatch(file);
    return new Promise((resolve) =>
      file.gz.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        const settle = (): void => {
          if (file.failed || (file.gz.readableLength === 0 && file.out.writableLength === 0)) resolve();
          else setTimeout(settle, 1);
        };
        settle();
      }),
    );
  }

  /** Resolves once the bytes waiting for gzip and the disk are at most `targetBytes` (default: a quarter of `maxBacklogBytes`). */
  async drain(targetBytes = this.opts.maxBacklogBytes / 4): Promise<void> {
    const low = targetBytes;
    for (;;) {
      const file = this.file;
      if (file === undefined || file.failed) return;
      this.pushBatch(file);
      if (this.backlogBytes <= low) return;
      if (!file.gz.writableNeedDrain && !file.out.writableNeedDrain) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          file.gz.off('drain', done);
          file.out.off('drain', done);
          file.out.off('close', done);
          resolve();
        };
        file.gz.once('drain', done);
        file.out.once('drain', done);
        file.out.once('close', done);
      });
    }
  }

  /** Finishes the current file (complete gzip trailer) and waits for every file to be closed. Never rejects. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.timer !== undefined) clearInterval(this.timer);
      this.finishCurrent();
    }
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /** Bytes accepted but not yet on disk (batch + gzip input + file stream buffers). */
  get backlogBytes(): number {
    let n = this.batchBytes;
    const f = this.file;
    if (f !== undefined && !f.failed) n += f.gz.writableLength + f.out.writableLength;
    return n;
  }

  get stats(): TapeWriterStats {
    return { ...this.counts };
  }

  /** Paths of every file opened so far, oldest first. */
  get files(): readonly string[] {
    return this.paths;
  }

  private currentFile(): OpenFile | undefined {
    const now = this.opts.clock.now();
    const f = this.file;
    if (f !== undefined && !f.failed) {
      if (f.bytes < this.opts.rotateBytes && now - f.openedAtMs < this.opts.rotateMs) return f;
      this.finishCurrent();
    }
    if (now - this.failedAtMs < RETRY_AFTER_ERROR_MS) return undefined;
    this.file = this.open(now);
    return this.file;
  }

  private open(nowMs: number): OpenFile | undefined {
    const stamp = fileStamp(nowMs);
    let path: string;
    do {
      path = join(this.opts.dir, `${this.opts.prefix}-${stamp}-${String(this.seq++).padStart(4, '0')}.jsonl.gz`);
    } while (existsSync(path));
    const gz = createGzip({ level: this.opts.gzipLevel, chunkSize: 128 * 1024 });
    const out = createWriteStream(path, { flags: 'wx' });
    const closed = new Promise<void>((resolve) => {
      out.once('close', () => resolve());
      out.once('error', () => resolve());
    });
    const file: OpenFile = { path, gz, out, openedAtMs: nowMs, closed, bytes: 0, failed: false };
    const onStreamError = (err: Error) => this.fail(file, err);
    gz.on('error', onStreamError);
    out.on('error', onStreamError);
    gz.pipe(out);
    // Header metadata is operator-supplied (URLs, hosts): credentials in it are redacted, never written to a tape.
    const meta = Object.fromEntries(Object.entries(this.opts.meta ?? {}).map(([k, v]) => [k, typeof v === 'string' ? redactUrlsIn(v) : v]));
    const header = encodeTapeHeader(nowMs, meta) + '\n';
    const n = Buffer.byteLength(header);
    this.batch.push(header);
    this.batchBytes += n;
    file.bytes += n;
    this.counts.bytes += n;
    this.counts.files++;
    this.paths.push(path);
    return file;
  }

  private pushBatch(file: OpenFile): void {
    if (this.batchBytes === 0) return;
    const chunk = this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    if (!file.failed) file.gz.write(chunk);
  }

  private finishCurrent(): void {
    const file = this.file;
    this.file = undefined;
    if (file === undefined) return;
    this.pushBatch(file);
    if (!file.failed) file.gz.end();
    const p = file.closed.finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  private fail(file: OpenFile, err: Error): void {
    if (file.failed) return;
    file.failed = true;
    this.failedAtMs = this.opts.clock.now();
    if (this.file === file) {
      this.batch = [];
      this.batchBytes = 0;
    }
    this.report(new Error(`TapeWriter: ${file.path}: ${err.message}`));
    file.gz.unpipe(file.out);
    file.gz.destroy();
    file.out.destroy();
  }

  private drop(err?: Error): void {
    this.counts.dropped++;
    if (err !== undefined) this.report(err);
  }

  private report(err: Error, dropped = false): void {
    this.counts.errors++;
    if (dropped) this.counts.dropped++;
    try {
      this.opts.onError?.(err);
    } catch {
      // A throwing error handler must not turn a counted problem into a crash of the caller.
    }
  }
}

/** UTC `YYYYMMDDTHHmmssSSS`, which sorts lexicographically in time order. */
function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
}

/** Outcome of {@link writeTape}. */
export interface WriteTapeSummary {
  readonly files: readonly string[];
  readonly stats: TapeWriterStats;
  readonly elapsedMs: number;
}

/**
 * Writes a whole record stream (e.g. `simulateMarket(...)`) to a tape and closes it, awaiting the disk now
 * and then so nothing is dropped. Without a `clock`, tape time is the records' own `t`, so file names and
 * `rotateMs` follow the recorded day rather than the wall clock.
 */
export async function writeTape(
  records: Iterable<TapeRecord> | AsyncIterable<TapeRecord>,
  options: Omit<TapeWriterOptions, 'clock'> & { readonly clock?: Pick<Clock, 'now'> },
): Promise<WriteTapeSummary> {
  const startedMs = performance.now();
  let tapeNowMs = 0;
  const writer = new TapeWriter({ ...options, clock: options.clock ?? { now: () => tapeNowMs } });
  let n = 0;
  const accept = (rec: TapeRecord): boolean => {
    if (rec.t > tapeNowMs) tapeNowMs = rec.t;
    writer.write(rec);
    return ++n % 2048 === 0 && writer.backlogBytes > BULK_BACKLOG_BYTES;
  };
  if (Symbol.iterator in records) {
    for (const rec of records) if (accept(rec)) await writer.drain(BULK_BACKLOG_BYTES / 4);
  } else {
    for await (const rec of records) if (accept(rec)) await writer.drain(BULK_BACKLOG_BYTES / 4);
  }
  await writer.close();
  return { files: [...writer.files], stats: writer.stats, elapsedMs: performance.now() - startedMs };
}
