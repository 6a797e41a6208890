import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SystemEvent } from '../actors/actor-system.js';
import type { RankerConfig } from '../actors/ranker-actor.js';
import type { SymbolActorConfig } from '../actors/symbol-actor.js';
import { VirtualClock } from '../core/clock.js';
import { gapDroppedCount, TAPE_GAP_KIND, type TapeRecord } from '../core/tape-record.js';
import { CoinGlassClient } from '../streams/coinglass-client.js';
import { readTape, type TapeIssue } from '../streams/tape-reader.js';
import { HISTORY_TAPE_SOURCE, replayHistory } from './bootstrap.js';
import { COIN_INPUTS_TAPE_SOURCE, replayCoinInputs } from './liquidity-state.js';
import { COINGLASS_TAPE_SOURCE, replayCoinGlassReply } from './coinglass.js';
import { Engine, type EngineOutput } from '../engine/engine.js';
import type { EventTimeBand } from '../streams/bybit-decoder.js';
import type { ExecutionConfig } from '../actors/execution-actor.js';
import type { ExecutionOutput } from '../actors/execution-state.js';
import type { PaperBrokerConfig } from '../sinks/paper-broker.js';
import { startExecution, type ExecutionPart } from './execution.js';

export interface ReplayOptions {
  readonly symbol: SymbolActorConfig;
  /** Ranking settings; default the ranker's defaults. Pass the live run's (see `engineSettings`) to reproduce it. */
  readonly ranker?: RankerConfig;
  /** Event-time band of the decoder; pass the live run's (see `engineSettings`) to reproduce it. */
  readonly eventTimeBand?: EventTimeBand;
  /** Multiple of real time; Infinity (default) replays as fast as possible. */
  readonly speed?: number;
  readonly highWaterMark?: number;
  readonly onOutput?: (event: EngineOutput) => void;
  readonly onIssue?: (issue: TapeIssue) => void;
  /** An actor restarted or stopped by supervision (a coin whose model faulted). */
  readonly onSystemEvent?: (event: SystemEvent) => void;
  /** Trade the signals on a fresh paper account on the virtual clock (backtest); the digest then covers trades. */
  readonly trading?: { readonly execution: ExecutionConfig; readonly paper: PaperBrokerConfig };
  readonly onExecutionOutput?: (output: ExecutionOutput) => void;
  /** With `trading`: the started execution part (the backtester reads the paper account from it). */
  readonly onExecutionStarted?: (part: ExecutionPart) => void;
}

export interface ReplaySummary {
  readonly records: number;
  readonly frames: number;
  readonly symbols: number;
  readonly spikes: number;
  readonly bars: number;
  readonly rankings: number;
  readonly signals: number;
  readonly badFrames: number;
  readonly tapeIssues: number;
  /** Gap markers in the tape: runs of frames the recorder could not write. */
  readonly tapeGaps: number;
  /** Frames those gap markers say are missing. */
  readonly framesNotRecorded: number;
  readonly firstTsInit: number | null;
  readonly lastTsInit: number | null;
  readonly simulatedSec: number;
  readonly wallSec: number;
  readonly framesPerSec: number;
  /** sha256 over every output event in order (trades and orders included when trading): equal digests mean identical decisions. */
  readonly outputDigest: string;
  /** With `trading`: closed trades, their net PnL and the paper account at the end. */
  readonly trading: { readonly ordersSent: number; readonly tradesClosed: number; readonly pnlUsd: number; readonly equityUsd: number; readonly openPositions: number } | null;
}

/** Whether a tape record is a market-data frame for the engine (REST replies are for other consumers). */
export function isMarketFrame(rec: TapeRecord): boolean {
  return rec.k === undefined;
}

/**
 * Plays a tape through the same decoder and actors as `run`, on a virtual clock advanced to each record's
 * tsInit before it is delivered, draining synchronously: the output depends on the tape only, never on
 * chunking or machine speed.
 */
export async function replayTape(paths: readonly string[], opts: ReplayOptions): Promise<ReplaySummary> {
  const tape = readTape(paths, { highWaterMark: opts.highWaterMark, onIssue: opts.onIssue });
  let clock: VirtualClock | undefined;
  let engine: Engine | undefined;
  let execution: ExecutionPart | undefined;
  let tradesClosed = 0;
  let pnlUsd = 0;
  const hash = createHash('sha256');
  let records = 0;
  let frames = 0;
  let gaps = 0;
  let notRecorded = 0;
  let first: number | null = null;
  let last: number | null = null;
  const speed = opts.speed ?? Infinity;
  // Parses recorded replies only; it never sends a request, so it needs no key.
  const coinglass = new CoinGlassClient({ apiKey: 'replay-no-network' });
  const wallStart = performance.now();
  for await (const rec of tape) {
    records++;
    if (clock === undefined || engine === undefined) {
      clock = new VirtualClock(rec.t);
      first = rec.t;
      engine = new Engine({
        clock,
        drain: { mode: 'sync' },
        symbol: opts.symbol,
        ranker: opts.ranker,
        eventTimeBand: opts.eventTimeBand,
        onSystemEvent: opts.onSystemEvent,
        onOutput: (event) => {
          hash.update(JSON.stringify(event));
          hash.update('\n');
          execution?.onEngineOutput(event);
          opts.onOutput?.(event);
        },
      });
      if (opts.trading !== undefined) {
        execution = await startExecution({
          clock, engine, ...opts.trading,
          onOutput: (o) => {
            hash.update(JSON.stringify(o));
            hash.update('\n');
            if (o.kind === 'trade' && o.trade.status === 'closed') {
              tradesClosed++;
              pnlUsd += o.trade.pnlUsd ?? 0;
            }
            opts.onExecutionOutput?.(o);
          },
        });
        opts.onExecutionStarted?.(execution);
      }
    }
    if (Number.isFinite(speed) && first !== null) {
      const dueWallMs = wallStart + (rec.t - first) / speed;
      const aheadMs = dueWallMs - performance.now();
      if (aheadMs > 2) await sleep(aheadMs);
    }
    clock.advanceTo(rec.t);
    last = rec.t;
    if (!isMarketFrame(rec)) {
      if (rec.k === TAPE_GAP_KIND) {
        gaps++;
        notRecorded += gapDroppedCount(rec.d);
      } else if (rec.s === COINGLASS_TAPE_SOURCE && rec.u !== undefined) replayCoinGlassReply(coinglass, rec.u, rec.d, rec.t, engine);
      else if (rec.s === HISTORY_TAPE_SOURCE) replayHistory(rec.d, engine);
      else if (rec.s === COIN_INPUTS_TAPE_SOURCE) replayCoinInputs(rec.d, engine);
      continue;
    }
    frames++;
    engine.ingest(rec.d, rec.t);
  }
  const wallSec = (performance.now() - wallStart) / 1000;
  await execution?.stop();
  return {
    records,
    frames,
    symbols: engine?.symbols().length ?? 0,
    spikes: engine?.outputs.spike ?? 0,
    bars: engine?.outputs.bar ?? 0,
    rankings: engine?.outputs.ranking ?? 0,
    signals: engine?.outputs.signal ?? 0,
    badFrames: engine?.decoder.badFrames ?? 0,
    tapeIssues: tape.stats.issueCount,
    tapeGaps: gaps,
    framesNotRecorded: notRecorded,
    ...tapeTiming(first, last, wallSec, frames),
    outputDigest: hash.digest('hex'),
    trading:
      execution === undefined
        ? null
        : { ordersSent: execution.ref.peek()?.counters.ordersSent ?? 0, tradesClosed, pnlUsd, equityUsd: execution.broker.account().equityUsd, openPositions: execution.broker.positions().length },
  };
}

/** The time fields of a {@link ReplaySummary}: the tape's span in virtual time and the wall-clock rate. */
export function tapeTiming(first: number | null, last: number | null, wallSec: number, frames: number): Pick<ReplaySummary, 'firstTsInit' | 'lastTsInit' | 'simulatedSec' | 'wallSec' | 'framesPerSec'> {
  return {
    firstTsInit: first,
    lastTsInit: last,
    simulatedSec: first !== null && last !== null ? (last - first) / 1000 : 0,
    wallSec,
    framesPerSec: wallSec > 0 ? frames / wallSec : 0,
  };
}
