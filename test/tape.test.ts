import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { firstValueFrom, toArray } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeTapeHeader, encodeTapeRecord, type TapeRecord } from '../src/core/tape-record.js';
import { TapeWriter, writeTape } from '../src/sinks/tape-writer.js';
import { readTape, tape$, type TapeIssue, type TapeReadOptions } from '../src/streams/tape-reader.js';

const SEED = 424242;
const root = mkdtempSync(join(tmpdir(), 'whalestack-tape-'));
let dirSeq = 0;
const freshDir = (): string => {
  const dir = join(root, `d${dirSeq++}`);
  mkdirSync(dir);
  return dir;
};
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Deterministic records with growing t, awkward text and the occasional http reply. */
function sampleRecords(n: number, seed: number): TapeRecord[] {
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', '"', '\\', '\n', 'é', '😀', '{', '}', ' ', '\u2028'), maxLength: 120 });
  const parts = fc.sample(fc.tuple(fc.double({ min: 0, max: 50, noNaN: true }), text, fc.boolean()), { seed, numRuns: n });
  let t = 1786310817583;
  return parts.map(([dt, d, http], i) => {
    t += dt;
    return http ? { t, s: 'bybit-rest', k: 'http', u: `https://api.bybit.com/v5/market/tickers?category=linear&n=${i}`, d } : { t, s: `bybit-ws-${i % 3}`, d };
  });
}

async function collect(paths: string[], opts: TapeReadOptions = {}): Promise<{ records: TapeRecord[]; issues: TapeIssue[] }> {
  const issues: TapeIssue[] = [];
  const records: TapeRecord[] = [];
  for await (const r of readTape(paths, { ...opts, onIssue: (i) => issues.push(i) })) records.push(r);
  return { records, issues };
}

/** A hand-made tape file: the given lines, gzipped. */
function gzFile(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, gzipSync(lines.map((l) => l + '\n').join('')));
  return path;
}

async function writeAll(records: TapeRecord[], dir: string, rotateBytes = 256 * 1024 * 1024): Promise<TapeWriter> {
  let now = 1786310817583;
  const writer = new TapeWriter({ dir, rotateBytes, clock: { now: () => now++ }, meta: { test: true } });
  for (const r of records) writer.write(r);
  await writer.close();
  return writer;
}

describe('TapeWriter → readTape', () => {
  it('roundtrips records across rotation, with sortable names and a header in every file', async () => {
    const dir = freshDir();
    const records = sampleRecords(600, SEED);
    const errors: Error[] = [];
    let now = 1786310817583;
    const writer = new TapeWriter({ dir, rotateBytes: 8 * 1024, clock: { now: () => now++ }, onError: (e) => errors.push(e) });
    records.forEach((r, i) => {
      writer.write(r);
      if (i === 300) void writer.flush();
    });
    await writer.close();
    expect(errors).toEqual([]);
    const names = readdirSync(dir);
    expect(names.length).toBeGreaterThan(3);
    expect(writer.stats.files).toBe(names.length);
    expect(writer.stats.records).toBe(records.length);
    expect([...names].sort()).toEqual(writer.files.map((f) => f.slice(dir.length + 1)));
    for (const n of names) {
      expect(n).toMatch(/^tape-\d{8}T\d{9}-\d{4}\.jsonl\.gz$/);
      const text = gunzipSync(readFileSync(join(dir, n))).toString('utf8');
      expect(text.split('\n')[0]).toMatch(/^\{"whalestack":"tape","v":1,"startedAt":\d+,"meta":\{\}\}$/);
      expect(text.endsWith('\n')).toBe(true);
    }
    const uncompressed = names.reduce((sum, n) => sum + gunzipSync(readFileSync(join(dir, n))).length, 0);
    expect(writer.stats.bytes).toBe(uncompressed);
    const { records: back, issues } = await collect([dir]);
    expect(issues).toEqual([]);
    expect(back).toEqual(records);
  });

  it(`gives identical records for any chunk size 1..64 KiB (seed ${SEED})`, async () => {
    const dir = freshDir();
    const records = sampleRecords(150, SEED + 1);
    await writeAll(records, dir, 4 * 1024);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 65536 })), async (highWaterMark) => {
        const { records: back, issues } = await collect([dir], { highWaterMark });
        expect(issues).toEqual([]);
        expect(back).toEqual(records);
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  it('refuses records with credentials in the url, or going back in time, and reports instead of throwing', async () => {
    const dir = freshDir();
    const errors: string[] = [];
    const writer = new TapeWriter({ dir, clock: { now: () => 1 }, onError: (e) => errors.push(e.message) });
    writer.write({ t: 10, s: 'bybit-rest', k: 'http', u: 'https://api.bybit.com/v5/order/create?api_key=k&sign=s', d: '{}' });
    writer.write({ t: 10, s: 'bybit-ws-0', d: 'a' });
    writer.write({ t: 9, s: 'bybit-ws-0', d: 'b' });
    writer.write({ t: Number.NaN, s: 'bybit-ws-0', d: 'c' });
    writer.write({ t: 11, s: 'bybit-ws-0', d: 'd' });
    await writer.close();
    writer.write({ t: 12, s: 'bybit-ws-0', d: 'after close' });
    expect(errors).toHaveLength(4);
    expect(errors[0]).toMatch(/secret/);
    expect(errors[1]).toMatch(/backwards/);
    expect(errors[3]).toMatch(/after close/);
    expect(writer.stats).toMatchObject({ records: 2, errors: 4, dropped: 4, files: 1 });
    const { records } = await collect([dir]);
    expect(records.map((r) => r.d)).toEqual(['a', 'd']);
  });

  it('reports a disk error through onError and never throws into the caller', async () => {
    const dir = freshDir();
    const errors: string[] = [];
    const writer = new TapeWriter({ dir, clock: { now: () => 1 }, onError: (e) => errors.push(e.message) });
    rmSync(dir, { recursive: true });
    expect(() => writer.write({ t: 1, s: 'sim', d: 'x' })).not.toThrow();
    await writer.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/ENOENT/);
    expect(writer.stats.errors).toBeGreaterThan(0);
  });

  it('after flush() a file still being written (or left by a crash) reads back up to the flush, tail reported', async () => {
    const dir = freshDir();
    const records = sampleRecords(500, SEED + 5);
    const writer = new TapeWriter({ dir, clock: { now: () => 1786310817583 }, flushIntervalMs: 0 });
    for (const r of records) writer.write(r);
    await writer.flush();
    const { records: back, issues } = await collect([dir]);
    expect(back).toEqual(records);
    expect(issues.map((i) => i.kind)).toEqual(['truncated']);
    await writer.close();
    expect((await collect([dir])).issues).toEqual([]);
  });

  it('drops and counts records while the disk backlog is over the cap, marks the run in the tape, logs a line then a summary', async () => {
    const dir = freshDir();
    const errors: string[] = [];
    const writer = new TapeWriter({ dir, clock: { now: () => 1 }, maxBacklogBytes: 1, onError: (e) => errors.push(e.message) });
    for (let i = 0; i < 50; i++) writer.write({ t: i, s: 'sim', d: 'x'.repeat(100) });
    await writer.close();
    expect(writer.stats).toMatchObject({ records: 1, dropped: 49, gaps: 1, gapFrames: 49 });
    // One line when the drops start, one summary with the count when the writer closes; never one per frame.
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/backlog/);
    expect(errors[1]).toMatch(/dropped 48 frame\(s\) since the last report; 49 in 1 gap\(s\)/);
    const back = (await collect([dir])).records;
    expect(back.map((r) => [r.t, r.k ?? 'frame'])).toEqual([
      [0, 'frame'],
      [1, 'gap'],
    ]);
    expect(JSON.parse(back[1]!.d)).toMatchObject({ dropped: 49, fromT: 1, toT: 49 });
  });

  it('writeTape writes a whole stream and the reader gives it back', async () => {
    const dir = freshDir();
    const records = sampleRecords(400, SEED + 2);
    const summary = await writeTape(records, { dir, rotateBytes: 16 * 1024 });
    expect(summary.stats.records).toBe(400);
    expect(summary.files.length).toBe(summary.stats.files);
    expect(summary.files[0]).toContain(`tape-20260809T212657583-0000.jsonl.gz`);
    expect((await collect([dir])).records).toEqual(records);
    expect(await firstValueFrom(tape$([dir]).pipe(toArray()))).toEqual(records);
  });
});

describe('readTape on damaged input', () => {
  const header = encodeTapeHeader(1);
  const rec = (t: number, d = `r${t}`): string => encodeTapeRecord({ t, s: 'sim', d });

  it('counts a corrupt line, reports it with file:line and keeps going', async () => {
    const dir = freshDir();
    const file = gzFile(dir, 'tape-a.jsonl.gz', [header, rec(1), '{"t":2,"s":"sim","d":', '{"t":"x"}', rec(3)]);
    const read = readTape([file]);
    const seen: TapeRecord[] = [];
    for await (const r of read) seen.push(r);
    expect(seen.map((r) => r.t)).toEqual([1, 3]);
    expect(read.stats).toMatchObject({ files: 1, lines: 5, records: 2, issueCount: 2 });
    expect(read.stats.issues.map((i) => [i.kind, i.file, i.line])).toEqual([
      ['bad-line', file, 3],
      ['bad-line', file, 4],
    ]);
  });

  it('skips (does not clamp) a record whose tsInit goes backwards, also across files', async () => {
    const dir = freshDir();
    const a = gzFile(dir, 'tape-1.jsonl.gz', [header, rec(1), rec(2), rec(1.5), rec(3)]);
    const b = gzFile(dir, 'tape-2.jsonl.gz', [header, rec(2.5), rec(4)]);
    const { records, issues } = await collect([dir]);
    expect(records.map((r) => r.t)).toEqual([1, 2, 3, 4]);
    expect(issues.map((i) => [i.kind, i.file, i.line])).toEqual([
      ['backwards', a, 4],
      ['backwards', b, 2],
    ]);
  });

  it('returns the records before a truncated gzip tail and reports the truncation', async () => {
    const dir = freshDir();
    const records = sampleRecords(2000, SEED + 3);
    const writer = await writeAll(records, dir);
    const full = writer.files[0] as string;
    const bytes = readFileSync(full);
    const cut = join(dir, 'cut.jsonl.gz');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    rmSync(full);
    const { records: back, issues } = await collect([cut]);
    expect(back.length).toBeGreaterThan(200);
    expect(back.length).toBeLessThan(records.length);
    expect(back).toEqual(records.slice(0, back.length));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'truncated', file: cut, line: back.length + 2 });
  });

  it('reads records of a file without header, skips a file of an unknown version, reports missing paths', async () => {
    const dir = freshDir();
    gzFile(dir, 'tape-1.jsonl.gz', [rec(1), rec(2)]);
    gzFile(dir, 'tape-2.jsonl.gz', ['{"whalestack":"tape","v":9,"startedAt":1,"meta":{}}', rec(5)]);
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const missing = join(dir, 'nope.jsonl.gz');
    const { records, issues } = await collect([dir, missing]);
    expect(records.map((r) => r.t)).toEqual([1, 2]);
    expect(issues.map((i) => i.kind)).toEqual(['io', 'missing-header', 'bad-header']);
    expect(issues[0]?.file).toBe(missing);
  });

  it('stops reading when the consumer stops (unsubscribe closes the file)', async () => {
    const dir = freshDir();
    await writeAll(sampleRecords(5000, SEED + 4), dir);
    let n = 0;
    for await (const r of readTape([dir])) {
      expect(r.s.length).toBeGreaterThan(0);
      if (++n === 10) break;
    }
    expect(n).toBe(10);
  });
});
