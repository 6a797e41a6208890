import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { replayTape, type ReplaySummary } from '../src/cli/replay.js';
import type { EngineOutput } from '../src/engine/engine.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { simulateMarket, type MarketSimOptions } from '../src/streams/market-simulator.js';

const START = Date.UTC(2026, 0, 1);
const SIM: MarketSimOptions = {
  seed: 'replay-determinism',
  symbolCount: 12,
  startMs: START,
  durationMs: 25 * 60_000,
  scenarios: [
    { symbol: 'SYM002USDT', kind: 'pump', startMs: START + 16 * 60_000, durationMs: 4 * 60_000, movePct: 9, oiChangePct: 8, volumeMult: 4 },
    { symbol: 'SYM005USDT', kind: 'dump', startMs: START + 17 * 60_000, durationMs: 3 * 60_000, movePct: 8, oiChangePct: 6, volumeMult: 4 },
    { symbol: 'SYM007USDT', kind: 'quiet', startMs: START, durationMs: 25 * 60_000 },
  ],
};
const symbol = { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS };

let oneFile: string;
let rotated: string;
let reference: ReplaySummary;
let referenceOutputs: EngineOutput[];

beforeAll(async () => {
  oneFile = mkdtempSync(path.join(tmpdir(), 'ws-replay-a-'));
  rotated = mkdtempSync(path.join(tmpdir(), 'ws-replay-b-'));
  await writeTape(simulateMarket(SIM), { dir: oneFile });
  await writeTape(simulateMarket(SIM), { dir: rotated, rotateBytes: 2 * 1024 * 1024 });
  referenceOutputs = [];
  reference = await replayTape([oneFile], { symbol, onOutput: (e) => referenceOutputs.push(e) });
}, 120_000);

describe('replay', () => {
  it('detects the scripted pump and dump on their symbols and nothing on the quiet one', () => {
    const spikes = referenceOutputs.filter((e) => e.kind === 'spike');
    const spikeSymbols = new Set(spikes.map((e) => e.symbol));
    expect(spikeSymbols.has('SYM002USDT')).toBe(true);
    expect(spikeSymbols.has('SYM005USDT')).toBe(true);
    expect(spikeSymbols.has('SYM007USDT')).toBe(false);
    const pump = spikes.find((e) => e.symbol === 'SYM002USDT' && e.kind === 'spike')!;
    expect(pump.kind === 'spike' && pump.tsEvent).toBeGreaterThanOrEqual(START + 16 * 60_000);
    expect(reference.badFrames).toBe(0);
    expect(reference.symbols).toBe(12);
    expect(reference.bars).toBeGreaterThan(12 * 20);
  });

  it('gives byte-identical output when replayed again, from rotated files, or read in any chunk size', async () => {
    const again = await replayTape([oneFile], { symbol });
    expect(again.outputDigest).toBe(reference.outputDigest);
    const fromRotated = await replayTape([rotated], { symbol });
    expect(fromRotated.outputDigest).toBe(reference.outputDigest);
    expect(fromRotated.frames).toBe(reference.frames);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 4096, max: 256 * 1024 }), async (highWaterMark) => {
        const chunked = await replayTape([rotated], { symbol, highWaterMark });
        expect(chunked.outputDigest).toBe(reference.outputDigest);
      }),
      { seed: 77, numRuns: 3 },
    );
  }, 120_000);

  it('the digest changes when the decisions change (the comparison can fail)', async () => {
    const other = await replayTape([oneFile], { symbol: { horizonSec: 3600, spike: { ...DEFAULT_SPIKE_THRESHOLDS, price1mPct: 1 } } });
    expect(other.outputDigest).not.toBe(reference.outputDigest);
  }, 60_000);
});
