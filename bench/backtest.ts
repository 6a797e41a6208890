import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBacktest, type BacktestSource } from '../src/cli/backtest.js';
import { runSweep } from '../src/cli/backtest-sweep.js';
import { loadConfig } from '../src/cli/config.js';
import { engineSettings } from '../src/cli/engine-settings.js';
import { replayTape } from '../src/cli/replay.js';
import { barEvents, mergeByTime } from '../src/core/bar-events.js';
import { VirtualClock } from '../src/core/clock.js';
import { Engine } from '../src/engine/engine.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { scriptedHistory, weekScenarios, WEEK_COINS } from '../src/streams/scripted-history.js';
import { isMain, round } from './stats.js';

const MIN = 60_000;
const START = Date.UTC(2026, 0, 1);
const ENV = { THRESHOLD_LEARNED_MODE: 'replace', ENTRY_STYLE: 'aggressive' };

/**
 * Backtest events/s on one core against the same events replayed without execution (goal ≥ 0.8×: the execution
 * actor and the paper broker cost little over the replay itself): two days of scripted bars (a dump into a pump
 * that trades a LONG and its reversal) through the decoder-free path, and a simulated 10-coin tape through the
 * decoder (no trade on it: it measures the execution wiring on every evaluation, bar and mark); and a sweep's
 * speed-up from 1 to 2 worker threads. BENCH_BACKTEST_MINUTES sets the tape's length (default 10).
 */
export async function benchBacktest(): Promise<Record<string, number | string>> {
  const minutes = Number(process.env.BENCH_BACKTEST_MINUTES ?? 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-bench-backtest-'));
  const config = loadConfig(ENV, '');
  const at = (m: number) => START + m * MIN;
  try {
    await writeTape(
      simulateMarket({
        seed: 'bench', symbolCount: 10, startMs: START, durationMs: minutes * MIN,
        scenarios: [{ symbol: 'SYM003USDT', kind: 'pump', startMs: at(5), durationMs: 4 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 }],
      }),
      { dir },
    );
    const tapeReplay: number[] = [];
    const tapeBacktest: number[] = [];
    let frames = 0;
    let trades = 0;
    // Alternating order and best of three: on a shared machine the slowest rounds measure the neighbours.
    for (let round_ = 0; round_ < 3; round_++) {
      const replay = async (): Promise<void> => {
        const t0 = performance.now();
        const plain = await replayTape([dir], engineSettings(config));
        tapeReplay.push(plain.frames / ((performance.now() - t0) / 1000));
        frames = plain.frames;
      };
      const backtest = async (): Promise<void> => {
        const t1 = performance.now();
        const bt = await runBacktest({ kind: 'tape', paths: [dir] }, config);
        tapeBacktest.push(bt.events / ((performance.now() - t1) / 1000));
        trades = bt.metrics.trades;
      };
      if (round_ % 2 === 0) await replay().then(backtest);
      else await backtest().then(replay);
    }

    // Stored bars: the engine alone on the same events (decoder-free, no execution) vs the whole backtest.
    const histories = scriptedHistory({ seed: 'bench', startMs: START, days: 2, coins: WEEK_COINS.slice(0, 1), scenarios: weekScenarios(START) });
    const source: BacktestSource = { kind: 'history', histories, fromMs: START, toMs: START + 2 * 86_400_000 };
    const barReplay: number[] = [];
    const barBacktest: number[] = [];
    let events = 0;
    let barTrades = 0;
    for (let round_ = 0; round_ < 3; round_++) {
      const t0 = performance.now();
      let engine: Engine | undefined;
      let clock: VirtualClock | undefined;
      let n = 0;
      const s = engineSettings(config);
      for (const ev of mergeByTime(histories.map((h) => barEvents(h.symbol, h.bars, h.openInterest)))) {
        if (clock === undefined) {
          clock = new VirtualClock(ev.tsInit);
          engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: s.symbol, ranker: s.ranker, onOutput: () => undefined });
        }
        clock.advanceTo(ev.tsInit);
        engine!.deliver(ev);
        n++;
      }
      barReplay.push(n / ((performance.now() - t0) / 1000));
      const t1 = performance.now();
      const bt = await runBacktest(source, config);
      barBacktest.push(bt.events / ((performance.now() - t1) / 1000));
      events = n;
      barTrades = bt.metrics.trades;
    }

    // Sweep speed-up: eight parameter sets on 1 and on 2 worker threads, each a week of bars for two coins, so a
    // set takes seconds and a worker's start-up (loading the modules) is not what is measured.
    const sweepDays = 7;
    const sweepHistories = scriptedHistory({ seed: 'bench-sweep', startMs: START, days: sweepDays, coins: WEEK_COINS.slice(0, 2), scenarios: weekScenarios(START) });
    const sweepSource: BacktestSource = { kind: 'history', histories: sweepHistories, fromMs: START, toMs: START + sweepDays * 86_400_000 };
    const jobs = ['3', '3.25', '3.5', '3.75', '4', '4.5', '5', '6'].map((v) => ({ source: sweepSource, env: ENV, configFile: '', settings: { TRIGGER_OI_15M_PCT: v } }));
    const s1 = performance.now();
    await runSweep(jobs, { threads: 1 });
    const oneThread = performance.now() - s1;
    const s2 = performance.now();
    await runSweep(jobs, { threads: 2 });
    const twoThreads = performance.now() - s2;

    return {
      tape_frames: frames,
      tape_trades: trades,
      tape_replay_frames_per_s: Math.round(Math.max(...tapeReplay)),
      tape_backtest_events_per_s: Math.round(Math.max(...tapeBacktest)),
      tape_backtest_vs_replay: round(Math.max(...tapeBacktest) / Math.max(...tapeReplay), 2),
      bar_events: events,
      bar_trades: barTrades,
      bar_engine_only_events_per_s: Math.round(Math.max(...barReplay)),
      bar_backtest_events_per_s: Math.round(Math.max(...barBacktest)),
      bar_backtest_vs_engine_only: round(Math.max(...barBacktest) / Math.max(...barReplay), 2),
      sweep_8_sets_1_thread_s: round(oneThread / 1000, 1),
      sweep_8_sets_2_threads_s: round(twoThreads / 1000, 1),
      sweep_speedup_2_threads: round(oneThread / twoThreads, 2),
      goal: 'backtest ≥ 0.8× replay',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchBacktest(), null, 2));
}
