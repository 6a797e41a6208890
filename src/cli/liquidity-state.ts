import type { CoinEvaluated } from '../actors/messages.js';
import type { CoinInputs, TypicalSizeEntry } from '../core/coin-liquidity.js';
import { parseHeatmapRange, type HeatmapSource } from '../core/heatmap.js';
import { baseCoin } from '../core/thresholds.js';
import type { Engine } from '../engine/engine.js';
import type { BatchWriter } from '../sinks/db/batch-writer.js';
import type { DbSession } from '../sinks/db/database.js';
import type { Logger } from '../sinks/logger.js';

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

/** Reads operator overrides (by symbol) and typical sizes (by coin; restored to `<COIN>USDT`). Bad rows are skipped. */
export async function loadCoinState(db: DbSession, withTypical: boolean): Promise<Map<string, CoinInputs>> {
  const out = new Map<string, { dbOverrideUsd?: number | undefined; typical?: TypicalSizeEntry[] }>();
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
  reloadMs = 300_000,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const known = new Map<string, number | undefined>();
  const load = async (first: boolean): Promise<void> => {
    try {
      const state = await loadCoinState(storage.db, first);
      if (stopped) return;
      let overrides = 0;
      for (const [symbol, inputs] of state) {
        if (inputs.dbOverrideUsd !== undefined) overrides++;
        // After the first load only changed overrides are sent (a removed override clears it).
        if (!first && known.get(symbol) === inputs.dbOverrideUsd) continue;
        known.set(symbol, inputs.dbOverrideUsd);
        engine.coinInputs(symbol, first ? inputs : { dbOverrideUsd: inputs.dbOverrideUsd });
      }
      if (first) log.info({ coins: state.size, overrides }, 'coin thresholds and typical cluster sizes restored');
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
