import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../sinks/logger.js';
import { registerVenueMetrics, type VenueMetrics } from '../sinks/venue-metrics.js';
import { BybitBroker, type BybitTradingMode } from '../venues/bybit/bybit-broker.js';
import { BybitVenue } from '../venues/bybit/bybit-venue.js';
import { JsonFileFillLedger } from '../venues/bybit/fill-ledger.js';
import { JsonFileOrderRecordStore } from '../venues/bybit/order-record-store.js';
import type { Config } from './config.js';

/** What the operator views show about the exchange session next to the exchange's positions and orders. */
export interface VenueStatus {
  readonly venue: string;
  readonly streamUp: boolean;
  readonly lastReconciledAtMs: number | null;
  readonly lastReconciledAt: string | null;
}

export interface BybitTrading {
  readonly broker: BybitBroker;
  readonly venue: BybitVenue;
  status(): VenueStatus;
}

export type BybitTradingStart =
  | { readonly ok: true; readonly trading: BybitTrading }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/** Where a mode's order records and reported fills live: one pair of files per mode, so testnet never meets live. */
export function bybitStateFiles(dataDir: string, mode: BybitTradingMode): { orders: string; fills: string } {
  return { orders: path.join(dataDir, `bybit-${mode}-orders.json`), fills: path.join(dataDir, `bybit-${mode}-fills.json`) };
}

/**
 * Opens the Bybit session for TRADING_MODE=testnet|demo|live: order records and the fill ledger under DATA_DIR,
 * venue metrics, the venue (keys check, one-way mode, leverage per SYMBOLS coin at MAX_LEVERAGE, filters, private
 * stream, first reconciliation) and the broker over it. Resolves to a refusal, never throws: the caller trades
 * nothing then, and never falls back to paper.
 */
export async function startBybitTrading(config: Config, log: Logger, registry?: Registry): Promise<BybitTradingStart> {
  const mode = config.trading.mode;
  const bybit = config.trading.bybit;
  if ((mode !== 'testnet' && mode !== 'demo' && mode !== 'live') || bybit === undefined || config.bybitApiKey === undefined || config.bybitApiSecret === undefined) {
    return { ok: false, reason: 'NOT_CONFIGURED', message: `TRADING_MODE=${mode} has no Bybit endpoints or keys` };
  }
  let files: { orders: string; fills: string };
  let store: JsonFileOrderRecordStore;
  let ledger: JsonFileFillLedger;
  try {
    mkdirSync(config.dataDir, { recursive: true });
    files = bybitStateFiles(config.dataDir, mode);
    store = new JsonFileOrderRecordStore(files.orders);
    ledger = new JsonFileFillLedger(files.fills);
  } catch (err) {
    return { ok: false, reason: 'STATE_UNREADABLE', message: `the Bybit order records under ${config.dataDir} cannot be read (${err instanceof Error ? err.message : String(err)}); fix or move the file, never delete it while positions are open` };
  }
  const symbols = config.symbols ?? [];
  let venue: BybitVenue | undefined;
  const venueName = `bybit-${mode}`;
  let metrics: VenueMetrics | undefined;
  if (registry !== undefined) {
    metrics = registerVenueMetrics(registry, venueName, {
      counters: () => venue!.counters,
      lastReconciledAtMs: () => venue?.snapshot().lastReconciledAtMs,
    });
  }
  const broker = new BybitBroker({
    mode, log, ledger,
    venue: (hooks) => (venue = new BybitVenue({
      restUrl: bybit.restUrl, privateWsUrl: bybit.privateWsUrl, apiKey: config.bybitApiKey!, apiSecret: config.bybitApiSecret!,
      symbols, leverageBySymbol: Object.fromEntries(symbols.map((s) => [s, config.trading.maxLeverage])), store, log,
      recvWindowMs: bybit.recvWindowMs, requestTimeoutMs: bybit.requestTimeoutMs, cancelUnknownOrders: bybit.cancelUnknownOrders,
      emergencyStopPct: bybit.emergencyStopPct, ...(metrics ? { onRestLatency: (endpoint: string, ms: number) => metrics.observeRestLatency(endpoint, ms) } : {}),
      ...hooks,
    })),
  });
  const v = venue!;
  const started = await v.start();
  if (!started.ok) {
    await v.stop();
    return { ok: false, reason: started.reason, message: started.message };
  }
  if (symbols.length === 0) log.warn({ venue: venueName }, 'SYMBOLS is unset: leverage is left as set on the Bybit account (set SYMBOLS to have MAX_LEVERAGE applied per coin at start)');
  return {
    ok: true,
    trading: {
      broker, venue: v,
      status() {
        const snap = v.snapshot();
        const at = snap.lastReconciledAtMs;
        return { venue: venueName, streamUp: snap.streamUp, lastReconciledAtMs: at ?? null, lastReconciledAt: at === undefined ? null : new Date(at).toISOString() };
      },
    },
  };
}
