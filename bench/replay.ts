import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { replayTape, type ReplaySummary } from '../src/cli/replay.js';
import { replaySharded } from '../src/cli/replay-sharded.js';
import { VirtualClock } from '../src/core/clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { Engine } from '../src/engine/engine.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { baselinePass } from './ingest.js';
import { isMain, median, round } from './stats.js';

const symbol = { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS };

/** Engine frames/s over the tape's frames (fresh engine each round, the whole tape), scanner on or off. */
function enginePass(frames: readonly { t: number; d: string }[], scanner: boolean): number {
  const clock = new VirtualClock(frames[0]!.t);
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol, scanner });
  const t0 = performance.now();
  for (const f of frames) {
    clock.advanceTo(f.t);
    engine.ingest(f.d, f.t);
  }
  return frames.length / ((performance.now() - t0) / 1000);
}

/**
 * Replay throughput on one core and across worker threads, on one simulated tape (500 coins by default):
 * - the engine over the tape's frames (decoder → symbol actors → ranker, as `replay` runs it) with the text
 *   scanner and with `JSON.parse` only, each as a ratio to bare `JSON.parse` + `parseFloat` on the same frames;
 * - `replayTape` end to end from the gzip file (reading and unzipping the tape included), same ratio;
 * - `replay --shards 2` (worker threads) against `--shards 1` (the same sharded replay on one thread).
 */
export async function benchReplay(opts: { symbols?: number; minutes?: number; rounds?: number; shards?: number } = {}): Promise<Record<string, number | string>> {
  const start = Date.UTC(2026, 0, 1);
  const sim = { seed: 'bench-replay', symbolCount: opts.symbols ?? 500, includeMajors: true, startMs: start, durationMs: (opts.minutes ?? 5) * 60_000 };
  const frames: { t: number; d: string }[] = [];
  for (const rec of simulateMarket(sim)) if (rec.k === undefined) frames.push({ t: rec.t, d: rec.d });
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-bench-replay-'));
  try {
    await writeTape(simulateMarket(sim), { dir });
    const base: number[] = [];
    const scan: number[] = [];
    const json: number[] = [];
    for (let r = 0; r < (opts.rounds ?? 5); r++) {
      const t0 = performance.now();
      baselinePass(frames);
      base.push(frames.length / ((performance.now() - t0) / 1000));
      scan.push(enginePass(frames, true));
      json.push(enginePass(frames, false));
    }
    const b = median(base);
    const tape = await replayTape([dir], { symbol });
    const shards = opts.shards ?? 2;
    // CPU seconds (all threads of this process) per wall second: how many cores the run actually got.
    const timed = async (run: () => Promise<ReplaySummary>) => {
      const cpu0 = process.cpuUsage();
      const summary = await run();
      const cpu = process.cpuUsage(cpu0);
      return { summary, coresUsed: (cpu.user + cpu.system) / 1e6 / summary.wallSec };
    };
    const { summary: one, coresUsed: oneCores } = await timed(() => replaySharded([dir], { symbol, shards: 1, inProcess: true }));
    const { summary: many, coresUsed: manyCores } = await timed(() => replaySharded([dir], { symbol, shards }));
    if (many.outputDigest !== one.outputDigest) throw new Error('bench: sharded digests differ');
    return {
      frames: frames.length,
      baseline_json_parse_frames_per_sec: Math.round(b),
      engine_scanner_frames_per_sec: Math.round(median(scan)),
      ratio_engine_scanner_to_baseline: round(median(scan) / b),
      engine_json_parse_only_frames_per_sec: Math.round(median(json)),
      ratio_engine_json_parse_only_to_baseline: round(median(json) / b),
      replay_tape_end_to_end_frames_per_sec: Math.round(tape.framesPerSec),
      ratio_replay_tape_to_baseline: round(tape.framesPerSec / b),
      sharded_1_frames_per_sec: Math.round(one.framesPerSec),
      [`sharded_${shards}_workers_frames_per_sec`]: Math.round(many.framesPerSec),
      [`speedup_${shards}_shards_vs_1`]: round(many.framesPerSec / one.framesPerSec),
      cores_used_sharded_1: round(oneCores, 2),
      [`cores_used_sharded_${shards}`]: round(manyCores, 2),
      target: 'engine ≥ 1.0× baseline; sharded ≥ 1.8× on 2 cores',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const arg = (name: string) => {
    const v = process.argv.find((a) => a.startsWith(`--${name}=`));
    return v === undefined ? undefined : Number(v.slice(name.length + 3));
  };
  console.log(JSON.stringify(await benchReplay({ symbols: arg('symbols'), minutes: arg('minutes'), rounds: arg('rounds') }), null, 2));
}
