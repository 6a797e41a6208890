import type { SymbolFeatures } from './features.js';
import { RollingWindow } from './rolling-window.js';

const SUM_BUY_QTY = 0;
const SUM_SELL_QTY = 1;
const SUM_BUY_USD = 2;
const SUM_SELL_USD = 3;
const SUM_LIQ_LONG_USD = 4;
const SUM_LIQ_SHORT_USD = 5;
const SUM_SERIES = 6;

const LAST_PRICE = 0;
const LAST_MARK_PRICE = 1;
const LAST_OI = 2;
const LAST_OI_VALUE = 3;
const LAST_SERIES = 4;

const WINDOWS_SEC = [60, 300, 900, 3600] as const;
const W_5M = 1;
const W_1H = 3;
const HOUR_SEC = 3600;
const MIN_VOLUME_HISTORY_SEC = 600;

/** A features object with every field NaN, to be owned by a caller and refilled by {@link SymbolWindows.features}. */
export function emptyFeatures(): SymbolFeatures {
  return {
    lastPrice: NaN,
    markPrice: NaN,
    openInterest: NaN,
    openInterestValue: NaN,
    priceChangePct1m: NaN,
    priceChangePct5m: NaN,
    oiChangePct15m: NaN,
    volume5mUsd: NaN,
    volumeRatio5m: NaN,
    buyVolume5mUsd: NaN,
    sellVolume5mUsd: NaN,
    liqLongUsd5m: NaN,
    liqShortUsd5m: NaN,
    historySec: NaN,
    tsEvent: NaN,
  };
}

function changePct(now: number, then: number): number {
  return then === 0 ? NaN : ((now - then) / then) * 100;
}

/**
 * The rolling market state of one symbol, owned by its SymbolActor: ticker prices and open interest
 * (last-value), taker volume and realized liquidations (sums), over 1 s buckets for `horizonSec` (default
 * one hour). Every `on*` call is O(1) amortised and allocation-free; `features(out)` fills a caller-owned
 * object.
 *
 * Times are `tsEvent` ms; events may arrive slightly out of order (they land in their own bucket) but events
 * already outside the horizon are dropped and counted in `staleEventCount`. A silence longer than the
 * horizon resets everything, so changes read NaN until enough fresh history exists again.
 */
export class SymbolWindows {
  /** Same as the module-level {@link emptyFeatures}. */
  static emptyFeatures(): SymbolFeatures {
    return emptyFeatures();
  }

  private readonly window: RollingWindow;

  constructor(options: { horizonSec?: number } = {}) {
    const horizonSec = options.horizonSec ?? HOUR_SEC;
    if (!Number.isInteger(horizonSec) || horizonSec < HOUR_SEC) {
      throw new RangeError(`SymbolWindows: horizonSec must be an integer >= ${HOUR_SEC}, got ${horizonSec}`);
    }
    this.window = new RollingWindow({
      horizonSec,
      windowsSec: WINDOWS_SEC,
      sumSeries: SUM_SERIES,
      lastSeries: LAST_SERIES,
    });
  }

  get horizonSec(): number {
    return this.window.horizonSec;
  }

  /** Largest `tsEvent` seen (ms), NaN before the first event. */
  get headMs(): number {
    return this.window.headMs;
  }

  /** Events dropped because they were older than the horizon. */
  get staleEventCount(): number {
    return this.window.staleEventCount;
  }

  /** Malformed inputs ignored (non-finite time, negative or non-finite volume, infinite price). */
  get invalidInputCount(): number {
    return this.window.invalidInputCount;
  }

  /** Times a silence longer than the horizon wiped the state. */
  get resetCount(): number {
    return this.window.resetCount;
  }

  /** A merged ticker. NaN for a field means "not known yet" and leaves that series untouched. */
  onTicker(tsEventMs: number, lastPrice: number, markPrice: number, openInterest: number, openInterestValue: number): void {
    const w = this.window;
    const age = w.locate(tsEventMs);
    if (age < 0) return;
    w.observe(LAST_PRICE, age, tsEventMs, lastPrice);
    w.observe(LAST_MARK_PRICE, age, tsEventMs, markPrice);
    w.observe(LAST_OI, age, tsEventMs, openInterest);
    w.observe(LAST_OI_VALUE, age, tsEventMs, openInterestValue);
  }

  /** Taker volume of one trade frame: base quantity and USD turnover per taker side. */
  onTrades(tsEventMs: number, buyQty: number, sellQty: number, buyTurnoverUsd: number, sellTurnoverUsd: number): void {
    const w = this.window;
    const age = w.locate(tsEventMs);
    if (age < 0) return;
    w.add(SUM_BUY_QTY, age, buyQty);
    w.add(SUM_SELL_QTY, age, sellQty);
    w.add(SUM_BUY_USD, age, buyTurnoverUsd);
    w.add(SUM_SELL_USD, age, sellTurnoverUsd);
  }

  /** Realized liquidations in USD by the side of the liquidated position. */
  onLiquidations(tsEventMs: number, longUsd: number, shortUsd: number): void {
    const w = this.window;
    const age = w.locate(tsEventMs);
    if (age < 0) return;
    w.add(SUM_LIQ_LONG_USD, age, longUsd);
    w.add(SUM_LIQ_SHORT_USD, age, shortUsd);
  }

  /** Taker base quantity over the last 300 s, by side (not part of {@link SymbolFeatures}). */
  buyQty5m(): number {
    return this.window.sum(SUM_BUY_QTY, W_5M);
  }

  sellQty5m(): number {
    return this.window.sum(SUM_SELL_QTY, W_5M);
  }

  /** Fills `out` with the features as of the head and returns it. Allocation-free. */
  features(out: SymbolFeatures): SymbolFeatures {
    const w = this.window;
    const lastPrice = w.lastValue(LAST_PRICE);
    const openInterest = w.lastValue(LAST_OI);
    out.lastPrice = lastPrice;
    out.markPrice = w.lastValue(LAST_MARK_PRICE);
    out.openInterest = openInterest;
    out.openInterestValue = w.lastValue(LAST_OI_VALUE);
    if (w.isEmpty) {
      out.priceChangePct1m = NaN;
      out.priceChangePct5m = NaN;
      out.oiChangePct15m = NaN;
    } else {
      out.priceChangePct1m = changePct(lastPrice, w.valueAt(LAST_PRICE, 60));
      out.priceChangePct5m = changePct(lastPrice, w.valueAt(LAST_PRICE, 300));
      out.oiChangePct15m = changePct(openInterest, w.valueAt(LAST_OI, 900));
    }
    const buy5m = w.sum(SUM_BUY_USD, W_5M);
    const sell5m = w.sum(SUM_SELL_USD, W_5M);
    const volume5m = buy5m + sell5m;
    const historySec = w.historySec;
    const coveredSec = historySec < HOUR_SEC ? historySec : HOUR_SEC;
    const hourUsd = w.sum(SUM_BUY_USD, W_1H) + w.sum(SUM_SELL_USD, W_1H);
    const average5m = coveredSec >= MIN_VOLUME_HISTORY_SEC ? hourUsd / (coveredSec / 300) : NaN;
    out.volume5mUsd = volume5m;
    out.volumeRatio5m = average5m > 0 ? volume5m / average5m : NaN;
    out.buyVolume5mUsd = buy5m;
    out.sellVolume5mUsd = sell5m;
    out.liqLongUsd5m = w.sum(SUM_LIQ_LONG_USD, W_5M);
    out.liqShortUsd5m = w.sum(SUM_LIQ_SHORT_USD, W_5M);
    out.historySec = historySec;
    out.tsEvent = w.headMs;
    return out;
  }
}
