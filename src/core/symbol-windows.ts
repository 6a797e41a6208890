import type { SymbolFeatures } from './features.js';
import { RollingWindow } from './rolling-window.js';

const SUM_BUY_QTY = 0;
const SUM_SELL_QTY = 1;
const SUM_BUY_USD = 2;
const SUM_SELL_USD = 3;
const SUM_LIQ_LONG_USD = 4;
const SUM_LIQ_SHORT_USD = 5;

const LAST_PRICE = 0;
const LAST_MARK_PRICE = 1;
const LAST_OI = 2;
const LAST_OI_VALUE = 3;

const WINDOWS_SEC = [60, 300, 900, 3600] as const;
const W_5M = 1;
const W_1H = 3;
const HOUR_SEC = 3600;
const SHORT_SEC = 900;
const MIN_VOLUME_HISTORY_SEC = 600;

/** The last-value series of a {@link SymbolWindows}, named as in {@link SymbolFeatures}. */
export type LastValueField = 'lastPrice' | 'markPrice' | 'openInterest' | 'openInterestValue';

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
 * History per series (memory is the ring of 1 s buckets, 8 bytes each, so it is kept only where it is read):
 * - `horizonSec` (default and minimum one hour): last price and open interest (the price and OI history
 *   operators and the strategy look at, {@link SymbolWindows.valueAt}), and taker buy/sell turnover USD
 *   (`volumeRatio5m` compares the last 5 minutes with the hour).
 * - 15 minutes ({@link SymbolWindows.shortHistorySec}): mark price, OI value, taker buy/sell base quantity and
 *   realized liquidations long/short. Every feature reads them over at most 900 s (5-minute sums, latest
 *   values), so a longer ring would only cost memory. Their latest value is kept however old it is.
 *
 * Times are `tsEvent` ms and there is one head (the largest seen) for all series. Events may arrive slightly
 * out of order (they land in their own bucket); events already outside the horizon are dropped and counted in
 * `staleEventCount`. A late event older than 15 minutes but inside the horizon still counts for the hour
 * series and for latest values; its share of a 15-minute sum series is ignored, as it could never be inside
 * any of that series' windows.
 *
 * Gaps: a silence of at least the horizon resets everything, so changes read NaN until enough fresh history
 * exists again. A silence of 15 minutes or more but shorter than the horizon empties the 15-minute sums (every
 * bucket in them is older than the window, so the 5-minute sums read 0, exactly the buckets inside the window),
 * while the hour series, the latest values and `historySec` carry on: price and OI changes are measured
 * against the forward-filled values before the gap.
 */
export class SymbolWindows {
  /** Seconds of history kept by the 15-minute series (mark price, OI value, base quantities, liquidations). */
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
    sumSeriesSec[SUM_BUY_USD] = horizonSec;
    sumSeriesSec[SUM_SELL_USD] = horizonSec;
    sumSeriesSec[SUM_LIQ_LONG_USD] = SHORT_SEC;
    sumSeriesSec[SUM_LIQ_SHORT_USD] = SHORT_SEC;
    const lastSeriesSec: number[] = [];
    lastSeriesSec[LAST_PRICE] = horizonSec;
    lastSeriesSec[LAST_MARK_PRICE] = SHORT_SEC;
    lastSeriesSec[LAST_OI] = horizonSec;
    lastSeriesSec[LAST_OI_VALUE] = SHORT_SEC;
    this.window = new RollingWindow({ horizonSec, windowsSec: WINDOWS_SEC, sumSeriesSec, lastSeriesSec });
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

  /**
   * Value of a last-value series as of the bucket `ageSec` seconds before the head's bucket (forward-filled;
   * NaN before its first observation). `ageSec` is an integer below the series' history: `horizonSec` for
   * last price and open interest, {@link SymbolWindows.shortHistorySec} for mark price and OI value; anything
   * else throws RangeError.
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
