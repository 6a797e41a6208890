import type { AccountView, Broker, BrokerCommand, BrokerEvent, CloseCause, FillReport, OrderSide, OrderView, PlaceOrder, PositionView } from '../core/broker.js';
import { BYBIT_MAKER_FEE_RATE, BYBIT_TAKER_FEE_RATE, liquidationPrice } from '../core/sizing.js';

/**
 * The default venue: a paper broker that fills against the live (or replayed) stream. Market orders fill at the
 * last price plus slippage with Bybit's taker fee; resting limits fill at their price with the maker fee once
 * the last price trades through them; position stops and take-profits trigger on the last or mark price and
 * fill at that price minus slippage (taker); isolated-margin liquidation on the mark. One-way mode: one
 * position per coin. Time comes only from the injected `now` (the virtual clock in replay), so the same tape
 * gives the same fills. `snapshot()` is plain JSON the store persists, so a restart resumes positions, resting
 * orders and stops.
 *
 * Money is conserved exactly (up to float rounding): balance + margin = deposits + realized PnL − fees, and
 * equity = balance + margin + unrealized PnL.
 */
export interface PaperBrokerConfig {
  readonly initialDepositUsd: number;
  /** Adverse slippage on market and triggered fills, as a fraction of price. */
  readonly slippageFraction: number;
  readonly takerFeeRate: number;
  readonly makerFeeRate: number;
  /** Which price triggers stops and take-profits (liquidation always uses the mark, as on Bybit). */
  readonly triggerBy: 'last' | 'mark';
  readonly maintenanceMarginRate: number;
}

export const DEFAULT_PAPER_BROKER_CONFIG: PaperBrokerConfig = {
  initialDepositUsd: 10_000,
  slippageFraction: 0.0005,
  takerFeeRate: BYBIT_TAKER_FEE_RATE,
  makerFeeRate: BYBIT_MAKER_FEE_RATE,
  triggerBy: 'last',
  maintenanceMarginRate: 0.005,
};

interface PaperPosition {
  symbol: string;
  sign: 1 | -1;
  qty: number;
  avgEntryPrice: number;
  leverage: number;
  marginUsd: number;
  stopLossPrice: number | undefined;
  takeProfitPrice: number | undefined;
  openedAtMs: number;
}

/** Persisted state (JSON). */
export interface PaperBrokerState {
  readonly version: 1;
  readonly depositsUsd: number;
  readonly balanceUsd: number;
  readonly realizedPnlUsd: number;
  readonly feesUsd: number;
  readonly seq: number;
  readonly positions: readonly PaperPosition[];
  readonly orders: readonly OrderView[];
  readonly linkIds: readonly string[];
  readonly prices: Readonly<Record<string, { last: number; mark: number }>>;
}

const MAX_CLOSED_ORDERS = 500;
const MAX_LINK_IDS = 20_000;
/** Quantities are decimals on a lot grid; this many decimals removes binary residue after subtraction. */
const QTY_DECIMALS = 10;
const qtyFix = (q: number): number => Number(q.toFixed(QTY_DECIMALS));

export class PaperBroker implements Broker {
  readonly venue = 'paper';
  private depositsUsd: number;
  private balanceUsd: number;
  private realizedPnlUsd: number;
  private feesUsd: number;
  private seq: number;
  private readonly positionsBySymbol = new Map<string, PaperPosition>();
  /** Open orders in placement order, then recent closed ones. */
  private orders: OrderView[];
  private readonly linkIds: Set<string>;
  /** Open orders per symbol, so a price update or a view skips the order history when nothing rests. */
  private readonly openCount = new Map<string, number>();
  private totalOpen = 0;
  private readonly prices = new Map<string, { last: number; mark: number }>();
  private readonly listeners = new Set<(event: BrokerEvent) => void>();

  constructor(
    private readonly now: () => number,
    private readonly config: PaperBrokerConfig = DEFAULT_PAPER_BROKER_CONFIG,
    state?: PaperBrokerState,
  ) {
    this.depositsUsd = state?.depositsUsd ?? config.initialDepositUsd;
    this.balanceUsd = state?.balanceUsd ?? config.initialDepositUsd;
    this.realizedPnlUsd = state?.realizedPnlUsd ?? 0;
    this.feesUsd = state?.feesUsd ?? 0;
    this.seq = state?.seq ?? 0;
    for (const p of state?.positions ?? []) this.positionsBySymbol.set(p.symbol, { ...p });
    this.orders = [...(state?.orders ?? [])];
    this.linkIds = new Set(state?.linkIds ?? []);
    for (const o of this.orders) if (o.status === 'New') this.countOpen(o.symbol, 1);
    for (const [symbol, p] of Object.entries(state?.prices ?? {})) this.prices.set(symbol, { ...p });
  }

  subscribe(listener: (event: BrokerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: BrokerEvent): void {
    for (const l of this.listeners) l(event);
  }

  submit(command: BrokerCommand): void {
    switch (command.kind) {
      case 'place':
        return this.place(command);
      case 'cancel': {
        const order = this.orders.find((o) => o.orderLinkId === command.orderLinkId && o.status === 'New');
        if (order !== undefined) this.finish(order, { status: 'Cancelled' });
        return;
      }
      case 'set-trading-stop': {
        const pos = this.positionsBySymbol.get(command.symbol);
        if (pos === undefined) return;
        if (command.stopLossPrice !== undefined) pos.stopLossPrice = command.stopLossPrice;
        if (command.takeProfitPrice !== undefined) pos.takeProfitPrice = command.takeProfitPrice;
        this.emit({ kind: 'trading-stop-set', symbol: pos.symbol, stopLossPrice: pos.stopLossPrice, takeProfitPrice: pos.takeProfitPrice, tsMs: this.now() });
        return;
      }
      case 'close-position': {
        const pos = this.positionsBySymbol.get(command.symbol);
        const px = this.prices.get(command.symbol);
        if (pos === undefined || px === undefined) return;
        this.closeAt(pos, this.slipped(px.last, pos.sign === 1 ? 'Sell' : 'Buy'), 'CLOSE', command.orderLinkId);
        return;
      }
    }
  }

  private place(cmd: PlaceOrder): void {
    const nowMs = this.now();
    const order: OrderView = {
      orderLinkId: cmd.orderLinkId, symbol: cmd.symbol, side: cmd.side, orderType: cmd.orderType, qty: cmd.qty,
      priceUsd: cmd.orderType === 'Limit' ? cmd.priceUsd : undefined, reduceOnly: cmd.reduceOnly,
      stopLossPrice: cmd.stopLossPrice, takeProfitPrice: cmd.takeProfitPrice, leverage: cmd.leverage,
      status: 'New', filledQty: 0, avgFillPrice: undefined, rejectReason: undefined, createdAtMs: nowMs, updatedAtMs: nowMs,
    };
    const reason = this.validate(cmd);
    if (reason !== undefined) {
      const rejected = { ...order, status: 'Rejected' as const, rejectReason: reason };
      // A duplicate id is not remembered again: the original order keeps it.
      if (reason !== 'DUPLICATE_ORDER_LINK_ID') this.remember(rejected);
      this.emit({ kind: 'order-rejected', order: rejected, reason });
      return;
    }
    this.remember(order);
    this.emit({ kind: 'order-accepted', order });
    const px = this.prices.get(cmd.symbol);
    if (px === undefined) return; // rests until the first price (a market order was rejected in validate)
    const marketable = cmd.orderType === 'Market' || (cmd.side === 'Buy' ? px.last <= cmd.priceUsd! : px.last >= cmd.priceUsd!);
    if (marketable) {
      const slipped = this.slipped(px.last, cmd.side);
      const price = cmd.orderType === 'Limit' ? (cmd.side === 'Buy' ? Math.min(slipped, cmd.priceUsd!) : Math.max(slipped, cmd.priceUsd!)) : slipped;
      this.fillOrder(order, price, 'taker');
    }
  }

  private validate(cmd: PlaceOrder): string | undefined {
    if (!(cmd.orderLinkId.length >= 1 && cmd.orderLinkId.length <= 36)) return 'BAD_ORDER_LINK_ID';
    if (this.linkIds.has(cmd.orderLinkId)) return 'DUPLICATE_ORDER_LINK_ID';
    if (!(cmd.qty > 0 && Number.isFinite(cmd.qty))) return 'BAD_QTY';
    if (cmd.orderType === 'Limit' && !(cmd.priceUsd !== undefined && cmd.priceUsd > 0 && Number.isFinite(cmd.priceUsd))) return 'BAD_PRICE';
    if (cmd.orderType === 'Market' && this.prices.get(cmd.symbol) === undefined) return 'NO_MARKET_PRICE';
    if (cmd.reduceOnly) {
      const pos = this.positionsBySymbol.get(cmd.symbol);
      if (pos === undefined || pos.sign === (cmd.side === 'Buy' ? 1 : -1)) return 'REDUCE_ONLY_NO_POSITION';
    }
    return undefined;
  }

  private countOpen(symbol: string, delta: number): void {
    this.openCount.set(symbol, (this.openCount.get(symbol) ?? 0) + delta);
    this.totalOpen += delta;
  }

  private remember(order: OrderView): void {
    this.orders.push(order);
    if (order.status === 'New') this.countOpen(order.symbol, 1);
    this.linkIds.add(order.orderLinkId);
    if (this.linkIds.size > MAX_LINK_IDS) this.linkIds.delete(this.linkIds.values().next().value!);
    if (this.orders.length <= 2 * MAX_CLOSED_ORDERS) return;
    const closed = this.orders.filter((o) => o.status !== 'New');
    if (closed.length > MAX_CLOSED_ORDERS) {
      const drop = new Set(closed.slice(0, closed.length - MAX_CLOSED_ORDERS));
      this.orders = this.orders.filter((o) => !drop.has(o));
    }
  }

  private finish(order: OrderView, patch: Partial<OrderView>): OrderView {
    const next: OrderView = { ...order, ...patch, updatedAtMs: this.now() };
    // Recent orders sit at the end.
    this.orders[this.orders.lastIndexOf(order)] = next;
    if (order.status === 'New' && next.status !== 'New') this.countOpen(order.symbol, -1);
    if (next.status === 'Cancelled') this.emit({ kind: 'order-cancelled', order: next });
    return next;
  }

  private slipped(price: number, side: OrderSide): number {
    return side === 'Buy' ? price * (1 + this.config.slippageFraction) : price * (1 - this.config.slippageFraction);
  }

  private fillOrder(order: OrderView, price: number, liquidity: 'maker' | 'taker'): void {
    const pos = this.positionsBySymbol.get(order.symbol);
    let qty = order.qty;
    if (order.reduceOnly) {
      if (pos === undefined || pos.sign === (order.side === 'Buy' ? 1 : -1)) {
        this.finish(order, { status: 'Cancelled', rejectReason: 'REDUCE_ONLY_NO_POSITION' });
        return;
      }
      qty = Math.min(qty, pos.qty);
    }
    const opening = pos === undefined || pos.sign === (order.side === 'Buy' ? 1 : -1);
    const leverage = pos?.leverage ?? order.leverage ?? 1;
    const feeRate = liquidity === 'maker' ? this.config.makerFeeRate : this.config.takerFeeRate;
    if (opening && qty * price * (1 / leverage + feeRate) > this.balanceUsd) {
      const rejected = this.finish(order, { status: 'Rejected', rejectReason: 'INSUFFICIENT_BALANCE' });
      this.emit({ kind: 'order-rejected', order: rejected, reason: 'INSUFFICIENT_BALANCE' });
      return;
    }
    const fill = this.applyFill(order.symbol, order.side, qty, price, liquidity, order.orderLinkId, undefined, leverage, order.stopLossPrice, order.takeProfitPrice);
    const filled = this.finish(order, { status: 'Filled', filledQty: qty, avgFillPrice: price });
    this.emit({ kind: 'order-filled', order: filled, fill });
  }

  /** Books one fill into the account and the position (open, add, reduce, close, flip). */
  private applyFill(
    symbol: string, side: OrderSide, qty: number, price: number, liquidity: 'maker' | 'taker', orderLinkId: string,
    cause: CloseCause | undefined, leverage: number, stopLossPrice?: number, takeProfitPrice?: number,
  ): FillReport {
    const nowMs = this.now();
    const feeUsd = qty * price * (liquidity === 'maker' ? this.config.makerFeeRate : this.config.takerFeeRate);
    this.feesUsd += feeUsd;
    this.balanceUsd -= feeUsd;
    const sign: 1 | -1 = side === 'Buy' ? 1 : -1;
    let remaining = qty;
    const pos = this.positionsBySymbol.get(symbol);
    if (pos !== undefined && pos.sign !== sign) {
      const closeQty = Math.min(remaining, pos.qty);
      const realized = (price - pos.avgEntryPrice) * closeQty * pos.sign;
      const release = closeQty === pos.qty ? pos.marginUsd : (pos.marginUsd * closeQty) / pos.qty;
      this.balanceUsd += release + realized;
      this.realizedPnlUsd += realized;
      pos.marginUsd -= release;
      pos.qty = qtyFix(pos.qty - closeQty);
      remaining = qtyFix(remaining - closeQty);
      if (pos.qty === 0) this.positionsBySymbol.delete(symbol);
    }
    if (remaining > 0) {
      const open = this.positionsBySymbol.get(symbol);
      const margin = (remaining * price) / leverage;
      this.balanceUsd -= margin;
      if (open === undefined) {
        this.positionsBySymbol.set(symbol, { symbol, sign, qty: remaining, avgEntryPrice: price, leverage, marginUsd: margin, stopLossPrice, takeProfitPrice, openedAtMs: nowMs });
      } else {
        open.avgEntryPrice = (open.avgEntryPrice * open.qty + price * remaining) / (open.qty + remaining);
        open.qty = qtyFix(open.qty + remaining);
        open.marginUsd += margin;
        // Rungs carry the plan's stop; it only applies when the position has none (trailing may have moved it).
        if (open.stopLossPrice === undefined) open.stopLossPrice = stopLossPrice;
        if (open.takeProfitPrice === undefined) open.takeProfitPrice = takeProfitPrice;
      }
    }
    return { orderLinkId, symbol, side, qty, priceUsd: price, feeUsd, liquidity, cause, tsMs: nowMs };
  }

  private closeAt(pos: PaperPosition, price: number, cause: CloseCause, orderLinkId?: string): void {
    const side: OrderSide = pos.sign === 1 ? 'Sell' : 'Buy';
    const id = orderLinkId ?? `tpsl-${pos.symbol}-${++this.seq}`.slice(0, 36);
    const fill = this.applyFill(pos.symbol, side, pos.qty, price, 'taker', id, cause, pos.leverage);
    this.emit({ kind: 'position-closed', symbol: pos.symbol, cause, fill, tsMs: fill.tsMs });
  }

  /**
   * One price update of `symbol` (ticker: last and mark; a trade print: last only, mark NaN keeps the previous
   * mark). Fills resting limits the last price traded through (in placement order), then fires the position's
   * stop, liquidation or take-profit.
   */
  onPrice(symbol: string, lastPrice: number, markPrice: number): void {
    if (!(lastPrice > 0)) return;
    const prev = this.prices.get(symbol);
    const mark = markPrice > 0 ? markPrice : prev?.mark ?? lastPrice;
    this.prices.set(symbol, { last: lastPrice, mark });
    const resting = (this.openCount.get(symbol) ?? 0) > 0 ? this.orders.filter((o) => o.symbol === symbol && o.status === 'New') : [];
    for (const order of resting) {
      const price = order.priceUsd!;
      if (order.orderType === 'Limit' && (order.side === 'Buy' ? lastPrice < price : lastPrice > price)) this.fillOrder(order, price, 'maker');
    }
    const pos = this.positionsBySymbol.get(symbol);
    if (pos === undefined) return;
    const trigger = this.config.triggerBy === 'mark' ? mark : lastPrice;
    const long = pos.sign === 1;
    const exitSide: OrderSide = long ? 'Sell' : 'Buy';
    const liq = liquidationPrice(long ? 'LONG' : 'SHORT', pos.avgEntryPrice, pos.leverage, this.config.maintenanceMarginRate);
    if (pos.stopLossPrice !== undefined && (long ? trigger <= pos.stopLossPrice : trigger >= pos.stopLossPrice)) {
      this.closeAt(pos, this.slipped(trigger, exitSide), 'STOP_LOSS');
    } else if (long ? mark <= liq : mark >= liq) {
      this.closeAt(pos, liq, 'LIQUIDATION');
    } else if (pos.takeProfitPrice !== undefined && (long ? trigger >= pos.takeProfitPrice : trigger <= pos.takeProfitPrice)) {
      this.closeAt(pos, this.slipped(trigger, exitSide), 'TAKE_PROFIT');
    }
  }

  /** Last and mark price seen for `symbol`. */
  price(symbol: string): { last: number; mark: number } | undefined {
    return this.prices.get(symbol);
  }

  positions(): PositionView[] {
    return [...this.positionsBySymbol.values()].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)).map((p) => this.view(p));
  }

  private view(p: PaperPosition): PositionView {
    const px = this.prices.get(p.symbol);
    const markPrice = px?.mark ?? p.avgEntryPrice;
    const direction = p.sign === 1 ? 'LONG' : 'SHORT';
    return {
      symbol: p.symbol, direction, qty: p.qty, avgEntryPrice: p.avgEntryPrice, leverage: p.leverage, marginUsd: p.marginUsd,
      liquidationPrice: liquidationPrice(direction, p.avgEntryPrice, p.leverage, this.config.maintenanceMarginRate),
      markPrice, unrealizedPnlUsd: (markPrice - p.avgEntryPrice) * p.qty * p.sign,
      stopLossPrice: p.stopLossPrice, takeProfitPrice: p.takeProfitPrice, openedAtMs: p.openedAtMs,
    };
  }

  openOrders(): OrderView[] {
    return this.totalOpen === 0 ? [] : this.orders.filter((o) => o.status === 'New');
  }

  /** Open and recent closed orders, newest last. */
  recentOrders(): OrderView[] {
    return [...this.orders];
  }

  account(): AccountView {
    let margin = 0;
    let unrealized = 0;
    for (const p of this.positionsBySymbol.values()) {
      const v = this.view(p);
      margin += v.marginUsd;
      unrealized += v.unrealizedPnlUsd;
    }
    return {
      balanceUsd: this.balanceUsd, marginUsd: margin, unrealizedPnlUsd: unrealized, equityUsd: this.balanceUsd + margin + unrealized,
      depositsUsd: this.depositsUsd, realizedPnlUsd: this.realizedPnlUsd, feesUsd: this.feesUsd,
    };
  }

  snapshot(): PaperBrokerState {
    return structuredClone({
      version: 1 as const, depositsUsd: this.depositsUsd, balanceUsd: this.balanceUsd, realizedPnlUsd: this.realizedPnlUsd, feesUsd: this.feesUsd,
      seq: this.seq, positions: [...this.positionsBySymbol.values()], orders: this.orders, linkIds: [...this.linkIds], prices: Object.fromEntries(this.prices),
    });
  }
}
