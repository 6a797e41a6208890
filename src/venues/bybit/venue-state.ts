import { isOpenStatus } from './bybit-parse.js';
import type { VenueOrder, VenuePosition, VenueWallet } from './venue-types.js';

/** What the operator view (`/positions`, `/orders`, `/risk`) shows: the exchange's state as the venue last saw it. */
export interface VenueSnapshot {
  readonly positions: readonly VenuePosition[];
  readonly orders: readonly VenueOrder[];
  readonly wallet: VenueWallet | undefined;
  /** Epoch ms of the last completed reconciliation, undefined before the first. */
  readonly lastReconciledAtMs: number | undefined;
  readonly streamUp: boolean;
}

const positionKey = (p: VenuePosition) => `${p.side} ${p.size} ${p.stopLoss} ${p.takeProfit}`;
const orderKey = (o: VenueOrder) => `${o.status} ${o.cumExecQty} ${o.qty} ${o.price} ${o.stopLoss} ${o.takeProfit}`;

/**
 * The exchange's positions and open orders as the venue knows them: moved by private-stream updates between
 * reconciliations, replaced wholesale by each reconciliation (which counts how far the two had drifted).
 */
export class VenueState {
  readonly positions = new Map<string, VenuePosition>();
  /** Open orders by orderId. */
  readonly orders = new Map<string, VenueOrder>();
  wallet: VenueWallet | undefined;
  lastReconciledAtMs: number | undefined;
  /** Unknown orders already reported, so each is logged and counted once, not at every poll. */
  readonly reportedUnknown = new Set<string>();

  applyOrder(o: VenueOrder): void {
    if (isOpenStatus(o.status)) this.orders.set(o.orderId, o);
    else this.orders.delete(o.orderId);
  }

  applyPosition(symbol: string, p: VenuePosition | undefined): void {
    if (p === undefined) this.positions.delete(symbol);
    else this.positions.set(symbol, p);
  }

  orderByLinkId(orderLinkId: string): VenueOrder | undefined {
    for (const o of this.orders.values()) if (o.orderLinkId === orderLinkId) return o;
    return undefined;
  }

  /** Replaces positions and open orders with the exchange's; returns how many entries differed. */
  replace(positions: readonly VenuePosition[], orders: readonly VenueOrder[]): number {
    let diff = 0;
    const nextP = new Map(positions.map((p) => [p.symbol, p]));
    for (const [k, p] of nextP) if (!this.positions.has(k) || positionKey(this.positions.get(k)!) !== positionKey(p)) diff++;
    for (const k of this.positions.keys()) if (!nextP.has(k)) diff++;
    const nextO = new Map(orders.filter((o) => isOpenStatus(o.status)).map((o) => [o.orderId, o]));
    for (const [k, o] of nextO) if (!this.orders.has(k) || orderKey(this.orders.get(k)!) !== orderKey(o)) diff++;
    for (const k of this.orders.keys()) if (!nextO.has(k)) diff++;
    this.positions.clear();
    for (const [k, p] of nextP) this.positions.set(k, p);
    this.orders.clear();
    for (const [k, o] of nextO) this.orders.set(k, o);
    return diff;
  }

  snapshot(streamUp: boolean): VenueSnapshot {
    return {
      positions: [...this.positions.values()].sort((a, b) => a.symbol.localeCompare(b.symbol)),
      orders: [...this.orders.values()].sort((a, b) => a.orderId.localeCompare(b.orderId)),
      wallet: this.wallet,
      lastReconciledAtMs: this.lastReconciledAtMs,
      streamUp,
    };
  }
}
