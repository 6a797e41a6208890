import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SpillJournal, type JournalRecord } from '../src/sinks/db/journal.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-journal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function drain(j: SpillJournal): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (let r = j.peek(); r !== undefined; r = j.peek()) {
    out.push(r);
    j.ack();
  }
  return out;
}

const segments = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.wsj')).sort();

describe('SpillJournal', () => {
  it('returns records in append order across segments and restarts, then deletes drained segments', () => {
    const seed = 424242;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('market_bars_1m', 'liquidations', 'signals'), fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 8 })), { maxLength: 30 }),
        fc.integer({ min: 64, max: 4096 }),
        fc.integer({ min: 0, max: 30 }),
        (batches, maxSegmentBytes, restartAt) => {
          const dir = tmp();
          const records = batches.map(([table, texts]) => ({ table, lines: texts.map((t) => `${t.replace(/[\n\\]/g, '')}\t1\n`) }));
          let j = new SpillJournal({ dir, maxSegmentBytes });
          records.forEach((r, i) => {
            if (i === restartAt) {
              j.close();
              j = new SpillJournal({ dir, maxSegmentBytes });
            }
            j.append(r.table, r.lines);
          });
          expect(j.spilledRows).toBe(records.reduce((n, r) => n + r.lines.length, 0));
          j.close();
          const reopened = new SpillJournal({ dir, maxSegmentBytes });
          expect(drain(reopened)).toEqual(records);
          expect(reopened.spilledRows).toBe(0);
          expect(segments(dir)).toEqual([]);
        },
      ),
      { seed, numRuns: 60 },
    );
  });

  it('detects a torn tail and a corrupted record and keeps every intact record before them', () => {
    const dir = tmp();
    const j = new SpillJournal({ dir });
    j.append('signals', ['a\t1\n', 'b\t2\n']);
    j.append('signals', ['c\t3\n']);
    j.append('signals', ['d\t4\n']);
    j.close();
    const [seg] = segments(dir);
    const file = path.join(dir, seg as string);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    const corrupt: string[] = [];
    const torn = new SpillJournal({ dir, onCorruption: (_s, detail) => corrupt.push(detail) });
    expect(torn.spilledRows).toBe(3);
    expect(drain(torn)).toEqual([
      { table: 'signals', lines: ['a\t1\n', 'b\t2\n'] },
      { table: 'signals', lines: ['c\t3\n'] },
    ]);
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]).toMatch(/torn record/);

    const dir2 = tmp();
    const k = new SpillJournal({ dir: dir2 });
    k.append('liquidations', ['x\t1\n']);
    k.append('liquidations', ['y\t2\n']);
    k.close();
    const file2 = path.join(dir2, segments(dir2)[0] as string);
    const bytes = fs.readFileSync(file2);
    const at = bytes.length - 2;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    fs.writeFileSync(file2, bytes);
    const flipped = new SpillJournal({ dir: dir2 });
    expect(drain(flipped)).toEqual([{ table: 'liquidations', lines: ['x\t1\n'] }]);
    expect(flipped.corruptRecordCount).toBe(1);
  });
});
