import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { Observable } from 'rxjs';
import { decodeTapeHeader, decodeTapeRecord, type TapeHeader, type TapeRecord } from '../core/tape-record.js';

/**
 * - `bad-line`: not JSON or not a record; skipped.
 * - `backwards`: `t` below the previous record of the tape set; skipped (not clamped: the tape is broken).
 * - `missing-header`: first line of a file is not a header; its records are still read.
 * - `bad-header`: a header of an unsupported version; the whole file is skipped.
 * - `truncated`: the gzip stream ends early (crash while recording); records before it are kept.
 * - `corrupt`: other gzip data errors; records before it are kept, the rest of the file is skipped.
 * - `io`: missing or unreadable path.
 */
export type TapeIssueKind = 'bad-line' | 'backwards' | 'missing-header' | 'bad-header' | 'truncated' | 'corrupt' | 'io';

/** One problem found while reading; `line` is 1-based within `file` (the header is line 1), 0 when not line-specific. */
export interface TapeIssue {
  readonly kind: TapeIssueKind;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface TapeReadOptions {
  /** Read-stream chunk size, and the largest piece the line splitter is handed (tests use 1..64 KiB). */
  readonly highWaterMark?: number;
  /** Called for each issue as it is found. */
  readonly onIssue?: (issue: TapeIssue) => void;
}

/** Counters of the last (or running) iteration. `issues` keeps the first 100 for messages. */
export interface TapeReadStats {
  files: number;
  lines: number;
  records: number;
  issueCount: number;
  readonly issues: TapeIssue[];
  readonly headers: { readonly file: string; readonly header: TapeHeader }[];
}

/** An async-iterable tape; each iteration starts over and resets `stats`. */
export interface TapeRead extends AsyncIterable<TapeRecord> {
  readonly stats: TapeReadStats;
}

const QUEUE_HIGH = 4096;
const KEEP_ISSUES = 100;

/**
 * Streams the records of a tape set in order: gunzip, split on `\n`, validate, check that tsInit never goes
 * backwards across all files. Directories expand to their `*.jsonl.gz`/`*.jsonl` files sorted by name (the
 * writer's names sort in time order); explicit files keep the order given. Bad input never throws: it is
 * counted in `stats`, reported through `onIssue` with file:line, and skipped (see {@link TapeIssueKind}).
 * Memory stays bounded: the file is paused while more than a few thousand records wait for the consumer.
 */
export function readTape(paths: readonly string[], options: TapeReadOptions = {}): TapeRead {
  const stats = freshStats();
  return {
    stats,
    async *[Symbol.asyncIterator](): AsyncIterator<TapeRecord> {
      stats.files = stats.lines = stats.records = stats.issueCount = 0;
      stats.issues.length = 0;
      stats.headers.length = 0;
      const report = (issue: TapeIssue): void => {
        stats.issueCount++;
        if (stats.issues.length < KEEP_ISSUES) stats.issues.push(issue);
        options.onIssue?.(issue);
      };
      const ctx: ReadContext = { lastT: -Infinity, stats, report, highWaterMark: options.highWaterMark };
      for (const file of await listTapeFiles(paths, report)) {
        stats.files++;
        yield* readOneFile(file, ctx);
      }
    },
  };
}

/** The same records as an Observable; unsubscribing stops reading and closes the file. */
export function tape$(paths: readonly string[], options: TapeReadOptions = {}): Observable<TapeRecord> {
  return new Observable<TapeRecord>((subscriber) => {
    const it = readTape(paths, options)[Symbol.asyncIterator]();
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (stopped) return;
          if (r.done === true) return subscriber.complete();
          subscriber.next(r.value);
        }
      } catch (err) {
        subscriber.error(err);
      }
    })();
    return () => {
      stopped = true;
      void it.return?.();
    };
  });
}

/** Expands directories into their tape files (sorted by name); missing paths are reported as `io` issues. */
export async function listTapeFiles(paths: readonly string[], report: (issue: TapeIssue) => void = () => {}): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    try {
      if ((await stat(p)).isDirectory()) {
        const names = (await readdir(p)).filter((n) => n.endsWith('.jsonl.gz') || n.endsWith('.jsonl')).sort();
        for (const n of names) out.push(join(p, n));
      } else {
        out.push(p);
      }
    } catch (err) {
      report({ kind: 'io', file: p, line: 0, message: errorText(err) });
    }
  }
  return out;
}

interface ReadContext {
  lastT: number;
  readonly stats: TapeReadStats;
  readonly report: (issue: TapeIssue) => void;
  readonly highWaterMark: number | undefined;
}

async function* readOneFile(file: string, ctx: ReadContext): AsyncGenerator<TapeRecord> {
  const hwm = ctx.highWaterMark;
  const src = createReadStream(file, hwm === undefined ? {} : { highWaterMark: hwm });
  const gz = file.endsWith('.gz') ? createGunzip(hwm === undefined ? {} : { chunkSize: Math.max(64, hwm) }) : undefined;
  const queue: TapeRecord[] = [];
  let head = 0;
  let lineNo = 0;
  let carry: Buffer[] = [];
  let ended = false;
  let gzFull = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const issue = (kind: TapeIssueKind, line: number, message: string): void => ctx.report({ kind, file, line, message });
  const stop = (): void => {
    ended = true;
    src.destroy();
    gz?.destroy();
    notify();
  };

  const onLine = (text: string): void => {
    lineNo++;
    ctx.stats.lines++;
    if (lineNo === 1) {
      const h = decodeTapeHeader(text);
      if (h.ok) {
        ctx.stats.headers.push({ file, header: h.value });
        return;
      }
      if (!h.reason.startsWith('not a header')) {
        issue('bad-header', 1, `${h.reason}; file skipped`);
        return stop();
      }
      issue('missing-header', 1, 'first line is not a tape header; reading records anyway');
    }
    const r = decodeTapeRecord(text);
    if (!r.ok) return issue('bad-line', lineNo, r.reason);
    if (r.value.t < ctx.lastT) {
      return issue('backwards', lineNo, `tsInit ${r.value.t} is before the previous record's ${ctx.lastT}; record skipped`);
    }
    ctx.lastT = r.value.t;
    ctx.stats.records++;
    queue.push(r.value);
  };

  const onBytes = (chunk: Buffer): void => {
    if (ended) return;
    const piece = hwm ?? chunk.length;
    for (let i = 0; i < chunk.length && !ended; i += piece) splitLines(chunk.subarray(i, i + piece));
    if (queue.length - head >= QUEUE_HIGH) src.pause();
    notify();
  };

  const splitLines = (buf: Buffer): void => {
    let from = 0;
    for (let nl = buf.indexOf(10, from); nl >= 0 && !ended; nl = buf.indexOf(10, from)) {
      const part = buf.subarray(from, nl);
      const line = carry.length === 0 ? part : Buffer.concat([...carry, part]);
      carry = [];
      from = nl + 1;
      onLine(line.toString('utf8'));
    }
    if (from < buf.length && !ended) carry.push(Buffer.from(buf.subarray(from)));
  };

  const onEnd = (): void => {
    if (ended) return;
    if (carry.length > 0) {
      const last = Buffer.concat(carry).toString('utf8');
      carry = [];
      onLine(last);
    }
    ended = true;
    notify();
  };

  const onError = (err: Error & { code?: string }): void => {
    if (ended) return;
    const partial = carry.length > 0 ? `; partial line ${lineNo + 1} dropped` : '';
    if (err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) {
      issue('truncated', lineNo + 1, `gzip stream ends early after ${lineNo} complete lines${partial}`);
    } else if (gz !== undefined && typeof err.code === 'string' && err.code.startsWith('Z_')) {
      issue('corrupt', lineNo + 1, `gzip data error (${err.message}) after ${lineNo} lines; rest of file skipped${partial}`);
    } else {
      issue('io', lineNo, errorText(err));
    }
    carry = [];
    stop();
  };

  src.on('error', onError);
  if (gz === undefined) {
    src.on('data', (chunk: Buffer | string) => onBytes(toBuffer(chunk)));
    src.on('end', onEnd);
  } else {
    gz.on('error', onError);
    gz.on('data', onBytes);
    gz.on('end', onEnd);
    gz.on('drain', () => {
      gzFull = false;
      if (queue.length - head < QUEUE_HIGH) src.resume();
    });
    src.on('data', (chunk: Buffer | string) => {
      if (!gz.write(chunk)) {
        gzFull = true;
        src.pause();
      }
    });
    src.on('end', () => gz.end());
  }

  try {
    for (;;) {
      while (head < queue.length) yield queue[head++] as TapeRecord;
      queue.length = 0;
      head = 0;
      if (ended) return;
      if (!gzFull && src.isPaused()) src.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    src.destroy();
    gz?.destroy();
  }
}

function freshStats(): TapeReadStats {
  return { files: 0, lines: 0, records: 0, issueCount: 0, issues: [], headers: [] };
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
