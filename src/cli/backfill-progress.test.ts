import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackfillProgressDisplay } from './backfill-progress.js';

const progress = (done: number) => ({ symbolsTotal: 4, symbolsDone: done, symbolsFailed: 0, rowsWritten: done * 100, rowsFetched: done * 100, requests: done * 10, rateLimited: 1 });

describe('backfill progress display', () => {
  it('without a terminal writes a plain line at most every lineEveryMs, with an ETA, and a last line on stop', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += String(d)));
    let now = 0;
    const display = new BackfillProgressDisplay({ stream: out, isTTY: false, now: () => now, lineEveryMs: 5_000 }, 4);
    now = 1_000;
    display.update(progress(1));
    now = 3_000;
    display.update(progress(2)); // within 5 s of the last line: not written
    now = 7_000;
    display.update(progress(3));
    display.stop();
    const lines = text.trim().split('\n');
    expect(lines).toEqual([
      'backfill: 1/4 coins (0 failed), 100 rows stored, 10 requests (10.0/s, 1 rate-limited), ETA 3 s',
      'backfill: 3/4 coins (0 failed), 300 rows stored, 30 requests (4.3/s, 1 rate-limited), ETA 2 s',
      'backfill: 3/4 coins (0 failed), 300 rows stored, 30 requests (4.3/s, 1 rate-limited), ETA 2 s',
    ]);
    expect(text).not.toContain('\r');
  });

  it('on a terminal draws a cli-progress bar with coins, rows, rate, rate-limit replies and ETA', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let text = '';
    out.on('data', (d) => (text += String(d)));
    const display = new BackfillProgressDisplay({ stream: out as unknown as NodeJS.WriteStream, isTTY: true, now: () => 1_000 }, 4);
    display.update(progress(2));
    display.stop();
    expect(text).toMatch(/backfill \|.*\| 2\/4 coins \| 200 rows \| [0-9.]+ req\/s \| 1 rate-limited \| ETA /);
  });
});
