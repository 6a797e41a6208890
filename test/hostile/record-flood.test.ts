import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { replayTape } from '../../src/cli/replay.js';
import { startDaemon } from '../../src/cli/run.js';
import { gapDroppedCount, TAPE_GAP_KIND } from '../../src/core/tape-record.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../../src/core/spike-detector.js';
import { createLogger } from '../../src/sinks/logger.js';
import { TapeWriter } from '../../src/sinks/tape-writer.js';
import { readTape } from '../../src/streams/tape-reader.js';
import { startFakeBybit } from '../support/fake-bybit.js';
import { tickerDeltaFrame, tickerSnapshotFrame } from '../support/fake-bybit-ws.js';
import { Cleanups, waitFor } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

/** Frame records and the frames gap markers say are missing, as read back from `dir`. */
async function readBack(dir: string): Promise<{ frames: string[]; gaps: number; gapFrames: number; issues: number }> {
  const tape = readTape([dir]);
  const frames: string[] = [];
  let gaps = 0;
  let gapFrames = 0;
  for await (const rec of tape) {
    if (rec.k === TAPE_GAP_KIND) {
      gaps++;
      gapFrames += gapDroppedCount(rec.d);
    } else if (rec.k === undefined) frames.push(rec.d);
  }
  return { frames, gaps, gapFrames, issues: tape.stats.issueCount };
}

describe('hostile: --record under a flood (issue 7, defect 4)', () => {
  it('every frame of a flood is either on the tape or counted by a gap marker in its place; replay reports the gaps', async () => {
    const dir = tmp('ws-flood-tape-');
    const errors: string[] = [];
    let now = Date.UTC(2026, 5, 1);
    // A small backlog cap stands in for a disk slower than the flood.
    const writer = new TapeWriter({ dir, clock: { now: () => now }, maxBacklogBytes: 256 * 1024, onError: (e) => errors.push(e.message) });
    const total = 200_000;
    for (let i = 0; i < total; i++) {
      writer.write({ t: now, s: 'bybit-ws-1', d: tickerDeltaFrame('BTCUSDT', now, i) });
      if (i % 20_000 === 19_999) {
        now += 1000;
        await yieldToLoop();
        await writer.drain(0);
      }
    }
    await writer.close();
    const back = await readBack(dir);
    expect(back.issues).toBe(0);
    expect(back.gapFrames, 'the flood must have overrun the cap for this test to mean anything').toBeGreaterThan(0);
    expect(back.frames.length + back.gapFrames).toBe(total);
    expect(writer.stats).toMatchObject({ records: back.frames.length, gaps: back.gaps, gapFrames: back.gapFrames });
    // Frames that made it are in order: the gaps are holes, never reorderings.
    const seqs = back.frames.map((d) => Number(/"bid1Size":"(\d+)"/.exec(d)![1]));
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    // One line when drops start and a summary at close, not a line per burst.
    expect(errors.length).toBeLessThanOrEqual(2);
    expect(errors.at(-1)).toMatch(new RegExp(`${back.gapFrames} in ${back.gaps} gap`));

    const summary = await replayTape([dir], { symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } });
    expect(summary).toMatchObject({ frames: back.frames.length, tapeGaps: back.gaps, framesNotRecorded: back.gapFrames });
  }, 120_000);

  it('the daemon refuses an oversize WebSocket frame at the socket (counted, reconnects), records the rest, and exports drop metrics', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const tapeDir = tmp('ws-oversize-tape-');
    const config = loadConfig({
      DATA_DIR: tmp('ws-oversize-data-'),
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      ESTIMATOR_BOOTSTRAP_DAYS: '0',
      WS_MAX_FRAME_BYTES: '65536',
    });
    const d = await startDaemon(config, createLogger('silent'), { recordDir: tapeDir });
    cleanups.push(() => d.close());
    let delivered = 0;
    const sub = d.stream.frames$.subscribe(() => delivered++);
    cleanups.push(() => sub.unsubscribe());
    await waitFor('subscription', () => ws.subscribedTopics().includes('tickers.BTCUSDT'));

    const giant = tickerSnapshotFrame('BTCUSDT', Date.now(), 100).replace('"tickDirection":"PlusTick"', `"tickDirection":"${'x'.repeat(200_000)}"`);
    expect(ws.push('tickers.BTCUSDT', giant)).toBe(1);
    await waitFor('reconnect after the oversize frame', () => ws.accepted >= 2 && ws.subscribedTopics().includes('tickers.BTCUSDT'));
    expect(d.stream.stats()[0]!.oversizeFrames).toBe(1);

    // Good frames after it, and a flood, are recorded (or counted as gaps).
    const t = Date.now();
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', t, 123.45));
    ws.burst('BTCUSDT', 30_000);
    await waitFor('flood delivered', () => delivered >= 30_001, 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
    expect(metrics).toMatch(/whalestack_ws_oversize_frames_total\{connection="bybit-ws-1"\} 1/);
    expect(metrics).toMatch(/whalestack_tape_dropped_frames_total \d+/);
    expect(metrics).toMatch(/whalestack_tape_gaps_total \d+/);
    const view = (await (await fetch(`http://127.0.0.1:${d.port}/symbols/BTCUSDT`)).json()) as { features: { lastPrice: number } };
    expect(view.features.lastPrice).toBe(123.45);
    await d.close();

    const back = await readBack(tapeDir);
    expect(back.frames.some((f) => f.length > 65_536)).toBe(false);
    expect(back.frames.length + back.gapFrames).toBe(delivered);
  }, 120_000);
});
