/**
 * The Bybit venue's vocabulary: what the execution actor asks for (intents), what it gets back (results that
 * are messages, never exceptions), what the venue remembers about its own orders (records, keyed by
 * `orderLinkId`), and the view of the exchange it keeps (positions, open orders, wallet). Prices and
 * quantities are numbers in the instrument's units (USDT per coin, coins); the venue formats Bybit's strings.
 */

export type Side = 'Buy' | 'Sell';

/** A pino-compatible logger subset: `(fields, message)`. Secrets never reach it. */
export interface VenueLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** One entry order to place. `stopLoss` is required: the venue refuses an entry without a stop. */
export interface EntryIntent {
  /** ≤ 36 chars of `[A-Za-z0-9_-]`, derived from the signal id and rung by the caller, so retries are idempotent. */
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: 'Market' | 'Limit';
  readonly qty: number;
  /** Required for Limit. */
  readonly price?: number;
  readonly stopLoss: number;
  readonly takeProfit?: number;
  /** Which price triggers the stop and take-profit; Bybit's default is LastPrice. */
  readonly triggerBy?: 'LastPrice' | 'MarkPrice';
  /** An exit, not an entry: only reduces the position, carries no stop or take-profit (Bybit refuses TP/SL on it). */
  readonly reduceOnly?: boolean;
}

/** Stable reasons for a refusal; `EXCHANGE_REFUSED` carries Bybit's retCode and message. */
export type RefusalReason =
  | 'EXCHANGE_REFUSED'
  | 'NO_STOP_LOSS'
  | 'INVALID_ORDER_LINK_ID'
  | 'VENUE_NOT_STARTED'
  | 'STOP_WOULD_LOOSEN'
  | 'NO_POSITION'
  | 'UNKNOWN_ORDER'
  | 'POSITION_UNREADABLE';

/** What became of a place/cancel/amend/trail request. */
export type VenueResult =
  /** The exchange holds it. `recovered` = found by orderLinkId after a timeout or a 110072 duplicate. */
  | { readonly status: 'done'; readonly orderLinkId: string; readonly orderId?: string; readonly recovered: boolean }
  | { readonly status: 'refused'; readonly orderLinkId: string; readonly reason: RefusalReason; readonly retCode?: number; readonly message: string }
  /** Neither confirmed nor refused (the exchange was unreachable); reconciliation settles it. Never resent blindly. */
  | { readonly status: 'unknown'; readonly orderLinkId: string; readonly message: string };

export type OrderRecordStatus =
  | 'sending' | 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'refused' | 'not_found';

/** The venue's own memory of an order it sent, written BEFORE the request leaves so a restart can find it. */
export interface OrderRecord {
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: 'Market' | 'Limit';
  readonly qty: number;
  readonly price?: number;
  readonly stopLoss: number;
  readonly takeProfit?: number;
  status: OrderRecordStatus;
  orderId?: string;
  cumExecQty: number;
  updatedAtMs: number;
  refusal?: { readonly retCode: number; readonly retMsg: string };
}

export const OPEN_RECORD_STATUSES: readonly OrderRecordStatus[] = ['sending', 'open', 'partially_filled'];

/**
 * Where order records live. `put` of a record still `sending` must be durable when it returns (a file store
 * fsyncs it), because a record written before an order is sent is what prevents a second order after a crash;
 * later updates only need to survive a process kill (reconciliation settles a record left `sending`).
 */
export interface OrderRecordStore {
  get(orderLinkId: string): OrderRecord | undefined;
  put(record: OrderRecord): void;
  all(): OrderRecord[];
}

/** A position as the exchange holds it (one-way mode: one per symbol). */
export interface VenuePosition {
  readonly symbol: string;
  readonly side: Side;
  readonly size: number;
  readonly avgPrice: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly leverage: number;
  readonly unrealisedPnlUsd: number;
  /** Bybit's mark and liquidation prices for the position; 0 when the row did not carry them. */
  readonly markPrice: number;
  readonly liquidationPrice: number;
}

/** An open order as the exchange holds it. */
export interface VenueOrder {
  readonly orderId: string;
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: string;
  readonly price: number;
  readonly qty: number;
  readonly cumExecQty: number;
  readonly status: string;
  readonly stopLoss: number;
  readonly takeProfit: number;
  readonly reduceOnly: boolean;
}

/** One fill (or TP/SL trigger fill) as the exchange reports it; delivered once per execId. */
export interface VenueExecution {
  readonly execId: string;
  readonly orderId: string;
  /** '' for fills of the position's own TP/SL and of orders the daemon did not place. */
  readonly orderLinkId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly execPrice: number;
  readonly execQty: number;
  readonly execFeeUsd: number;
  /** Realised PnL of this fill before fees (Bybit's `execPnl`), USDT. */
  readonly execPnlUsd: number;
  /** `StopLoss`, `TakeProfit`, `TrailingStop`, or '' for an ordinary order. */
  readonly stopOrderType: string;
  readonly execTimeMs: number;
  /** Bybit's `isMaker`: maker fills pay the maker fee. */
  readonly isMaker: boolean;
  /** A liquidation fill (Bybit `execType=BustTrade`). */
  readonly liquidation: boolean;
}

/** Account figures from the exchange; risk uses these in testnet/demo/live instead of paper numbers. */
export interface VenueWallet {
  readonly equityUsd: number;
  readonly walletBalanceUsd: number;
  readonly availableUsd: number;
  readonly unrealisedPnlUsd: number;
  readonly initialMarginUsd: number;
}

/** Counters for metrics. Monotonic unless named otherwise. */
export interface VenueCounters {
  restCalls: number;
  restLatencyMsSum: number;
  restLatencyMsMax: number;
  /** Calls answered with retCode ≠ 0, or failed without an answer (`timeout`, `network`, `http_NNN`), by code. */
  restErrorsByCode: Record<string, number>;
  rateLimitWaits: number;
  timeResyncs: number;
  /** Gauge: private stream authenticated and subscribed. */
  streamUp: boolean;
  streamDrops: number;
  reconciliations: number;
  reconciliationDifferences: number;
  stopsRepaired: number;
  unknownOrdersSeen: number;
}

export function newCounters(): VenueCounters {
  return {
    restCalls: 0, restLatencyMsSum: 0, restLatencyMsMax: 0, restErrorsByCode: {}, rateLimitWaits: 0, timeResyncs: 0,
    streamUp: false, streamDrops: 0, reconciliations: 0, reconciliationDifferences: 0, stopsRepaired: 0, unknownOrdersSeen: 0,
  };
}
