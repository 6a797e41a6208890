import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { replayTape, type ReplaySummary } from '../src/cli/replay.js';
import { replaySharded } from '../src/cli/replay-sharded.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import type { EngineOutput } from '../src/engine/engine.js';
import { frameSymbol, shardOf } from '../src/engine/shard-engine.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { SIMULATED_MARKET_LIQUIDITY, simulateMarket, type MarketSimOptions } from '../src/streams/market-simulator.js';
import { BIN, runCli } from './support/run-cli.js';

const SEED = 20261207;
const START = Date.UTC(2026, 0, 1);
const MIN = 60_000;
// The signal scenario of test/signal-scenarios.test.ts: the ranker arms SYM003USDT on the coin's own estimate
// and the pump fires a signal, so arm/disarm commands must cross from the coordinator to the owning shard.
const SIM: MarketSimOptions = {
  seed: 's1',
  symbolCount: 10,
  startMs: START,
  durationMs: 50 * MIN,
  scenarios: [
    { symbol: 'SYM003USDT', kind: 'dump', startMs: START + 5 * MIN, durationMs: 20 * MIN, movePct: 6, oiChangePct: 40, volumeMult: 3 },
    { symbol: 'SYM003USDT', kind: 'pump', startMs: START + 40 * MIN, durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 },
  ],
};
const symbol = { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS, liquidity: SIMULATED_MARKET_LIQUIDITY };

let dir: string;
let one: ReplaySummary;
let oneOutputs: EngineOutput[];
let classic: ReplaySummary;
let classicOutputs: EngineOutput[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ws-replay-sharded-'));
  await writeTape(simulateMarket(SIM), { dir, rotateBytes: 3 * 1024 * 1024 });
  oneOutputs = [];
  one = await replaySharded([dir], { symbol, shards: 1, inProcess: true, onOutput: (e) => oneOutputs.push(e) });
  classicOutputs = [];
  classic = await replayTape([dir], { symbol, onOutput: (e) => classicOutputs.push(e) });
}, 180_000);

describe('sharded replay', () => {
  it('decides what the unsharded replay decides: same frames, coins, spikes, bars, rankings and signals', () => {
    expect(one.frames).toBe(classic.frames);
    expect(one.badFrames).toBe(0);
    expect(one.symbols).toBe(10);
    expect(one.signals).toBeGreaterThan(0);
    expect(oneOutputs.some((e) => e.kind === 'ranking' && e.armed.includes('SYM003USDT'))).toBe(true);
    const fired = (out: EngineOutput[]) => out.flatMap((e) => (e.kind === 'signal' ? [[e.signal.symbol, e.signal.direction, e.signal.tsInit]] : []));
    expect(fired(oneOutputs)).toEqual(fired(classicOutputs));
    expect([one.spikes, one.bars, one.rankings, one.signals]).toEqual([classic.spikes, classic.bars, classic.rankings, classic.signals]);
  });

  it('gives the same digest as one thread for any shard count 1–4 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), async (shards) => {
        const r = await replaySharded([dir], { symbol, shards, inProcess: true });
        expect(r.outputDigest).toBe(one.outputDigest);
        expect([r.frames, r.symbols, r.spikes, r.bars, r.rankings, r.signals, r.badFrames]).toEqual([one.frames, one.symbols, one.spikes, one.bars, one.rankings, one.signals, one.badFrames]);
      }),
      { seed: SEED, numRuns: 5 },
    );
  }, 300_000);

  it.skipIf(!existsSync(BIN))('gives the same digest from worker threads', async () => {
    const r = await replaySharded([dir], { symbol, shards: 3 });
    expect(r.outputDigest).toBe(one.outputDigest);
  }, 120_000);

  it('routes a frame by its topic with a stable hash', () => {
    expect(frameSymbol('{"topic":"tickers.BTCUSDT","type":"delta"}')).toBe('BTCUSDT');
    expect(frameSymbol('{"op":"pong"}')).toBe('');
    expect(shardOf('BTCUSDT', 4)).toBe(shardOf('BTCUSDT', 4));
    const spread = new Set(Array.from({ length: 40 }, (_, i) => shardOf(`SYM${i}USDT`, 4)));
    expect(spread.size).toBe(4);
  });

  it('whalestack replay --shards 2 through the built binary prints the one-thread digest; a bad count is refused', async () => {
    const env = { LOG_LEVEL: 'silent', TRADING_MODE: 'off' };
    const a = await runCli(['replay', dir, '--json', '--shards', '2'], env, 120_000);
    const b = await runCli(['replay', dir, '--json', '--shards', '1'], env, 120_000);
    expect(a.code, a.stderr).toBe(0);
    const sa = JSON.parse(a.stdout) as ReplaySummary;
    const sb = JSON.parse(b.stdout) as ReplaySummary;
    expect(sa.frames).toBe(one.frames);
    expect(sa.outputDigest).toBe(sb.outputDigest);
    const bad = await runCli(['replay', dir, '--shards', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shards must be a whole number');
  }, 300_000);
});
