/** The fake exchange's records: what the book holds and what it reports. Shapes on the wire are in fake-bybit-shapes.ts. */

/** Instrument filters the fake checks orders against (Bybit's `instruments-info` lotSize/price/leverage filters). */
export interface FakeInstrument {
  readonly symbol: string;
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxOrderQty: number;
  readonly maxLeverage: number;
}

export interface FakeOrder {
  orderId: string;
  orderLinkId: string;
  symbol: string;
  side: 'Buy' | 'Sell';
  orderType: 'Market' | 'Limit';
  price: number;
  qty: number;
  cumExecQty: number;
  cumExecValue: number;
  cumExecFee: number;
  orderStatus: 'New' | 'PartiallyFilled' | 'Filled' | 'Cancelled' | 'Rejected';
  stopLoss: number;
  takeProfit: number;
  reduceOnly: boolean;
  stopOrderType: string;
  /** Which price triggers the TP/SL this order attaches to its position. */
  triggerBy: 'LastPrice' | 'MarkPrice';
  createdTime: number;
  updatedTime: number;
}

export interface FakePosition {
  symbol: string;
  side: 'Buy' | 'Sell' | '';
  size: number;
  avgPrice: number;
  leverage: number;
  stopLoss: number;
  takeProfit: number;
  slTriggerBy: 'LastPrice' | 'MarkPrice';
  tpTriggerBy: 'LastPrice' | 'MarkPrice';
  cumRealisedPnl: number;
  updatedTime: number;
}

export interface FakeExecution {
  execId: string;
  orderId: string;
  orderLinkId: string;
  symbol: string;
  side: 'Buy' | 'Sell';
  execPrice: number;
  execQty: number;
  execFee: number;
  execPnl: number;
  isMaker: boolean;
  stopOrderType: string;
  execTime: number;
}

/** A refusal the book gives instead of doing something: Bybit's retCode and retMsg. */
export class BookRefusal extends Error {
  constructor(readonly retCode: number, readonly retMsg: string) {
    super(retMsg);
  }
}

export type BookEvent =
  | { topic: 'order'; order: FakeOrder }
  | { topic: 'execution'; execution: FakeExecution }
  | { topic: 'position'; position: FakePosition }
  | { topic: 'wallet' };

