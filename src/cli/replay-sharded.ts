import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { SymbolCommand } from '../actors/messages.js';
import { gapDroppedCount, TAPE_GAP_KIND, type TapeRecord } from '../core/tape-record.js';
import type { EngineOutput } from '../engine/engine.js';
import { ShardCoordinator } from '../engine/shard-coordinator.js';
import { frameSymbol, SHARD_WINDOW_MS, ShardEngine, shardOf, type ShardSummary, type ShardWindow, type StampedItem } from '../engine/shard-engine.js';
import { readTape } from '../streams/tape-reader.js';
import { tapeTiming, type ReplayOptions, type ReplaySummary } from './replay.js';
import { otherRecordHandler, type ShardRequest, type ShardWorkerData } from './replay-shard-worker.js';

export interface ShardedReplayOptions extends Omit<ReplayOptions, 'trading' | 'onExecutionOutput' | 'speed'> {
  /** Number of shards (≥ 1). */
  readonly shards: number;
  /** Run the shards on the calling thread instead of worker threads (tests: same output, no threads). */
  readonly inProcess?: boolean;
}

/** One shard as the coordinator sees it: in this thread or in a worker. */
interface ShardHandle {
  run(window: ShardWindow): Promise<StampedItem[]>;
  finish(): Promise<ShardSummary>;
}

function inProcessShard(opts: ShardWorkerData): ShardHandle {
  const shard = new ShardEngine({ ...opts, onOtherRecord: otherRecordHandler() });
  return { run: async (w) => shard.run(w), finish: async () => shard.summary() };
}

/** The built worker next to this module (under `dist/`); from TypeScript sources (vitest) the built copy is used. */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../../dist/src/cli/replay-shard-worker.js', here) : new URL('./replay-shard-worker.js', here);
}

function workerShard(opts: ShardWorkerData): ShardHandle {
  const worker = new Worker(workerUrl(), { workerData: { kind: 'whalestack-replay-shard', opts } });
  worker.unref();
  let waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | undefined;
  const fail = (err: Error) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(err);
  };
  worker.on('message', (msg: { type: string; items?: StampedItem[]; summary?: ShardSummary; message?: string }) => {
    const w = waiting;
    waiting = undefined;
    if (msg.type === 'error') w?.reject(new Error(`replay shard ${opts.shard}: ${msg.message}`));
    else w?.resolve(msg.type === 'items' ? msg.items : msg.summary);
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`replay shard ${opts.shard} exited with code ${code}`)));
  const ask = <T>(req: ShardRequest): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting = { resolve: resolve as (v: unknown) => void, reject };
      worker.postMessage(req);
    });
  return {
    run: (window) => ask<StampedItem[]>({ type: 'window', window }),
    finish: async () => {
      const s = await ask<ShardSummary>({ type: 'finish' });
      await worker.terminate();
      return s;
    },
  };
}

/**
 * `whalestack replay --shards N`: the tape's coins are spread over N shards by a stable hash of the symbol,
 * each running the decoder and symbol actors of its coins (worker threads), in steps of
 * {@link SHARD_WINDOW_MS} of virtual time. After each step the coordinator merges the shards' stamped outputs
 * in (time, symbol, seq) order, runs the one ranker on them, and hands its arm/disarm commands to the owning
 * shards for the next step. The output sequence, and so the digest, is the same for every shard count
 * (README, "Tapes, replay and simulation"). Trading is not sharded yet.
 */
export async function replaySharded(paths: readonly string[], opts: ShardedReplayOptions): Promise<ReplaySummary> {
  const n = opts.shards;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`replay: shards must be a whole number ≥ 1 (got ${n})`);
  const tape = readTape(paths, { highWaterMark: opts.highWaterMark, onIssue: opts.onIssue });
  const hash = createHash('sha256');
  const counts: Record<string, number> = {};
  const onOutput = (event: EngineOutput): void => {
    counts[event.kind] = (counts[event.kind] ?? 0) + 1;
    hash.update(JSON.stringify(event));
    hash.update('\n');
    opts.onOutput?.(event);
  };
  let shards: ShardHandle[] = [];
  let coordinator: ShardCoordinator | undefined;
  let records = 0;
  let frames = 0;
  let gaps = 0;
  let notRecorded = 0;
  let first: number | null = null;
  let last: number | null = null;
  let batch: TapeRecord[][] = [];
  let commands: [string, SymbolCommand][][] = [];
  let windowEnd = 0;
  let inFlight: Promise<StampedItem[][]> | undefined;
  let inFlightEnd = 0;
  const wallStart = performance.now();
  const settle = async (): Promise<void> => {
    if (inFlight === undefined) return;
    const items = await inFlight;
    inFlight = undefined;
    commands = coordinator!.merge(items, inFlightEnd);
  };
  // Sends the gathered window while the next one is read: the previous window's merge is awaited first,
  // because its commands go with this one.
  const flush = async (): Promise<void> => {
    await settle();
    const sent = batch;
    const cmds = commands;
    batch = Array.from({ length: n }, () => []);
    inFlightEnd = windowEnd;
    inFlight = Promise.all(shards.map((s, i) => s.run({ commands: cmds[i]!, records: sent[i]!, endMs: windowEnd })));
  };
  try {
    for await (const rec of tape) {
      records++;
      if (coordinator === undefined) {
        first = rec.t;
        const data: ShardWorkerData = { shard: 0, shards: n, startMs: rec.t, symbol: opts.symbol, eventTimeBand: opts.eventTimeBand };
        shards = Array.from({ length: n }, (_, shard) => (opts.inProcess === true ? inProcessShard : workerShard)({ ...data, shard }));
        coordinator = new ShardCoordinator({ shards: n, startMs: rec.t, ranker: opts.ranker, onOutput });
        batch = Array.from({ length: n }, () => []);
        commands = Array.from({ length: n }, () => []);
        windowEnd = rec.t + SHARD_WINDOW_MS;
      }
      if (rec.t >= windowEnd) {
        await flush();
        // Empty stretches are skipped in one step; timers due in them fire when the next window ends.
        windowEnd += Math.max(1, Math.floor((rec.t - windowEnd) / SHARD_WINDOW_MS) + 1) * SHARD_WINDOW_MS;
      }
      last = rec.t;
      if (rec.k === undefined) {
        frames++;
        batch[shardOf(frameSymbol(rec.d), n)]!.push(rec);
      } else if (rec.k === TAPE_GAP_KIND) {
        gaps++;
        notRecorded += gapDroppedCount(rec.d);
      } else for (const b of batch) b.push(rec);
    }
    if (coordinator !== undefined) {
      await flush();
      await settle();
    }
    const sums = await Promise.all(shards.map((s) => s.finish()));
    shards = [];
    const wallSec = (performance.now() - wallStart) / 1000;
    return {
      records,
      frames,
      symbols: sums.reduce((a, s) => a + s.symbols, 0),
      spikes: counts.spike ?? 0,
      bars: counts.bar ?? 0,
      rankings: counts.ranking ?? 0,
      signals: counts.signal ?? 0,
      badFrames: sums.reduce((a, s) => a + s.badFrames, 0),
      tapeIssues: tape.stats.issueCount,
      tapeGaps: gaps,
      framesNotRecorded: notRecorded,
      ...tapeTiming(first, last, wallSec, frames),
      outputDigest: hash.digest('hex'),
      trading: null,
    };
  } finally {
    for (const s of shards) await s.finish().catch(() => undefined);
  }
}
