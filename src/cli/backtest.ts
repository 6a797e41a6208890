import { createHash } from 'node:crypto';
import type { ExecutionOutput, TradeRecord } from '../actors/execution-state.js';
import { barEvents, mergeByTime } from '../core/bar-events.js';
import { VirtualClock } from '../core/clock.js';
import { Engine, type EngineOutput } from '../engine/engine.js';
import type { StoredHistory } from '../sinks/db/history-read.js';
import { BacktestCollector, type BacktestResult } from './backtest-result.js';
import type { Config } from './config.js';
import { engineSettings } from './engine-settings.js';
import { executionSettings, startExecution, type ExecutionPart } from './execution.js';
import { replayTape } from './replay.js';

/** Where a backtest's market comes from: recorded or simulated tapes, or bars and open interest from the store. */
export type BacktestSource =
  | { readonly kind: 'tape'; readonly paths: readonly string[] }
  | { readonly kind: 'history'; readonly histories: readonly StoredHistory[]; readonly fromMs: number; readonly toMs: number };

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The report's `source` line: which input, and for history what the bar replay approximates. */
export function describeSource(source: BacktestSource): string {
  if (source.kind === 'tape') return `tapes: ${source.paths.join(', ')}`;
  const minute = source.histories.reduce((a, h) => a + h.minuteBars, 0);
  const hourly = source.histories.reduce((a, h) => a + h.hourlyBars, 0);
  const oi = source.histories.reduce((a, h) => a + h.openInterest.length, 0);
  return (
    `stored history: ${source.histories.map((h) => h.symbol).join(', ')} from ${iso(source.fromMs)} to ${iso(source.toMs)} ` +
    `(${minute} 1-min and ${hourly} 1-h bars, ${oi} open-interest readings), own liquidation estimate (past heatmaps are not available); ` +
    'each bar replayed as open→low→high→close (open→high→low→close when it fell) with trades synthesized from its volume, open interest interpolated'
  );
}

/** Optional observers of every engine and execution output (tests check signals and plans against them). */
export interface BacktestObservers {
  readonly engine?: (e: EngineOutput) => void;
  readonly execution?: (o: ExecutionOutput) => void;
}

/**
 * A digest line per output. An evaluation is reduced to its decision (direction, imbalance, score, target):
 * serialising every snapshot's levels cost more than the rest of a bar replay together.
 */
function digestOf(e: EngineOutput): unknown {
  if (e.kind !== 'evaluated') return e;
  const a = e.assessment;
  return { kind: e.kind, symbol: e.symbol, atMs: e.atMs, direction: a.direction, imbalance: a.imbalance, score: a.score, target: a.target, opposite: a.opposite };
}

/**
 * One backtest: the market through the same engine (own liquidation estimate, ranking, triggers), execution
 * actor and paper broker as `run`, on the virtual clock, on a fresh paper account. A tape goes through `replay`
 * (decoder included); stored history goes in as decoder-free events (see core/bar-events.ts for what a bar
 * replay approximates). `settings` only labels the result; `config` already holds them. Always trades on
 * paper, whatever TRADING_MODE says.
 */
export async function runBacktest(source: BacktestSource, config: Config, settings: Record<string, string> = {}, observe: BacktestObservers = {}): Promise<BacktestResult> {
  const engine = engineSettings(config);
  const trading = executionSettings(config.trading, false);
  const collector = new BacktestCollector();
  let part: ExecutionPart | undefined;
  const openTrades = (): TradeRecord[] => [...(part?.ref.peek()?.trades.values() ?? [])];
  const run = { source: describeSource(source), settings, initialEquityUsd: trading.paper.initialDepositUsd };
  if (source.kind === 'tape') {
    const summary = await replayTape(source.paths, {
      ...engine,
      trading,
      onOutput: (e) => {
        collector.onEngineOutput(e);
        observe.engine?.(e);
      },
      onExecutionOutput: (o) => {
        collector.onExecutionOutput(o);
        observe.execution?.(o);
      },
      onExecutionStarted: (p) => {
        part = p;
        collector.broker = p.broker;
      },
    });
    const startMs = summary.firstTsInit ?? 0;
    return collector.finish({ ...run, startMs, endMs: summary.lastTsInit ?? startMs, events: summary.frames, digest: summary.outputDigest, openTrades: openTrades() });
  }
  const hash = createHash('sha256');
  const record = (x: unknown): void => {
    hash.update(JSON.stringify(x));
    hash.update('\n');
  };
  let clock: VirtualClock | undefined;
  let eng: Engine | undefined;
  let events = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const ev of mergeByTime(source.histories.map((h) => barEvents(h.symbol, h.bars, h.openInterest)))) {
    if (clock === undefined || eng === undefined) {
      clock = new VirtualClock(ev.tsInit);
      first = ev.tsInit;
      eng = new Engine({
        clock,
        drain: { mode: 'sync' },
        symbol: engine.symbol,
        ranker: engine.ranker,
        onOutput: (e) => {
          record(digestOf(e));
          part?.onEngineOutput(e);
          collector.onEngineOutput(e);
          observe.engine?.(e);
        },
      });
      part = await startExecution({ clock, engine: eng, ...trading, onOutput: (o) => {
        record(o);
        collector.onExecutionOutput(o);
        observe.execution?.(o);
      } });
      collector.broker = part.broker;
    }
    clock.advanceTo(ev.tsInit);
    eng.deliver(ev);
    last = ev.tsInit;
    events++;
  }
  await part?.stop();
  const startMs = first ?? source.fromMs;
  return collector.finish({ ...run, startMs, endMs: last ?? startMs, events, digest: hash.digest('hex'), openTrades: openTrades() });
}
