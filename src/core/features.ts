/**
 * Per-symbol market features read from the rolling windows on every event. All fields are plain numbers so a
 * caller can own one object and have it refilled in place (no allocation on the hot path); a value that
 * cannot be computed yet (no observation old enough, no history, division by zero) is NaN, never 0.
 *
 * Percent fields are percent, not fractions: 2.5 means +2.5 %.
 */
export interface SymbolFeatures {
  /** Latest last-traded price from the ticker. */
  lastPrice: number;
  markPrice: number;
  /** Open interest in base coin. */
  openInterest: number;
  /** Open interest in USD. */
  openInterestValue: number;
  /** Last price now vs as of the bucket 60 s before the head. */
  priceChangePct1m: number;
  /** Last price now vs as of the bucket 300 s before the head. */
  priceChangePct5m: number;
  /** Open interest now vs as of the bucket 900 s before the head. */
  oiChangePct15m: number;
  /** Taker buy + sell turnover over the last 300 s. */
  volume5mUsd: number;
  /**
   * `volume5mUsd` / the average 5-minute turnover of the last hour (hour sum / 12). With less than an hour of
   * history the covered span is used instead (sum / (historySec / 300)); NaN under 600 s of history or when
   * the average is 0.
   */
  volumeRatio5m: number;
  buyVolume5mUsd: number;
  sellVolume5mUsd: number;
  /** Realized liquidations of long positions over the last 300 s. */
  liqLongUsd5m: number;
  /** Realized liquidations of short positions over the last 300 s. */
  liqShortUsd5m: number;
  /** Whole seconds of history (first event's bucket to the head's, inclusive), capped at the horizon. */
  historySec: number;
  /** Head time: the largest `tsEvent` seen (ms). */
  tsEvent: number;
}
