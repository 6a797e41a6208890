import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { CoinEvaluated, RankingUpdated, SignalRaised } from '../actors/messages.js';
import type { LiquidationsOccurred, MinuteBarClosed, SpikeDetected } from '../core/events.js';
import type { ClusterOutcome } from '../core/cluster-outcomes.js';
import { planSignalPrices } from '../core/trade-plan.js';
import { BatchWriter } from '../sinks/db/batch-writer.js';
import { openDatabase, type Database, type DbLogFn } from '../sinks/db/database.js';
import { migrate } from '../sinks/db/migrator.js';
import { WriterMetrics } from '../sinks/db/writer-metrics.js';
import type { Logger } from '../sinks/logger.js';
import { LogSummary } from '../sinks/log-summary.js';
import { redactUrl } from '../sinks/logger.js';
import type { Config } from './config.js';
import { writeCoinState } from './liquidity-state.js';

export interface Storage {
  readonly db: Database;
  readonly writer: BatchWriter;
  /** Resolves once migrations have been applied (retried in the background while the server is down). */
  readonly migrated: Promise<void>;
  close(): Promise<void>;
}

export function dbLog(log: Logger, now: () => number = Date.now): DbLogFn {
  // A database outage spills on every full buffer: a few lines a minute, then a count.
  const spills = new LogSummary(log, 'journal spills', { firstLines: 3, windowMs: 60_000, now });
  return (level, msg, fields) => {
    if (msg.startsWith('memory buffer full')) spills.line(fields ?? {}, msg);
    else log[level](fields ?? {}, msg);
  };
}

const nullIfNaN = (n: number): number | null => (Number.isFinite(n) ? n : null);

/**
 * Opens the store (PostgreSQL/TimescaleDB at DATABASE_URL, else embedded PGlite under DATA_DIR/pglite),
 * applies migrations and starts the batch writer. A database that is down at start does not stop the daemon:
 * migrations are retried with backoff while the writer buffers and spills to its journal; its batches retry
 * (a missing table is an outage, not bad data) until the schema exists.
 */
export async function openStorage(config: Config, log: Logger, clock: Clock, registry?: Registry): Promise<Storage> {
  const where = config.databaseUrl ? redactUrl(config.databaseUrl) : `embedded PGlite in ${path.join(config.dataDir, 'pglite')}`;
  log.info({ store: where }, 'opening store');
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), pgliteSharedBuffersMb: config.pgliteSharedBuffersMb, applicationName: 'whalestack' });
  const writer = new BatchWriter({
    db,
    clock,
    journalDir: path.join(config.dataDir, 'journal'),
    maxBatchRows: config.db.batchRows,
    flushIntervalMs: config.db.flushIntervalMs,
    maxBufferedRows: config.db.maxBufferedRows,
    metrics: registry ? new WriterMetrics(registry) : undefined,
    log: dbLog(log, () => clock.now()),
  });
  let stopped = false;
  const migrated = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const report = await migrate(db, { log: dbLog(log), settings: config.timescale, timescaledb: config.timescaledb });
        log.info({ applied: report.applied, timescaledb: report.timescaledb }, 'migrations up to date');
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if ((err as { name?: string }).name === 'MigrationChecksumError') throw err;
        const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
        log.error({ err: message, retryInMs: delayMs }, 'migrations failed; the writer buffers until they succeed');
        await new Promise((r) => setTimeout(r, delayMs).unref());
      }
    }
  })();
  return {
    db,
    writer,
    migrated,
    async close() {
      stopped = true;
      await writer.close();
      await db.close();
    },
  };
}

/** Rows for what the engine emits; pure mapping, so replay and live write the same rows. */
export function writeEngineOutput(
  writer: BatchWriter,
  event: MinuteBarClosed | SpikeDetected | LiquidationsOccurred | CoinEvaluated | RankingUpdated | SignalRaised | ClusterOutcome,
): void {
  switch (event.kind) {
    case 'cluster-outcome':
      writer.enqueue('cluster_outcomes', {
        detectedAtMs: event.detectedAtMs,
        symbol: event.symbol,
        range: event.range,
        source: event.source,
        side: event.side,
        priceLow: event.priceLow,
        priceHigh: event.priceHigh,
        centerPrice: event.centerPrice,
        outcome: event.outcome,
        hitAtMs: event.outcome === 'hit' ? event.resolvedAtMs : null,
        expiredAtMs: event.outcome === 'expired' ? event.resolvedAtMs : null,
        resolvedAtMs: event.resolvedAtMs,
      });
      return;
    case 'bar':
      writer.enqueue('market_bars_1m', {
        tsMs: event.minuteMs,
        symbol: event.symbol,
        open: event.open,
        high: event.high,
        low: event.low,
        close: event.close,
        buyVolumeQty: event.buyQty,
        sellVolumeQty: event.sellQty,
        buyTurnoverUsd: event.buyTurnoverUsd,
        sellTurnoverUsd: event.sellTurnoverUsd,
        tradeCount: event.trades,
        openInterest: nullIfNaN(event.openInterest),
        openInterestUsd: nullIfNaN(event.openInterestValue),
        fundingRate: nullIfNaN(event.fundingRate),
      });
      return;
    case 'spike': {
      const move = Number.isFinite(event.priceChangePct5m) ? event.priceChangePct5m : event.priceChangePct1m;
      const direction = move < 0 ? 'down' : 'up';
      writer.enqueue('oi_volume_spikes', {
        tsMs: event.tsEvent,
        symbol: event.symbol,
        kind: event.reasons.join('+'),
        price: event.lastPrice,
        oiChangePct15m: nullIfNaN(event.oiChangePct15m),
        volumeRatio5m: nullIfNaN(event.volumeRatio5m),
        priceChangePct1m: nullIfNaN(event.priceChangePct1m),
        priceChangePct5m: nullIfNaN(event.priceChangePct5m),
        direction,
      });
      if (event.reasons.includes('Price1m') || event.reasons.includes('Price5m')) {
        writer.enqueue('fast_price_movers', {
          tsMs: event.tsEvent,
          symbol: event.symbol,
          price: event.lastPrice,
          priceChangePct1m: nullIfNaN(event.priceChangePct1m),
          priceChangePct5m: nullIfNaN(event.priceChangePct5m),
          direction,
        });
      }
      return;
    }
    case 'liquidations':
      event.items.forEach((item, seq) =>
        writer.enqueue('liquidations', { tsMs: item.tsEvent, symbol: event.symbol, side: item.side, price: item.price, qty: item.qty, usd: item.usd, seq }),
      );
      return;
    case 'evaluated':
      writeCoinState(writer, event);
      for (const snap of event.snapshots) {
        writer.enqueue('liquidation_data_raw', {
          symbol: snap.symbol,
          range: snap.range,
          source: snap.source,
          refPrice: snap.refPrice,
          fetchedAtMs: snap.fetchedAt,
          levelPrices: snap.levels.map((l) => l.priceUsd),
          levelUsd: snap.levels.map((l) => l.usd),
          levelSides: snap.levels.map((l) => l.side),
        });
      }
      for (const r of event.assessment.ranges) {
        const ref = event.snapshots.find((snap) => snap.range === r.range)?.refPrice ?? NaN;
        for (const c of r.clusters) {
          writer.enqueue('liquidation_clusters', {
            detectedAtMs: event.atMs,
            symbol: event.symbol,
            range: r.range,
            source: r.source,
            side: c.side,
            priceLow: c.low,
            priceHigh: c.high,
            centerPrice: c.centre,
            totalUsd: c.usd,
            levelCount: c.levelCount,
            refPrice: ref,
            distancePct: ((c.centre - ref) / ref) * 100,
            significant: true,
          });
        }
      }
      return;
    case 'ranking':
      for (const c of event.top) {
        if (c.direction === 'NONE' || !Number.isFinite(c.score)) continue;
        writer.enqueue('coin_rankings', {
          rankedAtMs: event.rankedAt,
          symbol: c.symbol,
          rank: c.rank,
          score: c.score,
          imbalance: c.imbalance,
          clusterSizePct: Number.isFinite(c.clusterPct) ? c.clusterPct : 0,
          successRate: c.successRate,
          direction: c.direction === 'LONG' ? 'long' : 'short',
          armed: event.armed.includes(c.symbol),
        });
      }
      return;
    case 'signal': {
      const s = event.signal;
      const plan = planSignalPrices(s);
      if (plan === undefined) return;
      writer.enqueue('signals', {
        signalId: `${s.symbol}-${Math.round(s.tsInit)}`,
        tsMs: Math.round(s.tsInit),
        symbol: s.symbol,
        direction: s.direction === 'LONG' ? 'long' : 'short',
        range: plan.range,
        score: s.score,
        imbalance: s.imbalance,
        entryPrice: plan.entryPrice,
        stopLossPrice: plan.stopLossPrice,
        takeProfitPrice: plan.takeProfitPrice,
        targetClusterUsd: s.target?.usd ?? 0,
        reason: `OI15m ${s.features.oiChangePct15m.toFixed(2)}% vol ${s.features.volumeRatio5m.toFixed(2)}x price5m ${s.features.priceChangePct5m.toFixed(2)}%`,
      });
      return;
    }
  }
}
