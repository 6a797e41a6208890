import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine/engine.js';
import { VirtualClock } from '../src/core/clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { loadConfig } from '../src/cli/config.js';
import { executionSettings, startExecution, type ExecutionPart } from '../src/cli/execution.js';
import { isMain, median, round } from './stats.js';

interface Frame {
  readonly t: number;
  readonly d: string;
}

/** 500 simulated symbols, realistic mix of ticker deltas and trade batches (plus a few liquidations). */
export function simulatedFrames(symbolCount: number, durationMs: number, seed = 42): Frame[] {
  const out: Frame[] = [];
  for (const rec of simulateMarket({ seed, symbolCount, includeMajors: true, startMs: Date.UTC(2026, 0, 1), durationMs })) {
    if (rec.k === undefined) out.push({ t: rec.t, d: rec.d });
  }
  return out;
}

/** The floor: parse the frame, parse its numbers, find the symbol's record. Nothing validated, nothing kept. */
export function baselinePass(frames: readonly Frame[]): number {
  const state = new Map<string, Record<string, number>>();
  let checksum = 0;
  for (const f of frames) {
    const o = JSON.parse(f.d) as { topic: string; data: Record<string, string> | Record<string, string>[] };
    const sym = o.topic.slice(o.topic.indexOf('.') + 1);
    let s = state.get(sym);
    if (s === undefined) {
      s = {};
      state.set(sym, s);
    }
    const data = o.data;
    if (Array.isArray(data)) {
      for (const item of data) {
        s.p = parseFloat(item.p!);
        s.v = (s.v ?? 0) + parseFloat(item.v!);
      }
    } else {
      for (const k in data) if (k !== 'symbol') s[k] = parseFloat(data[k]!);
    }
    checksum += s.p ?? s.lastPrice ?? 0;
  }
  return checksum;
}

function newEngine(firstT: number): { engine: Engine; clock: VirtualClock } {
  const clock = new VirtualClock(firstT);
  return { clock, engine: new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } }) };
}

/** The same engine with trading wired in as `run` does it (paper broker, ExecutionActor, market tap). */
async function newTradingEngine(firstT: number): Promise<{ engine: Engine; clock: VirtualClock }> {
  const clock = new VirtualClock(firstT);
  let part: ExecutionPart | undefined;
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS }, onOutput: (e) => part?.onEngineOutput(e) });
  part = await startExecution({ clock, engine, ...executionSettings(loadConfig({}, '').trading, false) });
  return { clock, engine };
}

function feed(engine: Engine, clock: VirtualClock, frames: readonly Frame[]): void {
  for (const f of frames) {
    clock.advanceTo(f.t);
    engine.ingest(f.d, f.t);
  }
  if (engine.decoder.badFrames !== 0) throw new Error(`bench: ${engine.decoder.badFrames} bad frames in simulated data`);
}

function framesPerSec(run: () => unknown, n: number): number {
  const t0 = performance.now();
  run();
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Ingest throughput on one core: raw frame text → decoder (validate, merge) → SymbolActor windows, features,
 * spike check and minute bars, as a ratio to bare JSON.parse + parseFloat + Map lookup on the same frames,
 * alternating rounds so machine noise hits both alike.
 */
export async function benchIngest(opts: { symbols?: number; durationMs?: number; rounds?: number } = {}): Promise<Record<string, number | string>> {
  const frames = simulatedFrames(opts.symbols ?? 500, opts.durationMs ?? 120_000);
  // Steady state, as in a long-running daemon: every engine has already seen the first half (actors exist,
  // windows allocated, code warm) and is timed on the second half; the baseline is timed on the same frames.
  const half = frames.findIndex((f) => f.t >= frames[0]!.t + (opts.durationMs ?? 120_000) / 2);
  const warm = frames.slice(0, half);
  const timed = frames.slice(half);
  const kinds = { tickers: 0, publicTrade: 0, allLiquidation: 0 };
  for (const f of timed) {
    const k = f.d.slice(10, f.d.indexOf('.')) as keyof typeof kinds;
    if (k in kinds) kinds[k]++;
  }
  const base: number[] = [];
  const eng: number[] = [];
  const trading: number[] = [];
  for (let r = 0; r < (opts.rounds ?? 9); r++) {
    const { engine, clock } = newEngine(frames[0]!.t);
    feed(engine, clock, warm);
    const t = await newTradingEngine(frames[0]!.t);
    feed(t.engine, t.clock, warm);
    base.push(framesPerSec(() => baselinePass(timed), timed.length));
    eng.push(framesPerSec(() => feed(engine, clock, timed), timed.length));
    trading.push(framesPerSec(() => feed(t.engine, t.clock, timed), timed.length));
  }
  const b = median(base);
  const e = median(eng);
  const et = median(trading);
  return {
    frames_timed: timed.length,
    mix: `${kinds.tickers} tickers / ${kinds.publicTrade} trade batches / ${kinds.allLiquidation} liquidation batches`,
    baseline_frames_per_sec: Math.round(b),
    engine_frames_per_sec: Math.round(e),
    ratio_engine_to_baseline: round(e / b, 3),
    engine_with_trading_frames_per_sec: Math.round(et),
    ratio_engine_with_trading_to_baseline: round(et / b, 3),
    target: '≥ 0.5',
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchIngest(), null, 2));
}
