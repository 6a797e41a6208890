import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { TapeRecord } from '../core/tape-record.js';
import type { Engine } from '../engine/engine.js';
import { ShardEngine, type ShardEngineOptions, type ShardWindow } from '../engine/shard-engine.js';
import { CoinGlassClient } from '../streams/coinglass-client.js';
import { HISTORY_TAPE_SOURCE, replayHistory } from './bootstrap.js';
import { COINGLASS_TAPE_SOURCE, replayCoinGlassReply } from './coinglass.js';
import { COIN_INPUTS_TAPE_SOURCE, replayCoinInputs } from './liquidity-state.js';

/** What the coordinator sends a shard worker. */
export type ShardRequest = { readonly type: 'window'; readonly window: ShardWindow } | { readonly type: 'finish' };

/** Plain-data part of {@link ShardEngineOptions} that crosses the thread boundary. */
export type ShardWorkerData = Omit<ShardEngineOptions, 'onOtherRecord'>;

/**
 * How a replay applies the REST replies a tape recorded (CoinGlass heatmaps, estimator history, coin inputs):
 * the same calls as `replayTape`, with a client that only parses (it never sends, so it needs no key).
 */
export function otherRecordHandler(): (rec: TapeRecord, engine: Engine) => void {
  const coinglass = new CoinGlassClient({ apiKey: 'replay-no-network' });
  return (rec, engine) => {
    if (rec.s === COINGLASS_TAPE_SOURCE && rec.u !== undefined) replayCoinGlassReply(coinglass, rec.u, rec.d, rec.t, engine);
    else if (rec.s === HISTORY_TAPE_SOURCE) replayHistory(rec.d, engine);
    else if (rec.s === COIN_INPUTS_TAPE_SOURCE) replayCoinInputs(rec.d, engine);
  };
}

/** A shard of `whalestack replay --shards N` in a worker thread: windows in, stamped items out. */
if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'whalestack-replay-shard') {
  const port = parentPort;
  const shard = new ShardEngine({ ...(workerData as { opts: ShardWorkerData }).opts, onOtherRecord: otherRecordHandler() });
  port.on('message', (req: ShardRequest) => {
    try {
      if (req.type === 'window') port.postMessage({ type: 'items', items: shard.run(req.window) });
      else port.postMessage({ type: 'summary', summary: shard.summary() });
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
}
