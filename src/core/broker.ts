import type { SignalDirection } from './trigger.js';

/**
 * The Broker port: what the execution actor needs from a venue, whatever it is (the paper broker now, Bybit
 * later). Commands are handed over with `submit` and never answered inline; everything the venue decides —
 * accepted, rejected, filled, stop moved, position closed — comes back as a `BrokerEvent` to the listener,
 * which the wiring turns into actor messages (so a synchronous paper broker cannot re-enter the actor).
 * Shapes follow Bybit v5 one-way mode: `orderLinkId` is the client id (≤ 36 chars, unique per account, a
 * duplicate is rejected), and stop-loss / take-profit live on the position (`tpslMode=Full`, attached to the
 * entry order and moved with `/v5/position/trading-stop`), so every position carries its stop on the venue.
 */
export type OrderSide = 'Buy' | 'Sell';
export type OrderType = 'Market' | 'Limit';
export type OrderStatus = 'New' | 'Filled' | 'Cancelled' | 'Rejected';

export interface PlaceOrder {
  readonly kind: 'place';
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly orderType: OrderType;
  readonly qty: number;
  /** Limit price; ignored for market orders. */
  readonly priceUsd?: number;
  readonly reduceOnly: boolean;
  /** Attached to the position when this order fills (Bybit `stopLoss`, tpslMode Full). */
  readonly stopLossPrice?: number;
  readonly takeProfitPrice?: number;
  /** Leverage the position uses if this order opens it. */
  readonly leverage?: number;
}

export interface CancelOrder {
  readonly kind: 'cancel';
  readonly symbol: string;
  readonly orderLinkId: string;
}

/** Moves the position's stop and/or take-profit (trailing, reversal, manual). */
export interface SetTradingStop {
  readonly kind: 'set-trading-stop';
  readonly symbol: string;
  readonly stopLossPrice?: number;
  readonly takeProfitPrice?: number;
}

/** Closes the whole position at market (manual close, kill switch flatten). */
export interface ClosePosition {
  readonly kind: 'close-position';
  readonly symbol: string;
  readonly orderLinkId: string;
}

export type BrokerCommand = PlaceOrder | CancelOrder | SetTradingStop | ClosePosition;

export interface OrderView {
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly orderType: OrderType;
  readonly qty: number;
  readonly priceUsd: number | undefined;
  readonly reduceOnly: boolean;
  readonly stopLossPrice: number | undefined;
  readonly takeProfitPrice: number | undefined;
  readonly leverage: number | undefined;
  readonly status: OrderStatus;
  readonly filledQty: number;
  readonly avgFillPrice: number | undefined;
  readonly rejectReason: string | undefined;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

export type CloseCause = 'TAKE_PROFIT' | 'STOP_LOSS' | 'LIQUIDATION' | 'CLOSE';

export interface FillReport {
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  readonly priceUsd: number;
  readonly feeUsd: number;
  readonly liquidity: 'maker' | 'taker';
  /** Why a position-level exit filled; undefined for ordinary orders. */
  readonly cause: CloseCause | undefined;
  readonly tsMs: number;
}

export interface PositionView {
  readonly symbol: string;
  readonly direction: SignalDirection;
  readonly qty: number;
  readonly avgEntryPrice: number;
  readonly leverage: number;
  readonly marginUsd: number;
  readonly liquidationPrice: number;
  readonly markPrice: number;
  readonly unrealizedPnlUsd: number;
  readonly stopLossPrice: number | undefined;
  readonly takeProfitPrice: number | undefined;
  readonly openedAtMs: number;
}

export interface AccountView {
  /** Free cash: deposits + realized − fees − margin in use. */
  readonly balanceUsd: number;
  readonly marginUsd: number;
  readonly unrealizedPnlUsd: number;
  /** balance + margin + unrealized. */
  readonly equityUsd: number;
  readonly depositsUsd: number;
  readonly realizedPnlUsd: number;
  readonly feesUsd: number;
}

export type BrokerEvent =
  | { readonly kind: 'order-accepted'; readonly order: OrderView }
  | { readonly kind: 'order-rejected'; readonly order: OrderView; readonly reason: string }
  | { readonly kind: 'order-cancelled'; readonly order: OrderView }
  | { readonly kind: 'order-filled'; readonly order: OrderView; readonly fill: FillReport }
  | { readonly kind: 'trading-stop-set'; readonly symbol: string; readonly stopLossPrice: number | undefined; readonly takeProfitPrice: number | undefined; readonly tsMs: number }
  | { readonly kind: 'position-closed'; readonly symbol: string; readonly cause: CloseCause; readonly fill: FillReport; readonly tsMs: number };

export interface Broker {
  /** 'paper', 'bybit-testnet', … (stored in `orders.venue`). */
  readonly venue: string;
  submit(command: BrokerCommand): void;
  subscribe(listener: (event: BrokerEvent) => void): () => void;
  positions(): PositionView[];
  openOrders(): OrderView[];
  account(): AccountView;
}
