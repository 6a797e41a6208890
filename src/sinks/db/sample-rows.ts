import type { TableName, TableRows } from './row-types.js';
import { TABLES } from './tables.js';

/**
 * Deterministic, valid rows for every table, for tests and benchmarks. `sampleRow(table, i, …)` gives a row
 * whose natural key is unique per `i` (and per `tag`, so runs sharing a database do not collide), with
 * realistic sizes: a heatmap snapshot carries `levels` price levels.
 */

export interface SampleOptions {
  /** Epoch ms of row 0; row i is at `baseMs + i` (integer ms, so stored keys compare exactly). */
  readonly baseMs?: number;
  /** Distinguishes runs in one database. Letters and digits only. */
  readonly tag?: string;
  /** Price levels per heatmap snapshot (default 100). */
  readonly levels?: number;
}

const SIDES = ['long', 'short'] as const;

export function sampleRow<T extends TableName>(table: T, i: number, o: SampleOptions = {}): TableRows[T] {
  const ts = (o.baseMs ?? 1_750_000_000_000) + i;
  const tag = o.tag ?? 'S';
  const symbol = `${tag}${i % 500}USDT`;
  const price = 100 + (i % 1000) / 10;
  const side = SIDES[i % 2] as 'long' | 'short';
  const rows: { [K in TableName]: () => TableRows[K] } = {
    liquidation_data_raw: () => {
      const n = o.levels ?? 100;
      const levelPrices = Array.from({ length: n }, (_, k) => price * (0.8 + (0.4 * k) / n));
      return {
        symbol, range: '7d', source: 'estimate', refPrice: price, fetchedAtMs: ts, levelPrices,
        levelUsd: levelPrices.map((p, k) => 1_000 + ((k * 7919) % 100_000) + p / 10),
        levelSides: levelPrices.map((p) => (p > price ? 'short' : 'long')),
      };
    },
    liquidation_clusters: () => ({
      detectedAtMs: ts, symbol, range: '30d', source: 'coinglass', side, priceLow: price * 0.98, priceHigh: price * 0.99,
      centerPrice: price * 0.985, totalUsd: 2.5e7, levelCount: 12, refPrice: price, distancePct: 1.5, significant: i % 3 === 0,
    }),
    oi_volume_spikes: () => ({
      tsMs: ts, symbol, kind: 'trigger', price, oiChangePct15m: 3.4, volumeRatio5m: 1.8, priceChangePct1m: 0.4, priceChangePct5m: 1.2,
      direction: i % 2 === 0 ? 'up' : 'down',
    }),
    fast_price_movers: () => ({ tsMs: ts, symbol, price, priceChangePct1m: 2.2, priceChangePct5m: null, direction: 'up' }),
    coin_thresholds: () => ({ symbol: `${tag}T${i}USDT`, thresholdUsd: 1e7, source: 'default', marketCapUsd: i % 2 ? 5e9 : null, updatedAtMs: ts, overrideUsd: null }),
    coin_typical_cluster_sizes: () => ({
      coin: `${tag}C${i}`, range: '7d', source: i % 2 ? 'coinglass' : 'estimate', typicalUsd: 2.5e7, samples: 12 + (i % 50), lastObservedAtMs: ts,
    }),
    coin_liquidation_patterns: () => ({
      symbol: `${tag}P${i}USDT`, range: '7d', successCount: 17, failureCount: 3, successRate: 0.85, failureRate: 0.15,
      avgTimeToTargetSec: 5400, updatedAtMs: ts, avgClusterUsd: 3e7, typicalClusterUsd: 2.8e7, minClusterUsd: 1.2e7,
    }),
    coin_rankings: () => ({
      rankedAtMs: ts, symbol, rank: (i % 10) + 1, score: 100.4, imbalance: 0.714, clusterSizePct: 159, successRate: 0.85, direction: side,
      armed: i % 10 < 3,
    }),
    trades: () => ({
      tradeId: `${tag}-trade-${i}`, agentName: 'execution', symbol, side, entryPrice: price, exitPrice: null, stopLossPrice: price * 0.97,
      takeProfitPrice: price * 1.05, sizeQty: 10, sizeUsd: price * 10, pnlPct: null, pnlUsd: null, status: 'open', exitReason: null,
      openedAtMs: ts, closedAtMs: null, updatedAtMs: ts, signalId: `${tag}-sig-${i}`, feesUsd: 1.25, leverage: 5, liquidationRange: '7d',
      liquidationSource: 'estimate', targetClusterUsd: 4e7,
    }),
    position_monitor_logs: () => ({
      tsMs: ts, tradeId: `${tag}-trade-${i}`, agentName: 'position', symbol, price, pnlPct: 4.2, stopLossPrice: price * 0.97,
      takeProfitPrice: price * 1.05, action: 'hold', message: 'profit below 10%: stop unchanged',
    }),
    agent_logs: () => ({
      tsMs: ts, agentName: 'ranker', eventId: `${tag}-ev-${i}`, level: 'info', event: 'ranked', message: 'ranking round complete',
      details: { top: [symbol], armed: 3, note: 'tab\there' },
    }),
    signals: () => ({
      signalId: `${tag}-sig-${i}`, tsMs: ts, symbol, direction: side, range: '7d', score: 100.4, imbalance: 0.714, entryPrice: price,
      stopLossPrice: price * 0.97, takeProfitPrice: price * 1.05, targetClusterUsd: 2.5e7, reason: 'OI +3.4% 15m, vol 1.8x, price +1.2% 5m',
    }),
    orders: () => ({
      orderId: `${tag}-ord-${i}`, tradeId: `${tag}-trade-${i}`, venue: 'paper', symbol, side: i % 2 ? 'sell' : 'buy', orderType: 'limit',
      price, qty: 1, filledQty: 0, avgFillPrice: null, reduceOnly: false, status: 'new', rejectReason: null, createdAtMs: ts, updatedAtMs: ts,
    }),
    execution_refusals: () => ({ tsMs: ts, signalId: `${tag}-sig-${i}`, symbol, reason: 'RISK_MAX_POSITIONS', message: '3 coins in play, max 3' }),
    market_bars_1m: () => ({
      tsMs: ts, symbol, open: price, high: price * 1.01, low: price * 0.99, close: price * 1.002, buyVolumeQty: 1200.5, sellVolumeQty: 980.25,
      buyTurnoverUsd: 1200.5 * price, sellTurnoverUsd: 980.25 * price, tradeCount: 311, openInterest: 5.5e6, openInterestUsd: 5.5e6 * price,
      fundingRate: 0.0001,
    }),
    liquidations: () => ({ tsMs: ts, symbol, side, price, qty: 0.5 + (i % 7), usd: price * (0.5 + (i % 7)), seq: i % 4 }),
    history_klines: () => ({
      symbol, interval: i % 2 ? '60' : '1', tsMs: ts, open: price, high: price * 1.01, low: price * 0.99, close: price * 1.002, volume: 1500.5,
      turnover: 1500.5 * price,
    }),
    history_open_interest: () => ({ symbol, interval: i % 2 ? '1h' : '5min', tsMs: ts, openInterest: 5.5e6 + i }),
    cluster_outcomes: () => ({
      detectedAtMs: ts, symbol, range: '7d', source: 'estimate', side, priceLow: price * 1.02, priceHigh: price * 1.03, centerPrice: price * 1.025,
      outcome: i % 2 ? 'hit' : 'expired', hitAtMs: i % 2 ? ts + 3_600_000 : null, expiredAtMs: i % 2 ? null : ts + 7 * 86_400_000,
      resolvedAtMs: i % 2 ? ts + 3_600_000 : ts + 7 * 86_400_000,
    }),
  };
  return rows[table]() as TableRows[T];
}

/** Key of a produced row as a comparable string, using the table's natural key (times as epoch ms). */
export function rowKey(table: TableName, row: object): string {
  const spec = TABLES[table];
  const rec = row as Record<string, unknown>;
  return JSON.stringify(spec.key.map((col) => rec[spec.columns.find((c) => c.name === col)?.field ?? col]));
}

/** Same key from a row read back with `pg` (Date → epoch ms). */
export function storedRowKey(table: TableName, dbRow: Record<string, unknown>): string {
  return JSON.stringify(TABLES[table].key.map((col) => {
    const v = dbRow[col];
    return v instanceof Date ? v.getTime() : v;
  }));
}

/**
 * The row mix a live engine produces per minute at `symbols` symbols: a bar per symbol, heatmap snapshots
 * and clusters for a share of them, realized liquidations, spikes, rankings, logs. Weights sum to 1.
 */
export const REALISTIC_MIX: ReadonlyArray<readonly [TableName, number]> = [
  ['market_bars_1m', 0.3],
  ['liquidations', 0.25],
  ['liquidation_clusters', 0.12],
  ['liquidation_data_raw', 0.05],
  ['coin_rankings', 0.08],
  ['oi_volume_spikes', 0.05],
  ['fast_price_movers', 0.05],
  ['agent_logs', 0.06],
  ['signals', 0.02],
  ['position_monitor_logs', 0.02],
];
