import type { MinuteBarClosed } from './events.js';

/**
 * Builds per-minute bars from the event stream of one symbol on exchange time. Prices come from the merged
 * ticker's last price (every trade moves it), volumes from trades. A bar closes when an event of a later
 * minute arrives; events of an already closed minute are folded into the current bar's volume rather than
 * reopening history (Bybit trade times can trail ticker times by a few ms).
 */
export class MinuteBarBuilder {
  private minuteMs = NaN;
  private open = NaN;
  private high = NaN;
  private low = NaN;
  private close = NaN;
  private buyQty = 0;
  private sellQty = 0;
  private buyUsd = 0;
  private sellUsd = 0;
  private trades = 0;
  private oi = NaN;
  private oiValue = NaN;
  private funding = NaN;

  constructor(readonly symbol: string) {}

  /** Feeds a ticker; returns the bar it closed, if any. */
  onTicker(tsEvent: number, lastPrice: number, openInterest: number, openInterestValue: number, fundingRate: number): MinuteBarClosed | undefined {
    const closed = this.roll(tsEvent);
    if (lastPrice > 0) {
      if (Number.isNaN(this.open)) this.open = this.high = this.low = lastPrice;
      if (lastPrice > this.high) this.high = lastPrice;
      if (lastPrice < this.low) this.low = lastPrice;
      this.close = lastPrice;
    }
    if (!Number.isNaN(openInterest)) this.oi = openInterest;
    if (!Number.isNaN(openInterestValue)) this.oiValue = openInterestValue;
    if (!Number.isNaN(fundingRate)) this.funding = fundingRate;
    return closed;
  }

  onTrades(tsEvent: number, count: number, buyQty: number, sellQty: number, buyUsd: number, sellUsd: number): MinuteBarClosed | undefined {
    const closed = this.roll(tsEvent);
    this.trades += count;
    this.buyQty += buyQty;
    this.sellQty += sellQty;
    this.buyUsd += buyUsd;
    this.sellUsd += sellUsd;
    return closed;
  }

  private roll(tsEvent: number): MinuteBarClosed | undefined {
    const minute = Math.floor(tsEvent / 60_000) * 60_000;
    if (Number.isNaN(this.minuteMs)) {
      this.minuteMs = minute;
      return undefined;
    }
    if (minute <= this.minuteMs) return undefined;
    const closed: MinuteBarClosed | undefined = Number.isNaN(this.open)
      ? undefined
      : {
          kind: 'bar',
          symbol: this.symbol,
          minuteMs: this.minuteMs,
          open: this.open,
          high: this.high,
          low: this.low,
          close: this.close,
          buyQty: this.buyQty,
          sellQty: this.sellQty,
          buyTurnoverUsd: this.buyUsd,
          sellTurnoverUsd: this.sellUsd,
          openInterest: this.oi,
          openInterestValue: this.oiValue,
          fundingRate: this.funding,
          trades: this.trades,
        };
    this.minuteMs = minute;
    this.open = this.high = this.low = this.close;
    this.buyQty = this.sellQty = this.buyUsd = this.sellUsd = 0;
    this.trades = 0;
    return closed;
  }
}
