import type { ExecutionOutput, TradeRecord } from '../actors/execution-state.js';
import type { OrderView } from '../core/broker.js';
import type { PatternStats } from '../core/pattern-stats.js';
import { successRate, type SuccessPrior } from '../core/pattern-stats.js';
import type { BatchWriter } from '../sinks/db/batch-writer.js';
import type { Database } from '../sinks/db/database.js';
import type { CoinLiquidationPatternRow, OrderRow, TradeRow } from '../sinks/db/row-types.js';

/**
 * Rows for what execution does. Trades and orders are state rows (newest `updated_at` wins, an equal one is
 * skipped), and a market entry is accepted, filled and its trade opened within one millisecond, so the wiring
 * keeps the last version per key and writes it when it flushes (`RowCoalescer`).
 */
export function tradeRow(t: TradeRecord, agentName: string): TradeRow {
  const filledQty = t.entryFills.reduce((a, f) => a + f.qty, 0);
  const entry = filledQty > 0 ? t.entryFills.reduce((a, f) => a + f.qty * f.priceUsd, 0) / filledQty : t.plannedEntryPrice;
  const exitQty = t.exitFills.reduce((a, f) => a + f.qty, 0);
  const qty = filledQty > 0 ? filledQty : t.plannedQty;
  return {
    tradeId: t.tradeId, agentName, symbol: t.symbol, side: t.direction === 'LONG' ? 'long' : 'short', entryPrice: entry,
    exitPrice: exitQty > 0 ? t.exitFills.reduce((a, f) => a + f.qty * f.priceUsd, 0) / exitQty : null,
    stopLossPrice: t.stopLossPrice, takeProfitPrice: t.takeProfitPrice, sizeQty: qty, sizeUsd: qty * entry,
    pnlPct: t.pnlPct ?? null, pnlUsd: t.pnlUsd ?? null, status: t.status, exitReason: t.exitReason ?? null,
    openedAtMs: Math.round(t.openedAtMs ?? t.createdAtMs), closedAtMs: t.closedAtMs === undefined ? null : Math.round(t.closedAtMs),
    updatedAtMs: Math.round(t.updatedAtMs), signalId: t.signalId, feesUsd: t.feesUsd, leverage: t.leverage,
    liquidationRange: t.range, liquidationSource: t.liquidationSource, targetClusterUsd: t.targetClusterUsd,
  };
}

export function orderRow(o: OrderView, venue: string, tradeId: string | undefined): OrderRow {
  return {
    orderId: o.orderLinkId, tradeId: tradeId ?? null, venue, symbol: o.symbol, side: o.side === 'Buy' ? 'buy' : 'sell',
    orderType: o.orderType.toLowerCase(), price: o.priceUsd ?? null, qty: o.qty, filledQty: o.filledQty, avgFillPrice: o.avgFillPrice ?? null,
    reduceOnly: o.reduceOnly, status: o.status.toLowerCase(), rejectReason: o.rejectReason ?? null,
    createdAtMs: Math.round(o.createdAtMs), updatedAtMs: Math.round(o.updatedAtMs),
  };
}

export function patternRow(p: PatternStats, prior: SuccessPrior, updatedAtMs: number): CoinLiquidationPatternRow {
  const rate = successRate(p, prior);
  return {
    symbol: p.symbol, range: p.range, successCount: p.successCount, failureCount: p.failureCount, successRate: rate, failureRate: 1 - rate,
    avgTimeToTargetSec: p.avgTimeToTargetSec ?? null, updatedAtMs: Math.round(updatedAtMs), avgClusterUsd: p.avgClusterUsd,
    typicalClusterUsd: p.typicalClusterUsd, minClusterUsd: p.minClusterUsd ?? null,
  };
}

/** Keeps the newest row per (table, key) until `flush` hands them to the writer. */
export class RowCoalescer {
  private readonly trades = new Map<string, TradeRow>();
  private readonly orders = new Map<string, OrderRow>();
  private readonly patterns = new Map<string, CoinLiquidationPatternRow>();

  constructor(private readonly writer: BatchWriter, private readonly agentName: string, private readonly prior: SuccessPrior) {}

  output(o: ExecutionOutput): void {
    switch (o.kind) {
      case 'trade':
        this.trades.set(o.trade.tradeId, tradeRow(o.trade, this.agentName));
        return;
      case 'pattern':
        this.patterns.set(`${o.stats.symbol}|${o.stats.range}`, patternRow(o.stats, this.prior, o.tsMs));
        return;
      case 'monitor':
        this.writer.enqueue('position_monitor_logs', {
          tsMs: Math.round(o.tsMs), tradeId: o.tradeId, agentName: this.agentName, symbol: o.symbol, price: o.priceUsd, pnlPct: o.pnlPct,
          stopLossPrice: o.stopLossPrice, takeProfitPrice: o.takeProfitPrice, action: o.action, message: o.message,
        });
        return;
      case 'order-refused':
        this.writer.enqueue('execution_refusals', { tsMs: Math.round(o.tsMs), signalId: o.signalId, symbol: o.symbol, reason: o.reason, message: o.message });
        return;
      case 'risk':
        this.writer.enqueue('agent_logs', {
          tsMs: Math.round(o.transition.atMs), agentName: this.agentName, eventId: `risk-${Math.round(o.transition.atMs)}-${o.transition.to}`,
          level: o.transition.to === 'ACTIVE' ? 'info' : 'warn', event: 'risk_state', message: `${o.transition.from} → ${o.transition.to}: ${o.transition.reason}`,
          details: { ...o.transition },
        });
        return;
      case 'control':
        this.writer.enqueue('agent_logs', {
          tsMs: Math.round(o.tsMs), agentName: this.agentName, eventId: `control-${o.requestId}`, level: o.ok ? 'warn' : 'info', event: 'operator_control',
          message: `${o.command}${o.symbol === undefined ? '' : ` ${o.symbol}`} by ${o.by}: ${o.ok ? '' : `refused ${o.reason ?? ''}: `}${o.message}`,
          details: { command: o.command, symbol: o.symbol ?? null, by: o.by, ok: o.ok, reason: o.reason ?? null },
        });
        return;
      default:
        return;
    }
  }

  order(o: OrderView, venue: string, tradeId: string | undefined): void {
    this.orders.set(o.orderLinkId, orderRow(o, venue, tradeId));
  }

  flush(): void {
    for (const r of this.orders.values()) this.writer.enqueue('orders', r);
    for (const r of this.trades.values()) this.writer.enqueue('trades', r);
    for (const r of this.patterns.values()) this.writer.enqueue('coin_liquidation_patterns', r);
    this.orders.clear();
    this.trades.clear();
    this.patterns.clear();
  }
}

/** `coin_liquidation_patterns` rows back into pattern statistics (the learned rates survive a restart). */
export async function loadPatterns(db: Database): Promise<PatternStats[]> {
  const r = await db.query<Record<string, unknown>>(
    'SELECT symbol, range, success_count, failure_count, avg_time_to_target_sec, avg_cluster_usd, typical_cluster_usd, min_cluster_usd FROM coin_liquidation_patterns',
  );
  const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));
  return r.rows.map((row) => ({
    symbol: String(row.symbol), range: String(row.range), successCount: Number(row.success_count), failureCount: Number(row.failure_count),
    avgClusterUsd: num(row.avg_cluster_usd) ?? 0, typicalClusterUsd: num(row.typical_cluster_usd) ?? 0, minClusterUsd: num(row.min_cluster_usd),
    avgTimeToTargetSec: num(row.avg_time_to_target_sec),
  }));
}
