import type { OrderParamsV5 } from 'bybit-api';
import { dec, parseOrder, recordStatusOf, type InstrumentFilter } from './bybit-parse.js';
import type { BybitRestSession } from './bybit-rest-session.js';
import type { VenueState } from './venue-state.js';
import type { EntryIntent, OrderRecord, OrderRecordStore, VenueCounters, VenueLog, VenueOrder, VenueResult } from './venue-types.js';

/** What placement needs from the venue session. */
export interface PlacementContext {
  readonly rest: BybitRestSession;
  readonly store: OrderRecordStore;
  readonly state: VenueState;
  readonly log: VenueLog;
  readonly counters: VenueCounters;
  readonly filters: ReadonlyMap<string, InstrumentFilter>;
}

const LINK_ID = /^[A-Za-z0-9_-]{1,36}$/;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Bybit's create body for an entry: one-way mode, stop (and take-profit) on the order, Full TP/SL mode. */
export function createBody(i: EntryIntent): OrderParamsV5 {
  if (i.reduceOnly === true) {
    return { category: 'linear', symbol: i.symbol, side: i.side, orderType: i.orderType, qty: dec(i.qty), orderLinkId: i.orderLinkId, positionIdx: 0, reduceOnly: true, ...(i.orderType === 'Limit' && i.price !== undefined ? { price: dec(i.price), timeInForce: 'GTC' as const } : {}) };
  }
  const body: OrderParamsV5 = {
    category: 'linear', symbol: i.symbol, side: i.side, orderType: i.orderType, qty: dec(i.qty), orderLinkId: i.orderLinkId,
    positionIdx: 0, stopLoss: dec(i.stopLoss), tpslMode: 'Full', slTriggerBy: i.triggerBy ?? 'LastPrice',
  };
  if (i.orderType === 'Limit' && i.price !== undefined) Object.assign(body, { price: dec(i.price), timeInForce: 'GTC' });
  if (i.takeProfit !== undefined) Object.assign(body, { takeProfit: dec(i.takeProfit), tpTriggerBy: i.triggerBy ?? 'LastPrice' });
  return body;
}

/** Checks the venue can send this order at all (an entry needs a stop); a refusal here never reaches the exchange. */
export function precheck(i: EntryIntent): VenueResult | undefined {
  if (!LINK_ID.test(i.orderLinkId)) return { status: 'refused', orderLinkId: i.orderLinkId, reason: 'INVALID_ORDER_LINK_ID', message: 'orderLinkId must be 1–36 chars of [A-Za-z0-9_-]' };
  if (!(i.stopLoss > 0) && i.reduceOnly !== true) return { status: 'refused', orderLinkId: i.orderLinkId, reason: 'NO_STOP_LOSS', message: 'every entry carries a stop-loss' };
  return undefined;
}

export function newRecord(i: EntryIntent): OrderRecord {
  return {
    orderLinkId: i.orderLinkId, symbol: i.symbol, side: i.side, orderType: i.orderType, qty: i.qty, ...(i.price === undefined ? {} : { price: i.price }),
    stopLoss: i.stopLoss, ...(i.takeProfit === undefined ? {} : { takeProfit: i.takeProfit }), status: 'sending', cumExecQty: 0, updatedAtMs: Date.now(),
  };
}

/** Updates the stored record from what the exchange says about the order. */
export function noteOrder(ctx: PlacementContext, o: VenueOrder): void {
  if (o.orderLinkId === '') return;
  const r = ctx.store.get(o.orderLinkId);
  if (r === undefined) return;
  r.orderId = o.orderId;
  r.status = recordStatusOf(o.status);
  r.cumExecQty = o.cumExecQty;
  r.updatedAtMs = Date.now();
  ctx.store.put(r);
}

/**
 * Asks the exchange for an order by orderLinkId (open or recently closed). `unreachable` when the question
 * itself got no answer: then nothing may be concluded, least of all that the order does not exist.
 */
export async function findByLinkId(ctx: PlacementContext, symbol: string, orderLinkId: string): Promise<VenueOrder | undefined | 'unreachable'> {
  const out = await ctx.rest.call('/v5/order/realtime', (c) => c.getActiveOrders({ category: 'linear', symbol, orderLinkId }));
  if (!out.ok) return 'unreachable';
  const row = (out.result as { list?: unknown[] }).list?.map(parseOrder).find((o) => o?.orderLinkId === orderLinkId);
  if (row !== undefined) {
    ctx.state.applyOrder(row);
    noteOrder(ctx, row);
  }
  return row;
}

/** After an unanswered create: look for the order a few times before concluding it never arrived. */
async function recover(ctx: PlacementContext, i: EntryIntent, attempts = 3): Promise<VenueOrder | undefined | 'unreachable'> {
  let last: VenueOrder | undefined | 'unreachable' = 'unreachable';
  for (let k = 0; k < attempts; k++) {
    if (k > 0) await sleep(150 * k);
    last = await findByLinkId(ctx, i.symbol, i.orderLinkId);
    if (last !== undefined && last !== 'unreachable') return last;
  }
  return last;
}

function refuse(ctx: PlacementContext, i: EntryIntent, retCode: number, retMsg: string): VenueResult {
  const r = ctx.store.get(i.orderLinkId);
  if (r !== undefined) {
    r.status = 'refused';
    r.refusal = { retCode, retMsg };
    r.updatedAtMs = Date.now();
    ctx.store.put(r);
  }
  ctx.log.warn({ orderLinkId: i.orderLinkId, symbol: i.symbol, retCode, retMsg }, 'bybit: order refused by the exchange');
  return { status: 'refused', orderLinkId: i.orderLinkId, reason: 'EXCHANGE_REFUSED', retCode, message: `${retCode} ${retMsg}` };
}

function done(ctx: PlacementContext, i: EntryIntent, orderId: string, recovered: boolean): VenueResult {
  const r = ctx.store.get(i.orderLinkId);
  if (r !== undefined && r.status === 'sending') {
    r.status = 'open';
    r.orderId = orderId;
    r.updatedAtMs = Date.now();
    ctx.store.put(r);
  }
  return { status: 'done', orderLinkId: i.orderLinkId, orderId, recovered };
}

/**
 * Places one entry with its stop on the order. The record is stored before the request leaves. When the
 * create goes unanswered (timeout after the exchange may have accepted it) the order is looked up by
 * orderLinkId; only when the exchange answers that it has no such order is the create sent again, with the
 * SAME orderLinkId, so a late original turns the resend into 110072, which is read as "already placed".
 */
export async function placeEntry(ctx: PlacementContext, i: EntryIntent): Promise<VenueResult> {
  const bad = precheck(i);
  if (bad) return bad;
  const existing = ctx.store.get(i.orderLinkId);
  if (existing !== undefined && existing.status !== 'sending') {
    if (existing.status === 'refused' || existing.status === 'not_found') {
      ctx.store.put({ ...newRecord(i) });
    } else {
      return { status: 'done', orderLinkId: i.orderLinkId, ...(existing.orderId === undefined ? {} : { orderId: existing.orderId }), recovered: true };
    }
  } else if (existing === undefined) {
    ctx.store.put(newRecord(i));
  }
  for (let send = 0; send < 2; send++) {
    const out = await ctx.rest.call('/v5/order/create', (c) => c.submitOrder(createBody(i)));
    if (out.ok) return done(ctx, i, (out.result as { orderId?: string }).orderId ?? '', send > 0);
    if (out.kind === 'refused' && out.retCode !== 110072) return refuse(ctx, i, out.retCode, out.retMsg);
    const found = await recover(ctx, i);
    if (found !== undefined && found !== 'unreachable') {
      ctx.log.info({ orderLinkId: i.orderLinkId, orderId: found.orderId, after: out.kind === 'refused' ? '110072' : out.error }, 'bybit: order found by orderLinkId; not sent again');
      return done(ctx, i, found.orderId, true);
    }
    if (found === 'unreachable') break;
    if (out.kind === 'refused') return refuse(ctx, i, out.retCode, out.retMsg);
    ctx.log.warn({ orderLinkId: i.orderLinkId }, 'bybit: the exchange has no order with this orderLinkId after an unanswered create; sending it once more with the same id');
  }
  ctx.log.error({ orderLinkId: i.orderLinkId }, 'bybit: order outcome unknown; reconciliation will settle it (not resent)');
  return { status: 'unknown', orderLinkId: i.orderLinkId, message: 'the exchange did not answer; reconciliation will settle it' };
}

/**
 * A ladder through `create-batch` (10 per request, the stricter of Bybit's two documented limits). Per-item
 * results come from `retExtInfo.list`; a batch left unanswered falls back to looking each rung up, then to
 * placing the missing ones one by one with their own orderLinkIds.
 */
export async function placeLadder(ctx: PlacementContext, intents: readonly EntryIntent[]): Promise<VenueResult[]> {
  const results: VenueResult[] = [];
  for (let start = 0; start < intents.length; start += 10) {
    const chunk = intents.slice(start, start + 10);
    const ready: EntryIntent[] = [];
    for (const i of chunk) {
      const bad = precheck(i);
      if (bad) results.push(bad);
      else {
        if (ctx.store.get(i.orderLinkId) === undefined) ctx.store.put(newRecord(i));
        ready.push(i);
      }
    }
    if (ready.length === 0) continue;
    const out = await ctx.rest.call('/v5/order/create-batch', (c) => c.batchSubmitOrders('linear', ready.map(createBody)));
    if (!out.ok) {
      if (out.kind === 'refused') for (const i of ready) results.push(refuse(ctx, i, out.retCode, out.retMsg));
      else for (const i of ready) results.push(await placeEntry(ctx, i));
      continue;
    }
    const list = (out.result as { list?: { orderId?: string }[] }).list ?? [];
    const ext = (out.retExtInfo as { list?: { code?: number; msg?: string }[] } | undefined)?.list ?? [];
    for (const [k, i] of ready.entries()) {
      const code = ext[k]?.code ?? 0;
      if (code === 0) results.push(done(ctx, i, list[k]?.orderId ?? '', false));
      else if (code === 110072) results.push(await placeEntry(ctx, i));
      else results.push(refuse(ctx, i, code, ext[k]?.msg ?? ''));
    }
  }
  return results;
}
