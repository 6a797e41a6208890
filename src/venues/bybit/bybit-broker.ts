import type { AccountView, Broker, BrokerCommand, BrokerEvent, CloseCause, FillReport, OrderStatus, OrderView, PlaceOrder, PositionView } from '../../core/broker.js';
import { liquidationPrice } from '../../core/sizing.js';
import type { BybitVenue } from './bybit-venue.js';
import type { EntryIntent, VenueExecution, VenueLog, VenueOrder, VenuePosition, VenueResult } from './venue-types.js';

export type BybitTradingMode = 'testnet' | 'demo' | 'live';

/** What the broker needs of a venue (a started {@link BybitVenue}). */
export type BybitVenuePort = Pick<BybitVenue, 'placeEntry' | 'placeLadder' | 'cancel' | 'trailStop' | 'closePosition' | 'setLeverage' | 'snapshot'>;

/** The callbacks the venue must be built with, so fills and order updates reach the broker. */
export interface BybitBrokerHooks {
  readonly onExecution: (e: VenueExecution) => void;
  readonly onOrder: (o: VenueOrder) => void;
  readonly onPosition: (symbol: string, p: VenuePosition | undefined) => void;
  readonly onOrderMissing: (orderLinkId: string) => void;
}

/** execIds already turned into events, kept across restarts (the venue re-delivers its lookback window). */
export interface FillLedger {
  has(execId: string): boolean;
  add(execId: string): void;
}

export interface BybitBrokerOptions {
  readonly mode: BybitTradingMode;
  readonly log: VenueLog;
  /** Builds the venue with the broker's hooks (the venue takes its callbacks at construction). */
  readonly venue: (hooks: BybitBrokerHooks) => BybitVenuePort;
  /** Default: in memory (fills re-delivered after a restart are then reported again). */
  readonly ledger?: FillLedger;
  readonly now?: () => number;
}

const MAX_REMEMBERED = 2_000;

/** Bybit's orderStatus → the port's. */
function portStatus(orderStatus: string): OrderStatus {
  if (orderStatus === 'Filled') return 'Filled';
  if (orderStatus === 'Rejected') return 'Rejected';
  if (orderStatus === 'New' || orderStatus === 'PartiallyFilled' || orderStatus === 'Untriggered' || orderStatus === 'Created') return 'New';
  return 'Cancelled'; // Cancelled, PartiallyFilledCanceled, Deactivated
}

/** Why a fill closed the position: Bybit's `stopOrderType` on the execution, a liquidation, or our own close order. */
function closeCause(e: VenueExecution, ownClose: boolean): CloseCause | undefined {
  if (e.liquidation) return 'LIQUIDATION';
  if (e.stopOrderType === 'StopLoss' || e.stopOrderType === 'TrailingStop' || e.stopOrderType === 'PartialStopLoss') return 'STOP_LOSS';
  if (e.stopOrderType === 'TakeProfit' || e.stopOrderType === 'PartialTakeProfit') return 'TAKE_PROFIT';
  return ownClose ? 'CLOSE' : undefined;
}

/**
 * The Broker port over a {@link BybitVenue}: the execution actor trades on Bybit testnet, demo or mainnet exactly
 * as it trades on paper. Commands are queued and sent on a later tick, in order (consecutive limit entries of one
 * symbol go out as one `create-batch` ladder), so no event ever re-enters the actor synchronously. Venue results
 * become accepted/rejected events (a refusal carries Bybit's retCode and message), private-stream order updates
 * become cancels, executions become fills (once per execId, across restarts through the ledger) or
 * position-closed events with their cause. Positions, orders and the account are the exchange's, from the venue's
 * reconciled snapshot. An entry without a stop is refused here (`NO_STOP_LOSS`) and never reaches the exchange.
 */
export class BybitBroker implements Broker {
  readonly venue: string;
  private readonly v: BybitVenuePort;
  private readonly log: VenueLog;
  private readonly now: () => number;
  private readonly ledger: FillLedger;
  private readonly listeners = new Set<(event: BrokerEvent) => void>();
  private readonly held: BrokerEvent[] = [];
  /** Orders this broker sent, by orderLinkId (insertion-ordered, the oldest forgotten past MAX_REMEMBERED). */
  private readonly orders = new Map<string, OrderView>();
  private readonly announced = new Set<string>();
  private readonly closeLinkIds = new Set<string>();
  private readonly openedAtMs = new Map<string, number>();
  /** The last fill of an order the daemon did not place (a manual close on Bybit), per symbol, until the position is flat. */
  private readonly foreignExits = new Map<string, FillReport>();
  /** Leverage last set per symbol by this broker. */
  private readonly leverageBySymbol = new Map<string, number>();
  /** The stop each position was last moved to (as the exchange rounded it): a later rung's fill must not loosen it. */
  private readonly heldStops = new Map<string, { readonly side: 'Buy' | 'Sell'; readonly stopLoss: number }>();
  private queue: BrokerCommand[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private realizedPnlUsd = 0;
  private feesUsd = 0;

  constructor(opts: BybitBrokerOptions) {
    this.venue = `bybit-${opts.mode}`;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    const seen = new Set<string>();
    this.ledger = opts.ledger ?? { has: (id) => seen.has(id), add: (id) => void seen.add(id) };
    this.v = opts.venue({ onExecution: (e) => this.onExecution(e), onOrder: (o) => this.onOrder(o), onPosition: (s, p) => this.onPosition(s, p), onOrderMissing: (id) => this.onOrderMissing(id) });
  }

  /**
   * Events raised before the first listener (the venue's first reconciliation re-delivers fills while the actor's
   * state is still loading) are held and handed to it on a later tick, after it has started.
   */
  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.held.length > 0) {
      const held = this.held.splice(0);
      queueMicrotask(() => held.forEach((e) => this.emit(e)));
    }
    return () => this.listeners.delete(listener);
  }

  submit(command: BrokerCommand): void {
    this.queue.push(command);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const batch = this.queue;
      this.queue = [];
      this.chain = this.chain.then(() => this.run(batch)).catch((err: unknown) =>
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'bybit broker: a command batch failed; reconciliation will settle the state'));
    });
  }

  /** Settles once every command submitted so far has had its answer from the venue (tests, shutdown). */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => queueMicrotask(() => void this.chain.then(resolve)));
  }

  positions(): PositionView[] {
    const snap = this.v.snapshot();
    const live = new Set(snap.positions.map((p) => p.symbol));
    for (const s of [...this.openedAtMs.keys()]) if (!live.has(s)) this.openedAtMs.delete(s);
    for (const s of [...this.heldStops.keys()]) if (!live.has(s)) this.heldStops.delete(s);
    return snap.positions.map((p) => {
      const direction = p.side === 'Buy' ? 'LONG' as const : 'SHORT' as const;
      const leverage = p.leverage > 0 ? p.leverage : 1;
      if (!this.openedAtMs.has(p.symbol)) this.openedAtMs.set(p.symbol, this.now());
      return {
        symbol: p.symbol, direction, qty: p.size, avgEntryPrice: p.avgPrice, leverage, marginUsd: (p.size * p.avgPrice) / leverage,
        liquidationPrice: p.liquidationPrice > 0 ? p.liquidationPrice : liquidationPrice(direction, p.avgPrice, leverage, 0.005),
        markPrice: p.markPrice > 0 ? p.markPrice : p.avgPrice, unrealizedPnlUsd: p.unrealisedPnlUsd,
        stopLossPrice: p.stopLoss > 0 ? p.stopLoss : undefined, takeProfitPrice: p.takeProfit > 0 ? p.takeProfit : undefined,
        openedAtMs: this.openedAtMs.get(p.symbol)!,
      };
    });
  }

  openOrders(): OrderView[] {
    return this.v.snapshot().orders.map((o) => this.viewOf(o));
  }

  /** Equity, margin and unrealized PnL are the exchange's; realized PnL and fees are this session's fills. */
  account(): AccountView {
    const w = this.v.snapshot().wallet;
    const balance = w?.walletBalanceUsd ?? 0;
    return {
      balanceUsd: w?.availableUsd ?? 0, marginUsd: w?.initialMarginUsd ?? 0, unrealizedPnlUsd: w?.unrealisedPnlUsd ?? 0, equityUsd: w?.equityUsd ?? 0,
      depositsUsd: balance - this.realizedPnlUsd + this.feesUsd, realizedPnlUsd: this.realizedPnlUsd, feesUsd: this.feesUsd,
    };
  }

  /** Orders this broker sent, oldest first (the operator's `/orders` "recent"). */
  recentOrders(): OrderView[] {
    return [...this.orders.values()];
  }

  private emit(event: BrokerEvent): void {
    if (this.listeners.size === 0) {
      if (this.held.length < MAX_REMEMBERED) this.held.push(event);
      else this.log.error({ event: event.kind }, 'bybit broker: no listener and the hold queue is full; event dropped');
      return;
    }
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.message : String(err), event: event.kind }, 'bybit broker: a listener threw');
      }
    }
  }

  private async run(batch: readonly BrokerCommand[]): Promise<void> {
    for (let k = 0; k < batch.length; k++) {
      const c = batch[k]!;
      if (c.kind === 'place' && this.isLadderRung(c)) {
        const rungs: PlaceOrder[] = [c];
        while (k + 1 < batch.length) {
          const n = batch[k + 1]!;
          if (n.kind !== 'place' || !this.isLadderRung(n) || n.symbol !== c.symbol) break;
          rungs.push(n);
          k++;
        }
        if (rungs.length > 1) {
          for (const r of rungs) this.remember(this.newView(r));
          await this.ensureLeverage(c);
          const results = await this.v.placeLadder(rungs.map((r) => this.intentOf(r)));
          results.forEach((res, i) => this.settle(rungs[i]!.orderLinkId, res));
          continue;
        }
      }
      await this.one(c);
    }
  }

  private isLadderRung(c: PlaceOrder): boolean {
    return c.orderType === 'Limit' && !c.reduceOnly && c.stopLossPrice !== undefined && c.stopLossPrice > 0;
  }

  private async one(c: BrokerCommand): Promise<void> {
    switch (c.kind) {
      case 'place': {
        const view = this.newView(c);
        this.remember(view);
        if (!c.reduceOnly && !(c.stopLossPrice !== undefined && c.stopLossPrice > 0)) {
          this.settle(c.orderLinkId, { status: 'refused', orderLinkId: c.orderLinkId, reason: 'NO_STOP_LOSS', message: 'every entry carries a stop-loss' });
          return;
        }
        if (!c.reduceOnly) await this.ensureLeverage(c);
        this.settle(c.orderLinkId, await this.v.placeEntry(this.intentOf(c)));
        return;
      }
      case 'cancel': {
        const r = await this.v.cancel(c.orderLinkId);
        if (r.status === 'done') this.transition(c.orderLinkId, 'Cancelled');
        else this.log.warn({ orderLinkId: c.orderLinkId, result: r }, 'bybit broker: cancel not done');
        return;
      }
      case 'set-trading-stop': {
        if (c.stopLossPrice === undefined) {
          this.log.warn({ symbol: c.symbol, takeProfitPrice: c.takeProfitPrice }, 'bybit broker: a take-profit-only move is not supported; the position keeps its take-profit');
          return;
        }
        const r = await this.v.trailStop(c.symbol, c.stopLossPrice);
        if (r.status !== 'done') {
          this.log.warn({ symbol: c.symbol, stopLossPrice: c.stopLossPrice, result: r }, 'bybit broker: stop not moved');
          return;
        }
        const p = this.v.snapshot().positions.find((x) => x.symbol === c.symbol);
        if (p !== undefined && p.stopLoss > 0) this.heldStops.set(c.symbol, { side: p.side, stopLoss: p.stopLoss });
        this.emit({
          kind: 'trading-stop-set', symbol: c.symbol, stopLossPrice: p !== undefined && p.stopLoss > 0 ? p.stopLoss : c.stopLossPrice,
          takeProfitPrice: p !== undefined && p.takeProfit > 0 ? p.takeProfit : undefined, tsMs: this.now(),
        });
        return;
      }
      case 'close-position': {
        this.closeLinkIds.add(c.orderLinkId);
        const r = await this.v.closePosition(c.symbol, c.orderLinkId);
        if (r.status !== 'done') this.log.warn({ symbol: c.symbol, orderLinkId: c.orderLinkId, result: r }, 'bybit broker: close not done');
        return;
      }
    }
  }

  /**
   * The plan sized the trade for `leverage` (its liquidation price stays beyond the stop at that leverage), so the
   * exchange is set to it before the entry. A refusal is logged and the entry still goes out: its stop is on it.
   */
  private async ensureLeverage(c: PlaceOrder): Promise<void> {
    if (c.leverage === undefined || !(c.leverage > 0) || this.leverageBySymbol.get(c.symbol) === c.leverage) return;
    const lev = Math.max(1, Math.round(c.leverage * 100) / 100);
    const r = await this.v.setLeverage(c.symbol, lev);
    if (r.status === 'done') this.leverageBySymbol.set(c.symbol, c.leverage);
    else this.log.warn({ symbol: c.symbol, leverage: lev, result: r }, 'bybit broker: leverage not set; the entry goes out at the account leverage');
  }

  private intentOf(c: PlaceOrder): EntryIntent {
    return {
      orderLinkId: c.orderLinkId, symbol: c.symbol, side: c.side, orderType: c.orderType, qty: c.qty,
      ...(c.orderType === 'Limit' && c.priceUsd !== undefined ? { price: c.priceUsd } : {}),
      stopLoss: c.reduceOnly ? 0 : c.stopLossPrice ?? 0, ...(c.takeProfitPrice !== undefined && !c.reduceOnly ? { takeProfit: c.takeProfitPrice } : {}),
      reduceOnly: c.reduceOnly,
    };
  }

  private newView(c: PlaceOrder): OrderView {
    const t = this.now();
    return {
      orderLinkId: c.orderLinkId, symbol: c.symbol, side: c.side, orderType: c.orderType, qty: c.qty, priceUsd: c.orderType === 'Limit' ? c.priceUsd : undefined,
      reduceOnly: c.reduceOnly, stopLossPrice: c.stopLossPrice, takeProfitPrice: c.takeProfitPrice, leverage: c.leverage, status: 'New', filledQty: 0,
      avgFillPrice: undefined, rejectReason: undefined, createdAtMs: t, updatedAtMs: t,
    };
  }

  private remember(view: OrderView): void {
    this.orders.delete(view.orderLinkId);
    this.orders.set(view.orderLinkId, view);
    if (this.orders.size > MAX_REMEMBERED) {
      const oldest = this.orders.keys().next().value as string;
      this.orders.delete(oldest);
      this.announced.delete(oldest);
      this.closeLinkIds.delete(oldest);
    }
  }

  /** A venue result → accepted (once) or rejected; an unknown outcome waits for the stream or reconciliation. */
  private settle(orderLinkId: string, r: VenueResult): void {
    const view = this.orders.get(orderLinkId);
    if (view === undefined) return;
    if (r.status === 'done') {
      if (this.announced.has(orderLinkId)) return;
      this.announced.add(orderLinkId);
      this.emit({ kind: 'order-accepted', order: view });
    } else if (r.status === 'refused') {
      const reason = r.reason === 'EXCHANGE_REFUSED' ? r.message : r.reason;
      const rejected: OrderView = { ...view, status: 'Rejected', rejectReason: reason, updatedAtMs: this.now() };
      this.orders.set(orderLinkId, rejected);
      this.emit({ kind: 'order-rejected', order: rejected, reason });
    } else {
      this.log.warn({ orderLinkId, message: r.message }, 'bybit broker: order outcome unknown; the private stream or reconciliation will settle it');
    }
  }

  /** New → Cancelled/Rejected from a cancel reply or the private stream; each transition is reported once. */
  private transition(orderLinkId: string, to: 'Cancelled' | 'Rejected'): void {
    const view = this.orders.get(orderLinkId);
    if (view === undefined || view.status !== 'New') return;
    const next: OrderView = { ...view, status: to, updatedAtMs: this.now(), ...(to === 'Rejected' ? { rejectReason: 'REJECTED_BY_EXCHANGE' } : {}) };
    this.orders.set(orderLinkId, next);
    if (to === 'Cancelled') this.emit({ kind: 'order-cancelled', order: next });
    else this.emit({ kind: 'order-rejected', order: next, reason: 'REJECTED_BY_EXCHANGE' });
  }

  /** An order whose send went unanswered and that the exchange never got: rejected, so the plan can settle. */
  private onOrderMissing(orderLinkId: string): void {
    const view = this.orders.get(orderLinkId);
    if (view === undefined || view.status !== 'New' || this.announced.has(orderLinkId)) return;
    const reason = 'NOT_ON_EXCHANGE';
    const rejected: OrderView = { ...view, status: 'Rejected', rejectReason: reason, updatedAtMs: this.now() };
    this.orders.set(orderLinkId, rejected);
    this.emit({ kind: 'order-rejected', order: rejected, reason });
  }

  private onOrder(o: VenueOrder): void {
    const status = portStatus(o.status);
    if (status === 'Cancelled' || status === 'Rejected') this.transition(o.orderLinkId, status);
  }

  /**
   * In Bybit's Full TP/SL mode a filling order's stop replaces the position's: a ladder rung that fills after a
   * trailing move would loosen the stop. The held stop is put back at once.
   */
  private onPosition(symbol: string, p: VenuePosition | undefined): void {
    if (p === undefined) {
      this.heldStops.delete(symbol);
      const exit = this.foreignExits.get(symbol);
      this.foreignExits.delete(symbol);
      if (exit !== undefined) this.emit({ kind: 'position-closed', symbol, cause: 'CLOSE', fill: exit, tsMs: exit.tsMs });
      return;
    }
    const held = this.heldStops.get(symbol);
    if (held === undefined || p.stopLoss === 0) return; // no stop at all is the venue's own repair
    if (held.side !== p.side) {
      this.heldStops.delete(symbol); // another position now
      return;
    }
    const looser = p.side === 'Buy' ? p.stopLoss < held.stopLoss : p.stopLoss > held.stopLoss;
    if (!looser) return;
    this.log.warn({ symbol, stopLoss: p.stopLoss, held: held.stopLoss }, 'bybit broker: a fill reset the position stop looser than the trailed one; moving it back');
    this.submit({ kind: 'set-trading-stop', symbol, stopLossPrice: held.stopLoss });
  }

  private onExecution(e: VenueExecution): void {
    if (this.ledger.has(e.execId)) return;
    this.ledger.add(e.execId);
    this.realizedPnlUsd += e.execPnlUsd;
    this.feesUsd += e.execFeeUsd;
    const cause = closeCause(e, e.orderLinkId !== '' && this.closeLinkIds.has(e.orderLinkId));
    const fill: FillReport = {
      orderLinkId: e.orderLinkId, symbol: e.symbol, side: e.side, qty: e.execQty, priceUsd: e.execPrice, feeUsd: e.execFeeUsd,
      liquidity: e.isMaker ? 'maker' : 'taker', cause, tsMs: e.execTimeMs > 0 ? e.execTimeMs : this.now(),
    };
    if (cause !== undefined) {
      this.heldStops.delete(e.symbol);
      this.foreignExits.delete(e.symbol);
      this.emit({ kind: 'position-closed', symbol: e.symbol, cause, fill, tsMs: fill.tsMs });
      return;
    }
    if (e.orderLinkId === '') {
      // Someone traded this account by hand. If it closed the position, the trade is closed as CLOSE: now when the
      // position is already flat, else when the position update says so.
      this.log.warn({ execId: e.execId, symbol: e.symbol, side: e.side, qty: e.execQty }, 'bybit broker: a fill of an order the daemon did not place');
      const exit: FillReport = { ...fill, cause: 'CLOSE' };
      if (this.v.snapshot().positions.some((p) => p.symbol === e.symbol)) this.foreignExits.set(e.symbol, exit);
      else this.emit({ kind: 'position-closed', symbol: e.symbol, cause: 'CLOSE', fill: exit, tsMs: exit.tsMs });
      return;
    }
    // An order from before a restart has no view here: one is rebuilt from the fill so the actor can match it.
    const view = this.orders.get(e.orderLinkId) ?? {
      orderLinkId: e.orderLinkId, symbol: e.symbol, side: e.side, orderType: 'Market' as const, qty: e.execQty, priceUsd: undefined, reduceOnly: false,
      stopLossPrice: undefined, takeProfitPrice: undefined, leverage: undefined, status: 'New' as const, filledQty: 0, avgFillPrice: undefined,
      rejectReason: undefined, createdAtMs: fill.tsMs, updatedAtMs: fill.tsMs,
    };
    const filledQty = view.filledQty + e.execQty;
    const avgFillPrice = ((view.avgFillPrice ?? 0) * view.filledQty + e.execPrice * e.execQty) / filledQty;
    const next: OrderView = { ...view, filledQty, avgFillPrice, status: filledQty >= view.qty - 1e-12 ? 'Filled' : view.status, updatedAtMs: fill.tsMs };
    this.remember(next);
    this.emit({ kind: 'order-filled', order: next, fill });
  }

  private viewOf(o: VenueOrder): OrderView {
    const mine = this.orders.get(o.orderLinkId);
    return {
      orderLinkId: o.orderLinkId || o.orderId, symbol: o.symbol, side: o.side, orderType: o.orderType === 'Market' ? 'Market' : 'Limit', qty: o.qty,
      priceUsd: o.price > 0 ? o.price : undefined, reduceOnly: o.reduceOnly, stopLossPrice: o.stopLoss > 0 ? o.stopLoss : undefined,
      takeProfitPrice: o.takeProfit > 0 ? o.takeProfit : undefined, leverage: mine?.leverage, status: portStatus(o.status), filledQty: o.cumExecQty,
      avgFillPrice: mine?.avgFillPrice, rejectReason: undefined, createdAtMs: mine?.createdAtMs ?? 0, updatedAtMs: mine?.updatedAtMs ?? 0,
    };
  }
}
