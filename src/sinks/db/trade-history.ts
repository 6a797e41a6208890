import type { DbSession } from './database.js';
import type { TradeRow } from './row-types.js';

/** One stored trade (the `trades` table), as `GET /trades/history` shows it. Times are epoch ms. */
export type StoredTrade = Omit<TradeRow, 'updatedAtMs'>;

interface Row {
  trade_id: string; agent_name: string; symbol: string; side: 'long' | 'short'; status: string; entry_price: number; exit_price: number | null;
  stop_loss_price: number; take_profit_price: number; size_qty: number; size_usd: number; pnl_pct: number | null; pnl_usd: number | null;
  fees_usd: number | null; exit_reason: string | null; signal_id: string | null; liquidation_range: string | null; liquidation_source: string | null;
  leverage: number | null; target_cluster_usd: number | null; opened_ms: number | string; closed_ms: number | string | null;
}

/**
 * Every trade an agent made, newest first, from the store: the in-memory `/trades` keeps only the open trades and
 * the last closed ones, so the full record (and paging through it with `beforeMs`, the oldest `openedAtMs` of the
 * previous page) is read here. `limit` is clamped to 1–1000.
 */
export async function loadTradeHistory(db: DbSession, agentName: string, limit: number, beforeMs?: number): Promise<StoredTrade[]> {
  const n = Math.min(1000, Math.max(1, Math.trunc(limit) || 1));
  const params: unknown[] = [agentName, n];
  let before = '';
  if (beforeMs !== undefined && Number.isFinite(beforeMs)) {
    params.push(new Date(beforeMs).toISOString());
    before = 'AND opened_at < $3';
  }
  const r = await db.query<Row>(
    `SELECT trade_id, agent_name, symbol, side, status, entry_price, exit_price, stop_loss_price, take_profit_price, size_qty, size_usd,
            pnl_pct, pnl_usd, fees_usd, exit_reason, signal_id, liquidation_range, liquidation_source, leverage, target_cluster_usd,
            (extract(epoch FROM opened_at) * 1000)::float8 AS opened_ms, (extract(epoch FROM closed_at) * 1000)::float8 AS closed_ms
       FROM trades WHERE agent_name = $1 ${before} ORDER BY opened_at DESC, trade_id LIMIT $2`,
    params,
  );
  return r.rows.map((t) => ({
    tradeId: t.trade_id, agentName: t.agent_name, symbol: t.symbol, side: t.side, status: t.status, entryPrice: t.entry_price, exitPrice: t.exit_price,
    stopLossPrice: t.stop_loss_price, takeProfitPrice: t.take_profit_price, sizeQty: t.size_qty, sizeUsd: t.size_usd, pnlPct: t.pnl_pct, pnlUsd: t.pnl_usd,
    feesUsd: t.fees_usd, exitReason: t.exit_reason, signalId: t.signal_id, liquidationRange: t.liquidation_range, liquidationSource: t.liquidation_source, leverage: t.leverage, targetClusterUsd: t.target_cluster_usd,
    openedAtMs: Math.round(Number(t.opened_ms)), closedAtMs: t.closed_ms === null ? null : Math.round(Number(t.closed_ms)),
  }));
}
