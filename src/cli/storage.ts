import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { LiquidationsOccurred, MinuteBarClosed, SpikeDetected } from '../core/events.js';
import { BatchWriter } from '../sinks/db/batch-writer.js';
import { openDatabase, type Database, type DbLogFn } from '../sinks/db/database.js';
import { migrate } from '../sinks/db/migrator.js';
import { WriterMetrics } from '../sinks/db/writer-metrics.js';
import type { Logger } from '../sinks/logger.js';
import { redactUrl } from '../sinks/logger.js';
import type { Config } from './config.js';

export interface Storage {
  readonly db: Database;
  readonly writer: BatchWriter;
  /** Resolves once migrations have been applied (retried in the background while the server is down). */
  readonly migrated: Promise<void>;
  close(): Promise<void>;
}

export function dbLog(log: Logger): DbLogFn {
  return (level, msg, fields) => log[level](fields ?? {}, msg);
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
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), applicationName: 'whalestack' });
  const writer = new BatchWriter({
    db,
    clock,
    journalDir: path.join(config.dataDir, 'journal'),
    metrics: registry ? new WriterMetrics(registry) : undefined,
    log: dbLog(log),
  });
  let stopped = false;
  const migrated = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const report = await migrate(db, { log: dbLog(log) });
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
export function writeEngineOutput(writer: BatchWriter, event: MinuteBarClosed | SpikeDetected | LiquidationsOccurred): void {
  switch (event.kind) {
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
  }
}
