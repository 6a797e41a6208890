import type { SymbolFeatures } from './features.js';
import { RollingWindow } from './rolling-window.js';

const SUM_BUY_QTY = 0;
const SUM_SELL_QTY = 1;
const SUM_BUY_USD = 2;
const SUM_SELL_USD = 3;
const SUM_LIQ_LONG_USD = 4;
const SUM_LIQ_SHORT_USD = 5;
const SUM_TOTAL_USD = 6;

const LAST_PRICE = 0;
const LAST_MARK_PRICE = 1;
const LAST_OI = 2;
const LAST_OI_VALUE = 3;

/** The only windows any feature reads: 5 minutes (every sum) and the hour (turnover, for the volume ratio). */
const WINDOWS_SEC = [300, 3600] as const;
const W_5M = 0;
const W_1H = 1;
const HOUR_SEC = 3600;
const SHORT_SEC = 300;
const MIN_VOLUME_HISTORY_SEC = 600;

/** The last-value series of a {@link SymbolWindows}, named as in {@link SymbolFeatures}. */
export type LastValueField = 'lastPrice' | 'markPrice' | 'openInterest' | 'openInterestValue';

/**
 * Seconds of history each last-value series keeps: exactly the ages a feature reads (price 60 s and 300 s back,
 * OI 900 s back; mark price and OI value only as latest values). {@link SymbolWindows.valueAt} reads ages below it.
 */
export const LAST_VALUE_HISTORY_SEC: Readonly<Record<LastValueField, number>> = { lastPrice: 301, markPrice: 1, openInterest: 901, openInterestValue: 1 };

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
 * (last-value), taker volume and realized liquidations (sums), over 1 s buckets. Every `on*` call is O(1)
 * amortised and allocation-free; `features(out)` fills a caller-owned object.
 *
 * History per series (memory is the ring of 1 s buckets, 8 bytes each, so each ring is exactly as long as what
 * reads it, and none grows with `horizonSec`): about 53 KB a symbol (it was 158 KB with hour-long rings for
 * every hour series and 15-minute ones for the rest; 500 symbols held 76 MB of them).
 * - One hour: total taker turnover USD (buy + sell; `volumeRatio5m` compares the last 5 minutes with the hour).
 * - 5 minutes ({@link SymbolWindows.shortHistorySec}): taker buy/sell turnover USD and base quantity, realized
 *   liquidations long/short. Every other sum is read over 300 s only.
 * - Last values: {@link LAST_VALUE_HISTORY_SEC}: last price 301 s, open interest 901 s, mark price and OI value
 *   only their latest value (kept however old it is).
 *
 * Times are `tsEvent` ms and there is one head (the largest seen) for all series. Events may arrive slightly
 * out of order (they land in their own bucket); events already outside the horizon are dropped and counted in
 * `staleEventCount`. A late event older than 5 minutes but inside the horizon still counts for the hour
 * turnover and for latest values; its share of a 5-minute sum series is ignored, as it could never be inside
 * any of that series' windows.
 *
 * Gaps: a silence of at least the horizon resets everything, so changes read NaN until enough fresh history
 * exists again. A shorter silence empties the rings it is longer than (every bucket in them is older than their
 * windows, so those sums read 0, exactly the buckets inside the window), while the hour turnover, the latest
 * values and `historySec` carry on: price and OI changes are measured against the forward-filled values before
 * the gap.
 */
export class SymbolWindows {
  /** Seconds of history kept by the 5-minute sum series (buy/sell turnover and base quantity, liquidations). */
  static readonly shortHistorySec = SHORT_SEC;

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
    const sumSeriesSec: number[] = [];
    sumSeriesSec[SUM_BUY_QTY] = SHORT_SEC;
    sumSeriesSec[SUM_SELL_QTY] = SHORT_SEC;
    sumSeriesSec[SUM_BUY_USD] = SHORT_SEC;
    sumSeriesSec[SUM_SELL_USD] = SHORT_SEC;
    sumSeriesSec[SUM_LIQ_LONG_USD] = SHORT_SEC;
    sumSeriesSec[SUM_LIQ_SHORT_USD] = SHORT_SEC;
    sumSeriesSec[SUM_TOTAL_USD] = HOUR_SEC;
    const lastSeriesSec: number[] = [];
    lastSeriesSec[LAST_PRICE] = LAST_VALUE_HISTORY_SEC.lastPrice;
    lastSeriesSec[LAST_MARK_PRICE] = LAST_VALUE_HISTORY_SEC.markPrice;
    lastSeriesSec[LAST_OI] = LAST_VALUE_HISTORY_SEC.openInterest;
    lastSeriesSec[LAST_OI_VALUE] = LAST_VALUE_HISTORY_SEC.openInterestValue;
    this.window = new RollingWindow({ horizonSec, windowsSec: WINDOWS_SEC, sumSeriesSec, lastSeriesSec });
  }

  get horizonSec(): number {
    return this.window.horizonSec;
  }

  /** Bytes of typed arrays held (fixed at construction), for the memory breakdown. */
  get byteLength(): number {
    return this.window.byteLength;
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
    // Only valid parts join the total (an invalid one was counted above, once).
    const total = (buyTurnoverUsd >= 0 && buyTurnoverUsd < Infinity ? buyTurnoverUsd : 0) + (sellTurnoverUsd >= 0 && sellTurnoverUsd < Infinity ? sellTurnoverUsd : 0);
    w.add(SUM_TOTAL_USD, age, total);
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

  /**
   * Value of a last-value series as of the bucket `ageSec` seconds before the head's bucket (forward-filled;
   * NaN before its first observation). `ageSec` is an integer below the series' history
   * ({@link LAST_VALUE_HISTORY_SEC}); anything else throws RangeError.
   */
  valueAt(field: LastValueField, ageSec: number): number {
    const series =
      field === 'lastPrice' ? LAST_PRICE : field === 'markPrice' ? LAST_MARK_PRICE : field === 'openInterest' ? LAST_OI : LAST_OI_VALUE;
    return this.window.valueAt(series, ageSec);
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
    const hourUsd = w.sum(SUM_TOTAL_USD, W_1H);
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
