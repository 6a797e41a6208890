import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Append-only on-disk spill journal for rows the database cannot take right now.
 *
 * A journal is a directory of numbered segment files. Each record is one batch of COPY lines for one table,
 * framed as `[u32 LE payload length][u32 LE crc32(payload)][payload]`; the payload is the table name, a
 * newline, then the lines. A crash mid-append leaves a torn tail: reading stops at the first frame that is
 * short or fails its checksum, counts it and goes on with the next segment, so a torn record is never
 * replayed as garbage. Segments are fsynced when closed (at `maxSegmentBytes`, before being drained, and on
 * `close()`); fully drained segments are deleted. Records come back strictly in append order, across restarts.
 *
 * Synchronous on purpose: `append` is called from the writer's synchronous `enqueue` when the memory bound is
 * hit, and an amortized sequential write is cheaper than making every producer await.
 */

export interface JournalRecord {
  readonly table: string;
  readonly lines: readonly string[];
}

export interface SpillJournalOptions {
  readonly dir: string;
  readonly maxSegmentBytes?: number;
  /** Told about torn or corrupt tails found while reading. */
  readonly onCorruption?: (segment: string, detail: string) => void;
}

const HEADER_BYTES = 8;
const SEGMENT_RE = /^segment-(\d{10})\.wsj$/;

interface LoadedSegment {
  readonly file: string;
  readonly records: JournalRecord[];
  next: number;
}

export class SpillJournal {
  private readonly dir: string;
  private readonly maxSegmentBytes: number;
  private readonly closedSegments: string[] = [];
  private activeFd: number | undefined;
  private activeFile: string | undefined;
  private activeBytes = 0;
  private nextSegmentNo: number;
  private loaded: LoadedSegment | undefined;
  private rows = 0;
  private corruptRecords = 0;

  constructor(private readonly options: SpillJournalOptions) {
    this.dir = options.dir;
    this.maxSegmentBytes = options.maxSegmentBytes ?? 16 * 1024 * 1024;
    fs.mkdirSync(this.dir, { recursive: true });
    const existing = fs
      .readdirSync(this.dir)
      .filter((f) => SEGMENT_RE.test(f))
      .sort();
    let maxNo = 0;
    for (const f of existing) {
      maxNo = Math.max(maxNo, Number(SEGMENT_RE.exec(f)?.[1] ?? 0));
      const file = path.join(this.dir, f);
      this.closedSegments.push(file);
      for (const r of this.readSegment(file, false)) this.rows += r.lines.length;
    }
    this.nextSegmentNo = maxNo + 1;
  }

  /** Rows currently stored in the journal (not yet acknowledged). */
  get spilledRows(): number {
    return this.rows;
  }

  /** Records dropped because their frame was torn or failed its checksum. */
  get corruptRecordCount(): number {
    return this.corruptRecords;
  }

  get isEmpty(): boolean {
    return this.rows === 0;
  }

  /** Appends one batch; returns once the bytes are in the OS (fsync happens on segment close). */
  append(table: string, lines: readonly string[]): void {
    if (lines.length === 0) return;
    const payload = Buffer.from(`${table}\n${lines.join('')}`, 'utf8');
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    if (this.activeFd === undefined) this.openSegment();
    const fd = this.activeFd as number;
    fs.writeSync(fd, header);
    fs.writeSync(fd, payload);
    this.activeBytes += HEADER_BYTES + payload.length;
    this.rows += lines.length;
    if (this.activeBytes >= this.maxSegmentBytes) this.closeActive();
  }

  /** The oldest record not yet acknowledged, without removing it. */
  peek(): JournalRecord | undefined {
    for (;;) {
      if (this.loaded && this.loaded.next < this.loaded.records.length) return this.loaded.records[this.loaded.next];
      if (this.loaded) {
        fs.rmSync(this.loaded.file, { force: true });
        this.loaded = undefined;
      }
      if (this.closedSegments.length === 0 && this.activeFile !== undefined) this.closeActive();
      const file = this.closedSegments.shift();
      if (file === undefined) return undefined;
      this.loaded = { file, records: this.readSegment(file), next: 0 };
    }
  }

  /** Removes the record returned by the last `peek()` (it was written to the database). */
  ack(): void {
    const seg = this.loaded;
    if (!seg || seg.next >= seg.records.length) throw new Error('SpillJournal.ack without a peeked record');
    const rec = seg.records[seg.next];
    seg.next += 1;
    this.rows -= rec?.lines.length ?? 0;
    if (seg.next >= seg.records.length) {
      fs.rmSync(seg.file, { force: true });
      this.loaded = undefined;
    }
  }

  /** Fsyncs and closes the segment being appended to. Records stay on disk for the next process. */
  close(): void {
    this.closeActive();
  }

  private openSegment(): void {
    const name = `segment-${String(this.nextSegmentNo++).padStart(10, '0')}.wsj`;
    this.activeFile = path.join(this.dir, name);
    this.activeFd = fs.openSync(this.activeFile, 'a');
    this.activeBytes = 0;
  }

  private closeActive(): void {
    if (this.activeFd === undefined || this.activeFile === undefined) return;
    fs.fsyncSync(this.activeFd);
    fs.closeSync(this.activeFd);
    this.closedSegments.push(this.activeFile);
    this.activeFd = undefined;
    this.activeFile = undefined;
    this.activeBytes = 0;
    this.fsyncDir();
  }

  private fsyncDir(): void {
    try {
      const fd = fs.openSync(this.dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Directory fsync is not supported everywhere (e.g. some network filesystems); the data fsync stands.
    }
  }

  private readSegment(file: string, report = true): JournalRecord[] {
    const buf = fs.readFileSync(file);
    const records: JournalRecord[] = [];
    let off = 0;
    while (off < buf.length) {
      if (buf.length - off < HEADER_BYTES) {
        if (report) this.reportTorn(file, `torn header at byte ${off}`);
        break;
      }
      const len = buf.readUInt32LE(off);
      const sum = buf.readUInt32LE(off + 4);
      if (buf.length - off - HEADER_BYTES < len) {
        if (report) this.reportTorn(file, `torn record at byte ${off} (needs ${len} bytes)`);
        break;
      }
      const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
      if (crc32(payload) !== sum) {
        if (report) this.reportTorn(file, `checksum mismatch at byte ${off}`);
        break;
      }
      const text = payload.toString('utf8');
      const nl = text.indexOf('\n');
      const body = text.slice(nl + 1);
      const lines = body.length === 0 ? [] : body.split(/(?<=\n)/);
      records.push({ table: text.slice(0, nl), lines });
      off += HEADER_BYTES + len;
    }
    return records;
  }

  private reportTorn(file: string, detail: string): void {
    this.corruptRecords += 1;
    this.options.onCorruption?.(path.basename(file), detail);
  }
}
