/**
 * Market events: what the stream layer hands to the actors after a raw frame was validated, parsed and (for
 * tickers) merged into full state. Every numeric field is a parsed number; a field the exchange has not sent
 * yet is NaN, never 0. `tsEvent` is exchange time (windows use it); `tsInit` is local receipt time (replay
 * orders by it and latency is measured from it).
 */

/**
 * What the actors need from the merged ticker state of one linear perpetual after a snapshot or delta. The
 * full merged state (book top, 24 h figures, index price…) stays in the decoder and is shown by the operator
 * endpoint; every extra double here would cost an allocation per frame.
 */
export interface TickerUpdated {
  readonly kind: 'ticker';
  readonly symbol: string;
  readonly tsEvent: number;
  readonly tsInit: number;
  readonly lastPrice: number;
  readonly markPrice: number;
  /** Base-coin size summed over both sides (Bybit linear semantics). */
  readonly openInterest: number;
  /** USD value of `openInterest`. */
  readonly openInterestValue: number;
  readonly fundingRate: number;
}

/** One `publicTrade` frame, aggregated by taker side. */
export interface TradesPrinted {
  readonly kind: 'trades';
  readonly symbol: string;
  /** Fill time of the newest trade in the frame. */
  readonly tsEvent: number;
  readonly tsInit: number;
  readonly count: number;
  readonly buyQty: number;
  readonly sellQty: number;
  readonly buyTurnoverUsd: number;
  readonly sellTurnoverUsd: number;
  readonly lastPrice: number;
}

/** One realized liquidation from `allLiquidation`. `side` is the side of the liquidated position. */
export interface RealizedLiquidation {
  readonly tsEvent: number;
  readonly side: 'long' | 'short';
  /** Bankruptcy price. */
  readonly price: number;
  readonly qty: number;
  readonly usd: number;
}

/** One `allLiquidation` frame (REALIZED, as opposed to heatmap levels which are ESTIMATED). */
export interface LiquidationsOccurred {
  readonly kind: 'liquidations';
  readonly symbol: string;
  readonly tsEvent: number;
  readonly tsInit: number;
  readonly longUsd: number;
  readonly shortUsd: number;
  readonly items: readonly RealizedLiquidation[];
}

export type MarketEvent = TickerUpdated | TradesPrinted | LiquidationsOccurred;

/** A source (one WS connection, the REST discovery, CoinGlass…) stopped delivering. */
export interface SourceDown {
  readonly kind: 'source-down';
  readonly source: string;
  readonly tsInit: number;
  readonly reason: string;
}

export interface SourceUp {
  readonly kind: 'source-up';
  readonly source: string;
  readonly tsInit: number;
}

export type SourceEvent = SourceDown | SourceUp;

/** Price, OI or volume moved enough on one symbol to refresh its heatmaps (one event per move: cooldown). */
export interface SpikeDetected {
  readonly kind: 'spike';
  readonly symbol: string;
  readonly tsEvent: number;
  /** Receipt time of the frame that completed the spike. */
  readonly tsInit: number;
  /** Names of the thresholds crossed, e.g. ['price1m', 'volume']. */
  readonly reasons: readonly string[];
  readonly priceChangePct1m: number;
  readonly priceChangePct5m: number;
  readonly oiChangePct15m: number;
  readonly volumeRatio5m: number;
  readonly lastPrice: number;
}

/** One closed per-minute bar of one symbol (exchange time), for storage and dashboards. */
export interface MinuteBarClosed {
  readonly kind: 'bar';
  readonly symbol: string;
  /** Start of the minute, epoch ms. */
  readonly minuteMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly buyQty: number;
  readonly sellQty: number;
  readonly buyTurnoverUsd: number;
  readonly sellTurnoverUsd: number;
  readonly openInterest: number;
  readonly openInterestValue: number;
  readonly fundingRate: number;
  readonly trades: number;
}
