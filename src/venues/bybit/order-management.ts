import { dec } from './bybit-parse.js';
import { parsePosition } from './bybit-parse.js';
import { noteOrder, placeEntry, type PlacementContext } from './order-placement.js';
import type { VenuePosition, VenueResult } from './venue-types.js';

function refused(orderLinkId: string, out: { kind: 'refused'; retCode: number; retMsg: string } | { kind: 'unknown'; error: string }): VenueResult {
  if (out.kind === 'unknown') return { status: 'unknown', orderLinkId, message: out.error };
  return { status: 'refused', orderLinkId, reason: 'EXCHANGE_REFUSED', retCode: out.retCode, message: `${out.retCode} ${out.retMsg}` };
}

function symbolOf(ctx: PlacementContext, orderLinkId: string): string | undefined {
  return ctx.store.get(orderLinkId)?.symbol ?? ctx.state.orderByLinkId(orderLinkId)?.symbol;
}

/** Cancels an order by orderLinkId. 110001 (already gone) is a refusal carrying Bybit's message. */
export async function cancelOrder(ctx: PlacementContext, orderLinkId: string): Promise<VenueResult> {
  const symbol = symbolOf(ctx, orderLinkId);
  if (symbol === undefined) return { status: 'refused', orderLinkId, reason: 'UNKNOWN_ORDER', message: 'no record of this orderLinkId' };
  const out = await ctx.rest.call('/v5/order/cancel', (c) => c.cancelOrder({ category: 'linear', symbol, orderLinkId }));
  if (!out.ok) return refused(orderLinkId, out);
  const o = ctx.state.orderByLinkId(orderLinkId);
  if (o) {
    ctx.state.applyOrder({ ...o, status: 'Cancelled' });
    noteOrder(ctx, { ...o, status: 'Cancelled' });
  }
  return { status: 'done', orderLinkId, recovered: false };
}

/** Amends price, quantity, stop or take-profit of an open order by orderLinkId. */
export async function amendOrder(ctx: PlacementContext, orderLinkId: string, change: { price?: number; qty?: number; stopLoss?: number; takeProfit?: number }): Promise<VenueResult> {
  const symbol = symbolOf(ctx, orderLinkId);
  if (symbol === undefined) return { status: 'refused', orderLinkId, reason: 'UNKNOWN_ORDER', message: 'no record of this orderLinkId' };
  const body = { category: 'linear' as const, symbol, orderLinkId } as Record<string, string>;
  for (const k of ['price', 'qty', 'stopLoss', 'takeProfit'] as const) if (change[k] !== undefined) body[k] = dec(change[k]);
  const out = await ctx.rest.call('/v5/order/amend', (c) => c.amendOrder(body as unknown as Parameters<typeof c.amendOrder>[0]));
  return out.ok ? { status: 'done', orderLinkId, recovered: false } : refused(orderLinkId, out);
}

/**
 * Moves a position's stop through `/v5/position/trading-stop`, only ever tighter: up for a long, down for a
 * short. A move that would loosen it is refused before it reaches the exchange; 34040 (same value) is done.
 */
export async function trailStop(ctx: PlacementContext, symbol: string, stopLoss: number): Promise<VenueResult> {
  const id = `trail-${symbol}`;
  const p = ctx.state.positions.get(symbol);
  if (p === undefined) return { status: 'refused', orderLinkId: id, reason: 'NO_POSITION', message: `no open ${symbol} position` };
  const tighter = p.stopLoss === 0 || (p.side === 'Buy' ? stopLoss >= p.stopLoss : stopLoss <= p.stopLoss);
  if (!tighter) return { status: 'refused', orderLinkId: id, reason: 'STOP_WOULD_LOOSEN', message: `stop ${stopLoss} is looser than ${p.stopLoss} for a ${p.side} position` };
  const tick = ctx.filters.get(symbol)?.tickSize;
  const rounded = tick === undefined ? stopLoss : p.side === 'Buy' ? Math.floor(stopLoss / tick + 1e-9) * tick : Math.ceil(stopLoss / tick - 1e-9) * tick;
  if (rounded === p.stopLoss) return { status: 'done', orderLinkId: id, recovered: false };
  const out = await ctx.rest.call('/v5/position/trading-stop', (c) =>
    c.setTradingStop({ category: 'linear', symbol, tpslMode: 'Full', positionIdx: 0, stopLoss: dec(rounded, tick) }), [34040]);
  if (!out.ok) return refused(id, out);
  ctx.state.applyPosition(symbol, { ...p, stopLoss: rounded });
  return { status: 'done', orderLinkId: id, recovered: false };
}

/** HALTED: cancels every open entry order (orderFilter=Order) and keeps the positions' stops and take-profits. */
export async function cancelAllEntries(ctx: PlacementContext, symbol?: string): Promise<VenueResult> {
  const params = symbol === undefined ? { category: 'linear' as const, settleCoin: 'USDT', orderFilter: 'Order' as const } : { category: 'linear' as const, symbol, orderFilter: 'Order' as const };
  const out = await ctx.rest.call('/v5/order/cancel-all', (c) => c.cancelAllOrders(params));
  if (!out.ok) return refused('cancel-all', out);
  for (const o of [...ctx.state.orders.values()]) {
    if ((symbol === undefined || o.symbol === symbol) && !o.reduceOnly) {
      ctx.state.applyOrder({ ...o, status: 'Cancelled' });
      noteOrder(ctx, { ...o, status: 'Cancelled' });
    }
  }
  return { status: 'done', orderLinkId: 'cancel-all', recovered: false };
}

/**
 * Gives a position with no stop on the exchange one at once: the stop of the newest local entry record for
 * that symbol and side, or `emergencyStopPct` from the entry price when there is none. When the exchange
 * refuses because the price is already past that stop, the position is closed at market (reduce-only):
 * an unprotected position is never left standing.
 */
export async function protectPosition(ctx: PlacementContext, p: VenuePosition, emergencyStopPct: number): Promise<VenueResult> {
  const planned = ctx.store.all().filter((r) => r.symbol === p.symbol && r.side === p.side && r.stopLoss > 0).sort((a, b) => b.updatedAtMs - a.updatedAtMs)[0];
  const tick = ctx.filters.get(p.symbol)?.tickSize ?? 1e-8;
  const raw = planned?.stopLoss ?? p.avgPrice * (p.side === 'Buy' ? 1 - emergencyStopPct / 100 : 1 + emergencyStopPct / 100);
  const stop = p.side === 'Buy' ? Math.floor(raw / tick + 1e-9) * tick : Math.ceil(raw / tick - 1e-9) * tick;
  ctx.counters.stopsRepaired++;
  ctx.log.error({ symbol: p.symbol, side: p.side, size: p.size, stopLoss: stop, source: planned ? `record ${planned.orderLinkId}` : `emergency ${emergencyStopPct}%` },
    'BYBIT POSITION WITHOUT A STOP: setting one now');
  const out = await ctx.rest.call('/v5/position/trading-stop', (c) =>
    c.setTradingStop({ category: 'linear', symbol: p.symbol, tpslMode: 'Full', positionIdx: 0, stopLoss: dec(stop, tick) }), [34040]);
  if (out.ok) {
    ctx.state.applyPosition(p.symbol, { ...p, stopLoss: stop });
    return { status: 'done', orderLinkId: `stop-${p.symbol}`, recovered: false };
  }
  if (out.kind === 'refused' && /base_price|should be/i.test(out.retMsg)) {
    ctx.log.error({ symbol: p.symbol, retCode: out.retCode, retMsg: out.retMsg }, 'BYBIT: price already beyond the stop; closing the position at market');
    return closePosition(ctx, p.symbol, `close-${p.symbol}-${Date.now()}`.slice(0, 36));
  }
  return refused(`stop-${p.symbol}`, out);
}

/**
 * Closes the whole position at market with a reduce-only order (`orderLinkId` chosen by the caller, so a retry
 * is idempotent like any entry). The size is read from the exchange first, not from the possibly stale view.
 */
export async function closePosition(ctx: PlacementContext, symbol: string, orderLinkId: string): Promise<VenueResult> {
  const out = await ctx.rest.call('/v5/position/list', (c) => c.getPositionInfo({ category: 'linear', symbol }));
  if (!out.ok) return { status: 'refused', orderLinkId, reason: 'POSITION_UNREADABLE', message: out.kind === 'refused' ? `${out.retCode} ${out.retMsg}` : out.error };
  const p = parsePosition((out.result as { list?: unknown[] }).list?.[0]);
  if (p === undefined) return { status: 'refused', orderLinkId, reason: 'NO_POSITION', message: `no open ${symbol} position` };
  return placeEntry(ctx, { orderLinkId, symbol, side: p.side === 'Buy' ? 'Sell' : 'Buy', orderType: 'Market', qty: p.size, stopLoss: 0, reduceOnly: true });
}
