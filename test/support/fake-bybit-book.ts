import { randomUUID } from 'node:crypto';
import { BookRefusal, type BookEvent, type FakeExecution, type FakeInstrument, type FakeOrder, type FakePosition } from './fake-bybit-book-types.js';

export { BookRefusal, type BookEvent, type FakeExecution, type FakeInstrument, type FakeOrder, type FakePosition };

const TAKER_FEE = 0.00055;
const MAKER_FEE = 0.0002;
const onStep = (value: number, step: number): boolean => Math.abs(value / step - Math.round(value / step)) < 1e-6;
const OPEN: readonly FakeOrder['orderStatus'][] = ['New', 'PartiallyFilled'];

/**
 * The matching and account state behind the fake Bybit exchange, one-way position mode (positionIdx 0), USDT
 * linear only. Market orders fill at the last price the test sets; limits rest and fill at their price when the
 * last price crosses them; position TP/SL (set on the order, Full mode, or by trading-stop) trigger on last or
 * mark price and close the whole position at the trigger price. Every change is reported through `onEvent`
 * so the private WS can push it in Bybit's shapes. No I/O here: the server around it does that.
 */
export class FakeBybitBook {
  readonly instruments = new Map<string, FakeInstrument>();
  readonly orders = new Map<string, FakeOrder>();
  readonly positions = new Map<string, FakePosition>();
  readonly executions: FakeExecution[] = [];
  /** Every orderLinkId ever accepted: Bybit refuses a reuse with 110072. */
  readonly usedLinkIds = new Set<string>();
  readonly lastPrice = new Map<string, number>();
  readonly markPrice = new Map<string, number>();
  walletBalanceUsd = 100_000;
  /** When true, a resting limit that is crossed fills half its remaining quantity (on the qty step) per price move. */
  partialFills = false;
  positionMode: 'one-way' | 'hedge' = 'one-way';
  marginMode: 'REGULAR_MARGIN' | 'ISOLATED_MARGIN' | 'PORTFOLIO_MARGIN' = 'REGULAR_MARGIN';
  onEvent: (e: BookEvent) => void = () => {};

  constructor(readonly now: () => number) {}

  addInstrument(i: Partial<FakeInstrument> & { symbol: string }): void {
    this.instruments.set(i.symbol, { tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 100, maxLeverage: 100, ...i });
  }

  position(symbol: string): FakePosition {
    let p = this.positions.get(symbol);
    if (!p) {
      p = { symbol, side: '', size: 0, avgPrice: 0, leverage: 10, stopLoss: 0, takeProfit: 0, slTriggerBy: 'LastPrice', tpTriggerBy: 'LastPrice', cumRealisedPnl: 0, updatedTime: this.now() };
      this.positions.set(symbol, p);
    }
    return p;
  }

  instrument(symbol: string): FakeInstrument {
    const i = this.instruments.get(symbol);
    if (!i) throw new BookRefusal(10001, `params error: symbol invalid (${symbol})`);
    return i;
  }

  findOrder(ref: { orderId?: string | undefined; orderLinkId?: string | undefined }): FakeOrder | undefined {
    if (ref.orderId) return this.orders.get(ref.orderId);
    if (ref.orderLinkId) for (const o of this.orders.values()) if (o.orderLinkId === ref.orderLinkId) return o;
    return undefined;
  }

  isOpen(o: FakeOrder): boolean {
    return OPEN.includes(o.orderStatus);
  }

  unrealisedPnl(p: FakePosition): number {
    const mark = this.markPrice.get(p.symbol) ?? this.lastPrice.get(p.symbol) ?? p.avgPrice;
    return p.size === 0 ? 0 : (p.side === 'Buy' ? 1 : -1) * (mark - p.avgPrice) * p.size;
  }

  /** Initial margin held by positions and open non-reduce-only orders. */
  usedMarginUsd(): number {
    let used = 0;
    for (const p of this.positions.values()) used += (p.size * p.avgPrice) / p.leverage;
    for (const o of this.orders.values()) {
      if (!this.isOpen(o) || o.reduceOnly) continue;
      used += ((o.qty - o.cumExecQty) * o.price) / this.position(o.symbol).leverage;
    }
    return used;
  }

  equityUsd(): number {
    let upl = 0;
    for (const p of this.positions.values()) upl += this.unrealisedPnl(p);
    return this.walletBalanceUsd + upl;
  }

  /** Validates and accepts one order (Bybit's create), filling it at once when it is marketable. */
  create(req: Record<string, unknown>): FakeOrder {
    const symbol = String(req.symbol ?? '');
    const inst = this.instrument(symbol);
    const side = req.side;
    if (side !== 'Buy' && side !== 'Sell') throw new BookRefusal(10001, 'params error: side invalid');
    const orderType = req.orderType;
    if (orderType !== 'Market' && orderType !== 'Limit') throw new BookRefusal(10001, 'params error: orderType invalid');
    const linkId = typeof req.orderLinkId === 'string' ? req.orderLinkId : '';
    if (linkId.length > 36 || !/^[A-Za-z0-9_-]*$/.test(linkId)) throw new BookRefusal(10001, 'params error: orderLinkId invalid');
    if (linkId !== '' && this.usedLinkIds.has(linkId)) throw new BookRefusal(110072, 'OrderLinkedID is duplicate');
    if (this.positionMode === 'hedge' && (req.positionIdx === undefined || Number(req.positionIdx) === 0)) {
      throw new BookRefusal(10001, 'position idx not match position mode');
    }
    const qty = Number(req.qty);
    if (!(qty > 0)) throw new BookRefusal(10001, 'params error: qty invalid');
    if (qty < inst.minOrderQty) throw new BookRefusal(10001, `The number of contracts exceeds minimum limit allowed`);
    if (qty > inst.maxOrderQty) throw new BookRefusal(10001, 'The number of contracts exceeds maximum limit allowed');
    if (!onStep(qty, inst.qtyStep)) throw new BookRefusal(10001, `Qty invalid: not a multiple of qtyStep ${inst.qtyStep}`);
    const last = this.lastPrice.get(symbol);
    if (last === undefined) throw new BookRefusal(10016, 'Server error: no price for symbol');
    let price = last;
    if (orderType === 'Limit') {
      price = Number(req.price);
      if (!(price > 0)) throw new BookRefusal(10001, 'params error: price is required for Limit orders');
      if (!onStep(price, inst.tickSize)) throw new BookRefusal(10001, `Price invalid: not a multiple of tickSize ${inst.tickSize}`);
    }
    const reduceOnly = req.reduceOnly === true || req.reduceOnly === 'true';
    const stopLoss = req.stopLoss === undefined ? 0 : Number(req.stopLoss);
    const takeProfit = req.takeProfit === undefined ? 0 : Number(req.takeProfit);
    if (reduceOnly && (stopLoss > 0 || takeProfit > 0)) throw new BookRefusal(10001, 'TP/SL cannot be set on a reduce-only order');
    const base = orderType === 'Market' ? last : price;
    if (stopLoss > 0 && (side === 'Buy' ? stopLoss >= base : stopLoss <= base)) {
      throw new BookRefusal(10001, `StopLoss:${stopLoss} set for ${side} position should be ${side === 'Buy' ? 'lower' : 'higher'} than base_price:${base}`);
    }
    if (takeProfit > 0 && (side === 'Buy' ? takeProfit <= base : takeProfit >= base)) {
      throw new BookRefusal(10001, `TakeProfit:${takeProfit} set for ${side} position should be ${side === 'Buy' ? 'higher' : 'lower'} than base_price:${base}`);
    }
    const pos = this.position(symbol);
    if (reduceOnly && (pos.size === 0 || pos.side === side)) throw new BookRefusal(110017, 'Reduce-only rule not satisfied');
    if (!reduceOnly) {
      const needed = (qty * base) / pos.leverage + qty * base * TAKER_FEE;
      const available = this.equityUsd() - this.usedMarginUsd();
      if (needed > available) throw new BookRefusal(110007, 'ab not enough for new order');
    }
    const t = this.now();
    const order: FakeOrder = {
      orderId: randomUUID(), orderLinkId: linkId, symbol, side, orderType, price, qty, cumExecQty: 0, cumExecValue: 0, cumExecFee: 0,
      orderStatus: 'New', stopLoss, takeProfit, reduceOnly, stopOrderType: '', triggerBy: req.slTriggerBy === 'MarkPrice' ? 'MarkPrice' : 'LastPrice',
      createdTime: t, updatedTime: t,
    };
    if (linkId !== '') this.usedLinkIds.add(linkId);
    this.orders.set(order.orderId, order);
    const crosses = orderType === 'Market' || (side === 'Buy' ? price >= last : price <= last);
    if (crosses) this.fill(order, last, false);
    else this.onEvent({ topic: 'order', order });
    return order;
  }

  amend(req: Record<string, unknown>): FakeOrder {
    const o = this.findOrder({ orderId: req.orderId as string | undefined, orderLinkId: req.orderLinkId as string | undefined });
    if (!o || !this.isOpen(o)) throw new BookRefusal(110001, 'order not exists or too late to replace');
    const inst = this.instrument(o.symbol);
    if (req.price !== undefined) {
      const p = Number(req.price);
      if (!(p > 0) || !onStep(p, inst.tickSize)) throw new BookRefusal(10001, `Price invalid: not a multiple of tickSize ${inst.tickSize}`);
      o.price = p;
    }
    if (req.qty !== undefined) {
      const q = Number(req.qty);
      if (!(q > 0) || !onStep(q, inst.qtyStep)) throw new BookRefusal(10001, `Qty invalid: not a multiple of qtyStep ${inst.qtyStep}`);
      o.qty = q;
    }
    if (req.stopLoss !== undefined) o.stopLoss = Number(req.stopLoss);
    if (req.takeProfit !== undefined) o.takeProfit = Number(req.takeProfit);
    o.updatedTime = this.now();
    this.onEvent({ topic: 'order', order: o });
    this.matchResting(o.symbol);
    return o;
  }

  cancel(o: FakeOrder | undefined): FakeOrder {
    if (!o || !this.isOpen(o)) throw new BookRefusal(110001, 'order not exists or too late to cancel');
    o.orderStatus = 'Cancelled';
    o.updatedTime = this.now();
    this.onEvent({ topic: 'order', order: o });
    this.onEvent({ topic: 'position', position: this.position(o.symbol) });
    return o;
  }

  /** Sets position TP/SL (trading-stop, Full mode). Values of 0 cancel; undefined leaves as is. */
  tradingStop(symbol: string, stopLoss: number | undefined, takeProfit: number | undefined, slTriggerBy?: string): void {
    const p = this.position(symbol);
    if (p.size === 0) throw new BookRefusal(10001, 'can not set tp/sl/ts for zero position');
    const base = (p.slTriggerBy === 'MarkPrice' ? this.markPrice.get(symbol) : undefined) ?? this.lastPrice.get(symbol) ?? p.avgPrice;
    const same = (stopLoss === undefined || stopLoss === p.stopLoss) && (takeProfit === undefined || takeProfit === p.takeProfit);
    if (same && slTriggerBy === undefined) throw new BookRefusal(34040, 'not modified');
    if (stopLoss !== undefined && stopLoss > 0 && (p.side === 'Buy' ? stopLoss >= base : stopLoss <= base)) {
      throw new BookRefusal(10001, `StopLoss:${stopLoss} set for ${p.side} position should be ${p.side === 'Buy' ? 'lower' : 'higher'} than base_price:${base}`);
    }
    if (stopLoss !== undefined) p.stopLoss = stopLoss;
    if (takeProfit !== undefined) p.takeProfit = takeProfit;
    if (slTriggerBy === 'MarkPrice' || slTriggerBy === 'LastPrice') p.slTriggerBy = p.tpTriggerBy = slTriggerBy;
    p.updatedTime = this.now();
    this.onEvent({ topic: 'position', position: p });
  }

  /** Moves the market: fills crossed limits, then triggers position TP/SL. */
  setPrice(symbol: string, last: number, mark = last): void {
    this.lastPrice.set(symbol, last);
    this.markPrice.set(symbol, mark);
    this.matchResting(symbol);
    this.triggerStops(symbol);
  }

  private matchResting(symbol: string): void {
    const last = this.lastPrice.get(symbol);
    if (last === undefined) return;
    for (const o of [...this.orders.values()]) {
      if (o.symbol !== symbol || !this.isOpen(o) || o.orderType !== 'Limit') continue;
      if (!(o.side === 'Buy' ? last <= o.price : last >= o.price)) continue;
      const step = this.instrument(o.symbol).qtyStep;
      const half = Math.floor((o.qty - o.cumExecQty) / 2 / step + 1e-9) * step;
      this.fill(o, o.price, true, this.partialFills && half >= step ? half : undefined);
    }
  }

  private triggerStops(symbol: string): void {
    const p = this.positions.get(symbol);
    if (!p || p.size === 0) return;
    const px = (by: string) => (by === 'MarkPrice' ? this.markPrice.get(symbol) : this.lastPrice.get(symbol)) ?? p.avgPrice;
    const long = p.side === 'Buy';
    const sl = p.stopLoss > 0 && (long ? px(p.slTriggerBy) <= p.stopLoss : px(p.slTriggerBy) >= p.stopLoss);
    const tp = !sl && p.takeProfit > 0 && (long ? px(p.tpTriggerBy) >= p.takeProfit : px(p.tpTriggerBy) <= p.takeProfit);
    if (!sl && !tp) return;
    const t = this.now();
    const close: FakeOrder = {
      orderId: randomUUID(), orderLinkId: '', symbol, side: long ? 'Sell' : 'Buy', orderType: 'Market', price: sl ? p.stopLoss : p.takeProfit,
      qty: p.size, cumExecQty: 0, cumExecValue: 0, cumExecFee: 0, orderStatus: 'New', stopLoss: 0, takeProfit: 0, reduceOnly: true,
      stopOrderType: sl ? 'StopLoss' : 'TakeProfit', triggerBy: 'LastPrice', createdTime: t, updatedTime: t,
    };
    this.orders.set(close.orderId, close);
    this.fill(close, close.price, false);
  }

  /** Fills the order's remaining quantity at `price`, moving the one-way position and the wallet. */
  private fill(o: FakeOrder, price: number, isMaker: boolean, partQty?: number): void {
    const qty = round(partQty ?? o.qty - o.cumExecQty);
    const fee = qty * price * (isMaker ? MAKER_FEE : TAKER_FEE);
    const p = this.position(o.symbol);
    let pnl = 0;
    if (p.size === 0 || p.side === o.side) {
      p.avgPrice = (p.avgPrice * p.size + price * qty) / (p.size + qty);
      p.size = round(p.size + qty);
      p.side = o.side;
    } else {
      const closed = Math.min(qty, p.size);
      pnl = (p.side === 'Buy' ? 1 : -1) * (price - p.avgPrice) * closed;
      p.size = round(p.size - closed);
      const rest = round(qty - closed);
      if (p.size === 0 && rest > 0 && !o.reduceOnly) {
        p.side = o.side;
        p.size = rest;
        p.avgPrice = price;
      } else if (p.size === 0) {
        p.side = '';
        p.avgPrice = 0;
        p.stopLoss = 0;
        p.takeProfit = 0;
      }
    }
    if (o.side === p.side && (o.stopLoss > 0 || o.takeProfit > 0)) {
      if (o.stopLoss > 0) p.stopLoss = o.stopLoss;
      if (o.takeProfit > 0) p.takeProfit = o.takeProfit;
      p.slTriggerBy = p.tpTriggerBy = o.triggerBy;
    }
    p.cumRealisedPnl += pnl - fee;
    p.updatedTime = this.now();
    this.walletBalanceUsd += pnl - fee;
    o.cumExecQty = round(o.cumExecQty + qty);
    o.cumExecValue += qty * price;
    o.cumExecFee += fee;
    o.orderStatus = o.cumExecQty >= o.qty - 1e-12 ? 'Filled' : 'PartiallyFilled';
    o.updatedTime = this.now();
    const execution: FakeExecution = {
      execId: randomUUID(), orderId: o.orderId, orderLinkId: o.orderLinkId, symbol: o.symbol, side: o.side, execPrice: price, execQty: qty,
      execFee: fee, execPnl: pnl, isMaker, stopOrderType: o.stopOrderType, execTime: this.now(),
    };
    this.executions.push(execution);
    this.onEvent({ topic: 'order', order: o });
    this.onEvent({ topic: 'execution', execution });
    this.onEvent({ topic: 'position', position: p });
    this.onEvent({ topic: 'wallet' });
  }
}

function round(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}
