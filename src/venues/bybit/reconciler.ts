import { parseExecution, parseOrder, parsePosition, parseWallet } from './bybit-parse.js';
import { protectPosition } from './order-management.js';
import { findByLinkId, noteOrder, type PlacementContext } from './order-placement.js';
import { OPEN_RECORD_STATUSES, type VenueExecution, type VenueOrder, type VenuePosition } from './venue-types.js';

/** What one reconciliation found. */
export interface ReconcileReport {
  readonly ok: boolean;
  /** Why it could not complete (the exchange did not answer); the previous view is kept. */
  readonly error?: string;
  readonly differences: number;
  readonly unknownOrders: readonly string[];
  readonly cancelledUnknown: readonly string[];
  readonly stopsSet: readonly string[];
  /** Local records whose status changed from what the exchange said. */
  readonly recordsSettled: readonly string[];
  readonly executionsMatched: number;
  /** Executions since `sinceMs`, oldest first, for the venue to deliver the ones the stream missed. */
  readonly executions: readonly VenueExecution[];
}

export interface ReconcileOptions {
  readonly cancelUnknownOrders: boolean;
  readonly emergencyStopPct: number;
  /** Executions are read from `sinceMs` (epoch ms, exchange time) on. */
  readonly sinceMs: number;
}

const failed = (error: string): ReconcileReport => ({ ok: false, error, differences: 0, unknownOrders: [], cancelledUnknown: [], stopsSet: [], recordsSettled: [], executionsMatched: 0, executions: [] });

/**
 * Makes the venue's view equal the exchange's: reads open orders, positions, wallet and recent executions,
 * settles every local record still open or in flight by orderLinkId (including those sent just before a crash),
 * reports orders the daemon never placed (cancelling them only when configured), and gives any position with no
 * stop one at once. Position TP/SL orders Bybit lists itself (no orderLinkId, a `stopOrderType`) are not "unknown".
 */
export async function reconcile(ctx: PlacementContext, opts: ReconcileOptions): Promise<ReconcileReport> {
  const orders: VenueOrder[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const out = await ctx.rest.call('/v5/order/realtime', (c) => c.getActiveOrders({ category: 'linear', settleCoin: 'USDT', limit: 50, ...(cursor ? { cursor } : {}) }));
    if (!out.ok) return failed(`open orders: ${out.kind === 'refused' ? `${out.retCode} ${out.retMsg}` : out.error}`);
    const res = out.result as { list?: unknown[]; nextPageCursor?: string };
    for (const row of res.list ?? []) {
      const stopType = (row as { stopOrderType?: unknown } | null)?.stopOrderType;
      if (typeof stopType === 'string' && stopType !== '' && stopType !== 'UNKNOWN') continue; // the position's own TP/SL
      const o = parseOrder(row);
      if (o) orders.push(o);
      else ctx.log.warn({ row }, 'bybit: order row without the fields the venue needs, ignored');
    }
    cursor = res.nextPageCursor || undefined;
    if (!cursor) break;
  }
  const pos = await ctx.rest.call('/v5/position/list', (c) => c.getPositionInfo({ category: 'linear', settleCoin: 'USDT', limit: 200 }));
  if (!pos.ok) return failed(`positions: ${pos.kind === 'refused' ? `${pos.retCode} ${pos.retMsg}` : pos.error}`);
  const positions = ((pos.result as { list?: unknown[] }).list ?? []).map(parsePosition).filter((p): p is VenuePosition => p !== undefined);
  const wallet = await ctx.rest.call('/v5/account/wallet-balance', (c) => c.getWalletBalance({ accountType: 'UNIFIED' }));
  if (wallet.ok) ctx.state.wallet = parseWallet((wallet.result as { list?: unknown[] }).list?.[0]) ?? ctx.state.wallet;
  const execs = await ctx.rest.call('/v5/execution/list', (c) => c.getExecutionList({ category: 'linear', startTime: Math.floor(opts.sinceMs), limit: 100 }));
  const execRows = execs.ok ? ((execs.result as { list?: { orderLinkId?: string }[] }).list ?? []) : [];

  const differences = ctx.state.replace(positions, orders);
  const settled: string[] = [];
  const byLink = new Map(orders.filter((o) => o.orderLinkId !== '').map((o) => [o.orderLinkId, o]));
  for (const r of ctx.store.all()) {
    const before = r.status;
    const open = byLink.get(r.orderLinkId);
    if (open) noteOrder(ctx, open); // also revives a record given up as not_found whose create arrived late
    else if (OPEN_RECORD_STATUSES.includes(r.status)) {
      const found = await findByLinkId(ctx, r.symbol, r.orderLinkId);
      if (found === 'unreachable') continue;
      if (found === undefined) {
        r.status = 'not_found';
        r.updatedAtMs = Date.now();
        ctx.store.put(r);
        ctx.log.warn({ orderLinkId: r.orderLinkId, was: before }, 'bybit: a recorded order is not on the exchange (never arrived); it was not resent');
      }
    }
    if (ctx.store.get(r.orderLinkId)?.status !== before) settled.push(r.orderLinkId);
  }
  let executionsMatched = 0;
  for (const e of execRows) {
    const r = e.orderLinkId ? ctx.store.get(e.orderLinkId) : undefined;
    if (r === undefined) continue;
    executionsMatched++;
    if (r.status === 'not_found' && (await findByLinkId(ctx, r.symbol, r.orderLinkId)) !== undefined) settled.push(r.orderLinkId); // a late create that filled
  }

  const unknown = orders.filter((o) => o.orderLinkId === '' ? true : ctx.store.get(o.orderLinkId) === undefined);
  const unknownOrders = unknown.map((o) => o.orderLinkId || o.orderId);
  const cancelledUnknown: string[] = [];
  const fresh = unknown.filter((o) => !ctx.state.reportedUnknown.has(o.orderId));
  for (const o of fresh) ctx.state.reportedUnknown.add(o.orderId);
  ctx.counters.unknownOrdersSeen += fresh.length;
  if (fresh.length > 0) {
    ctx.log.warn({ orders: fresh.map((o) => ({ orderId: o.orderId, orderLinkId: o.orderLinkId, symbol: o.symbol, side: o.side, qty: o.qty, price: o.price })) },
      opts.cancelUnknownOrders ? 'bybit: orders the daemon did not place; cancelling them (BYBIT_CANCEL_UNKNOWN_ORDERS)' : 'bybit: orders the daemon did not place; left alone');
  }
  if (unknown.length > 0) {
    if (opts.cancelUnknownOrders) {
      for (const o of unknown) {
        const out = await ctx.rest.call('/v5/order/cancel', (c) => c.cancelOrder({ category: 'linear', symbol: o.symbol, orderId: o.orderId }));
        if (out.ok) {
          ctx.state.applyOrder({ ...o, status: 'Cancelled' });
          cancelledUnknown.push(o.orderLinkId || o.orderId);
        }
      }
    }
  }

  const stopsSet: string[] = [];
  for (const p of [...ctx.state.positions.values()]) {
    if (p.stopLoss > 0) continue;
    const r = await protectPosition(ctx, p, opts.emergencyStopPct);
    if (r.status === 'done') stopsSet.push(p.symbol);
  }
  ctx.counters.reconciliations++;
  ctx.counters.reconciliationDifferences += differences;
  ctx.state.lastReconciledAtMs = Date.now();
  if (differences > 0 || settled.length > 0) ctx.log.warn({ differences, settled }, 'bybit: reconciliation corrected the view');
  const executions = execRows.map(parseExecution).filter((e): e is VenueExecution => e !== undefined).sort((a, b) => a.execTimeMs - b.execTimeMs);
  return { ok: true, differences, unknownOrders, cancelledUnknown, stopsSet, recordsSettled: settled, executionsMatched, executions };
}
