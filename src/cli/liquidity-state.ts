import type { CoinEvaluated } from '../actors/messages.js';
import type { CoinInputs, RestoredOutcome, TypicalSizeEntry } from '../core/coin-liquidity.js';
import { loadClusterOutcomes } from '../sinks/db/history-reads.js';
import { parseHeatmapRange, type HeatmapSource } from '../core/heatmap.js';
import { baseCoin } from '../core/thresholds.js';
import type { Engine } from '../engine/engine.js';
import type { BatchWriter } from '../sinks/db/batch-writer.js';
import type { DbSession } from '../sinks/db/database.js';
import type { Logger } from '../sinks/logger.js';
import type { Clock } from '../core/clock.js';
import type { TapeWriter } from '../sinks/tape-writer.js';
import type { DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';

/** Tape source of per-coin inputs from outside the market stream (market caps, table overrides, restored sizes). */
export const COIN_INPUTS_TAPE_SOURCE = 'coin-inputs';

/**
 * Hands per-coin inputs to the engine and writes them to the tape first, so a replay applies the same inputs at
 * the same instant and decides exactly as the live run did. `undefined` is written as null (it clears a value).
 */
export function applyCoinInputs(engine: Engine, tape: TapeWriter | undefined, clock: Clock, symbol: string, inputs: CoinInputs): void {
  const encoded: Record<string, unknown> = {};
  if ('dbOverrideUsd' in inputs) encoded.dbOverrideUsd = inputs.dbOverrideUsd ?? null;
  if ('marketCapUsd' in inputs) encoded.marketCapUsd = inputs.marketCapUsd ?? null;
  if (inputs.typical !== undefined) encoded.typical = inputs.typical;
  if (inputs.outcomes !== undefined) encoded.outcomes = inputs.outcomes;
  tape?.write({ t: clock.now(), s: COIN_INPUTS_TAPE_SOURCE, k: 'coin-inputs', d: JSON.stringify({ symbol, inputs: encoded }) });
  engine.coinInputs(symbol, inputs);
}

/** Replay: applies a recorded coin-inputs record. A malformed record is refused (false), never thrown. */
export function replayCoinInputs(body: string, engine: Engine): boolean {
  let rec: { symbol?: unknown; inputs?: Record<string, unknown> };
  try {
    rec = JSON.parse(body) as typeof rec;
  } catch {
    return false;
  }
  if (typeof rec.symbol !== 'string' || typeof rec.inputs !== 'object' || rec.inputs === null) return false;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const inputs: { dbOverrideUsd?: number | undefined; marketCapUsd?: number | undefined; typical?: TypicalSizeEntry[]; outcomes?: RestoredOutcome[] } = {};
  if ('dbOverrideUsd' in rec.inputs) inputs.dbOverrideUsd = num(rec.inputs.dbOverrideUsd);
  if ('marketCapUsd' in rec.inputs) inputs.marketCapUsd = num(rec.inputs.marketCapUsd);
  if (Array.isArray(rec.inputs.typical)) inputs.typical = rec.inputs.typical as TypicalSizeEntry[];
  if (Array.isArray(rec.inputs.outcomes)) {
    inputs.outcomes = (rec.inputs.outcomes as { range?: unknown; resolvedAtMs?: unknown; hit?: unknown }[]).flatMap((o) => {
      const range = typeof o.range === 'string' ? parseHeatmapRange(o.range) : undefined;
      return range !== undefined && typeof o.resolvedAtMs === 'number' && Number.isFinite(o.resolvedAtMs) && typeof o.hit === 'boolean' ? [{ range, resolvedAtMs: o.resolvedAtMs, hit: o.hit }] : [];
    });
  }
  engine.coinInputs(rec.symbol, inputs);
  return true;
}

/**
 * Per-coin liquidation state that must outlive a restart: the threshold each coin uses (with its source, for
 * operators to read), the operator's overrides in `coin_thresholds.override_usd`, and the learned typical cluster
 * sizes per coin × range × source. Written from each evaluation, read back at start; overrides are re-read
 * periodically so an operator's change takes effect without a restart.
 */

/** Rows for one evaluation: the coin's floor and source, and its learned typical sizes. */
export function writeCoinState(writer: BatchWriter, event: CoinEvaluated): void {
  const t = event.assessment.threshold;
  writer.enqueue('coin_thresholds', {
    symbol: event.symbol,
    thresholdUsd: t.floorUsd,
    source: t.source,
    marketCapUsd: t.marketCapUsd !== undefined && Number.isFinite(t.marketCapUsd) ? t.marketCapUsd : null,
    updatedAtMs: event.atMs,
    overrideUsd: null,
  });
  const coin = baseCoin(event.symbol);
  for (const e of event.typical) {
    writer.enqueue('coin_typical_cluster_sizes', {
      coin, range: e.range, source: e.source, typicalUsd: e.size.usd, samples: e.size.samples, lastObservedAtMs: e.size.lastObservedAtMs,
    });
  }
}

/**
 * Reads operator overrides (by symbol), typical sizes (by coin; restored to `<COIN>USDT`) and, given
 * `outcomesSinceMs`, the cluster outcomes inside the hit-rate window. Bad rows are skipped.
 */
export async function loadCoinState(db: DbSession, withTypical: boolean, outcomesSinceMs?: number): Promise<Map<string, CoinInputs>> {
  const out = new Map<string, { dbOverrideUsd?: number | undefined; typical?: TypicalSizeEntry[]; outcomes?: RestoredOutcome[] }>();
  const overrides = await db.query<{ symbol: string; override_usd: number | null }>('SELECT symbol, override_usd FROM coin_thresholds');
  for (const r of overrides.rows) {
    const usd = r.override_usd === null ? undefined : Number(r.override_usd);
    out.set(r.symbol, { dbOverrideUsd: usd !== undefined && Number.isFinite(usd) && usd > 0 ? usd : undefined });
  }
  if (withTypical) {
    const typical = await db.query<{ coin: string; range: string; source: string; typical_usd: number; samples: number; last_observed_at: Date }>(
      'SELECT coin, range, source, typical_usd, samples, last_observed_at FROM coin_typical_cluster_sizes',
    );
    for (const r of typical.rows) {
      const range = parseHeatmapRange(r.range);
      const source = r.source === 'coinglass' || r.source === 'estimate' ? (r.source as HeatmapSource) : undefined;
      const usd = Number(r.typical_usd);
      const at = new Date(r.last_observed_at).getTime();
      if (range === undefined || source === undefined || !(usd > 0) || !Number.isFinite(at)) continue;
      const symbol = `${r.coin}USDT`;
      const entry = out.get(symbol) ?? {};
      (entry.typical ??= []).push({ range, source, size: { usd, samples: Number(r.samples), lastObservedAtMs: at } });
      out.set(symbol, entry);
    }
  }
  if (outcomesSinceMs !== undefined) {
    for (const [symbol, outcomes] of await loadClusterOutcomes(db, outcomesSinceMs)) out.set(symbol, { ...(out.get(symbol) ?? {}), outcomes });
  }
  return out;
}

/**
 * Restores persisted state into the engine once migrations are done, then re-reads operator overrides every
 * `reloadMs`. A database error is logged and retried on the next tick; it never stops the daemon.
 */
export function startCoinState(
  storage: { readonly db: DbSession; readonly migrated: Promise<void> },
  engine: Engine,
  log: Logger,
  clock: Clock,
  tape: () => TapeWriter | undefined,
  reloadMs = 300_000,
  outcomeWindowMs?: number,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const known = new Map<string, number | undefined>();
  const load = async (first: boolean): Promise<void> => {
    try {
      const state = await loadCoinState(storage.db, first, first && outcomeWindowMs !== undefined ? clock.now() - outcomeWindowMs : undefined);
      if (stopped) return;
      let overrides = 0;
      for (const [symbol, inputs] of state) {
        if (inputs.dbOverrideUsd !== undefined) overrides++;
        // After the first load only changed overrides are sent (a removed override clears it).
        if (!first && known.get(symbol) === inputs.dbOverrideUsd) continue;
        known.set(symbol, inputs.dbOverrideUsd);
        applyCoinInputs(engine, tape(), clock, symbol, first ? inputs : { dbOverrideUsd: inputs.dbOverrideUsd });
      }
      if (first) log.info({ coins: state.size, overrides }, 'coin thresholds, typical cluster sizes and cluster outcomes restored');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read coin thresholds; retrying later');
    }
  };
  storage.migrated
    .then(() => load(true))
    .then(() => {
      if (!stopped) timer = setInterval(() => void load(false), reloadMs).unref();
    })
    .catch(() => undefined);
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

/** The daemon part: restores coin state once the store is migrated and keeps re-reading operator overrides. */
export function coinStatePart(w: DaemonWiring): Part {
  let running: { stop(): void } | undefined;
  return {
    name: 'coin thresholds',
    start() {
      if (w.storage !== undefined && w.engine !== undefined) running = startCoinState(w.storage, w.engine, w.log, w.clock, () => w.tape, 300_000, w.config.historyStats.clusterHitWindowMs);
    },
    stop: () => running?.stop(),
  };
}
