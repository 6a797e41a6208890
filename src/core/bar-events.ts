import type { MarketEvent, TickerUpdated, TradesPrinted } from './events.js';

/**
 * Stored history (klines + open interest) as the engine's decoder-free market events, so a backtest from the
 * store runs the same actors, own liquidation estimate, execution actor and paper broker as a tape.
 *
 * **What this approximates** (a bar says where the price went, not how):
 * - Intra-bar path: four points per bar, open → low → high → close for a bar that closed at or above its open,
 *   open → high → low → close for one that closed below (the extreme nearer the open is assumed first), at the
 *   bar's start, +⅓, +⅔ and 1 s before its end. A stop and a take-profit both inside one bar are hit in that order.
 * - Trades: the bar's volume and turnover are split over the three legs in proportion to each leg's price
 *   distance (equal thirds for a flat bar), one aggregated print per leg at its end, taker side = the leg's
 *   direction (half and half on a flat leg). Realized liquidations are absent (klines carry none).
 * - Open interest: linear between the stored readings (5 min, else 1 h), held flat before the first and after
 *   the last; mark price = last price; no funding rate.
 * - Exchange time = receipt time: no latency.
 */

export interface HistoryBar {
  /** Bar open, epoch ms. */
  readonly startMs: number;
  readonly intervalMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Base coin. */
  readonly volume: number;
  /** USDT. */
  readonly turnover: number;
}

export interface OpenInterestReading {
  readonly tsMs: number;
  /** Contracts (base coin). */
  readonly openInterest: number;
}

/** One coin's stored history in a time span, as the backtester replays it. */
export interface StoredHistory {
  readonly symbol: string;
  /** 1-minute bars, plus hourly bars for hours without them (see combineBars); ascending. */
  readonly bars: readonly HistoryBar[];
  /** 5-minute readings, plus hourly ones outside their span; ascending. */
  readonly openInterest: readonly OpenInterestReading[];
  readonly minuteBars: number;
  readonly hourlyBars: number;
}

/** Open interest at `tsMs`, linear between readings (sorted ascending); NaN with none. Forward queries are amortised O(1). */
export class OpenInterestCurve {
  private i = 0;
  constructor(private readonly readings: readonly OpenInterestReading[]) {}

  at(tsMs: number): number {
    const r = this.readings;
    if (r.length === 0) return Number.NaN;
    if (this.i > 0 && r[this.i]!.tsMs > tsMs) this.i = 0;
    while (this.i + 1 < r.length && r[this.i + 1]!.tsMs <= tsMs) this.i++;
    const a = r[this.i]!;
    if (tsMs <= a.tsMs) return a.openInterest;
    const b = r[this.i + 1];
    if (b === undefined) return a.openInterest;
    return a.openInterest + ((b.openInterest - a.openInterest) * (tsMs - a.tsMs)) / (b.tsMs - a.tsMs);
  }
}

/** The four path prices of a bar (see the module note). */
export function barPath(bar: HistoryBar): readonly [number, number, number, number] {
  return bar.close >= bar.open ? [bar.open, bar.low, bar.high, bar.close] : [bar.open, bar.high, bar.low, bar.close];
}

/** The times of the four path points: start, +⅓, +⅔, 1 s before the end (½ of the bar for bars under 2 s). */
export function barPathTimes(bar: HistoryBar): readonly [number, number, number, number] {
  const i = bar.intervalMs;
  const last = i >= 2000 ? i - 1000 : i / 2;
  return [bar.startMs, bar.startMs + Math.floor(i / 3), bar.startMs + Math.floor((2 * i) / 3), bar.startMs + last];
}

/** One symbol's bars (ascending, non-overlapping) as ticker and trade events in time order. */
export function* barEvents(symbol: string, bars: readonly HistoryBar[], oi: readonly OpenInterestReading[]): Generator<MarketEvent> {
  const curve = new OpenInterestCurve(oi);
  const ticker = (t: number, price: number): TickerUpdated => {
    const openInterest = curve.at(t);
    return { kind: 'ticker', symbol, tsEvent: t, tsInit: t, lastPrice: price, markPrice: price, openInterest, openInterestValue: openInterest * price, fundingRate: Number.NaN };
  };
  for (const bar of bars) {
    const p = barPath(bar);
    const t = barPathTimes(bar);
    const legs = [Math.abs(p[1] - p[0]), Math.abs(p[2] - p[1]), Math.abs(p[3] - p[2])];
    const span = legs[0]! + legs[1]! + legs[2]!;
    yield ticker(t[0], p[0]);
    for (let k = 1; k <= 3; k++) {
      const w = span > 0 ? legs[k - 1]! / span : 1 / 3;
      const qty = bar.volume * w;
      if (qty > 0) {
        const usd = bar.turnover * w;
        const up = p[k]! > p[k - 1]!;
        const flat = p[k] === p[k - 1];
        const buyShare = flat ? 0.5 : up ? 1 : 0;
        const trades: TradesPrinted = {
          kind: 'trades', symbol, tsEvent: t[k]!, tsInit: t[k]!, count: 1,
          buyQty: qty * buyShare, sellQty: qty * (1 - buyShare), buyTurnoverUsd: usd * buyShare, sellTurnoverUsd: usd * (1 - buyShare), lastPrice: p[k]!,
        };
        yield trades;
      }
      yield ticker(t[k]!, p[k]!);
    }
  }
}

/**
 * Merges per-symbol event streams (each ascending by tsInit) into one ascending stream; equal times keep the
 * streams' order, so the merge is deterministic. Linear in the number of streams per event.
 */
export function* mergeByTime(streams: ReadonlyArray<Iterator<MarketEvent>>): Generator<MarketEvent> {
  const heads: (MarketEvent | undefined)[] = streams.map((s) => s.next().value as MarketEvent | undefined);
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h !== undefined && (best < 0 || h.tsInit < heads[best]!.tsInit)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    const next = streams[best]!.next();
    heads[best] = next.done === true ? undefined : next.value;
  }
}

/**
 * Chooses the bars to replay for one symbol: every 1-minute bar, plus the hourly bars of hours that hold no
 * 1-minute bar (a backfill keeps 1 h for a year and 1 min for the last 30 days). Ascending.
 */
export function combineBars(minute: readonly HistoryBar[], hourly: readonly HistoryBar[]): HistoryBar[] {
  const covered = new Set(minute.map((b) => Math.floor(b.startMs / 3_600_000)));
  return [...minute, ...hourly.filter((b) => !covered.has(Math.floor(b.startMs / 3_600_000)))].sort((a, b) => a.startMs - b.startMs);
}

/** All 5-minute readings, plus hourly ones outside the span the 5-minute readings cover. Ascending. */
export function combineOpenInterest(fiveMin: readonly OpenInterestReading[], hourly: readonly OpenInterestReading[]): OpenInterestReading[] {
  if (fiveMin.length === 0) return [...hourly].sort((a, b) => a.tsMs - b.tsMs);
  const first = fiveMin.reduce((m, r) => Math.min(m, r.tsMs), Infinity);
  const last = fiveMin.reduce((m, r) => Math.max(m, r.tsMs), -Infinity);
  return [...fiveMin, ...hourly.filter((r) => r.tsMs < first || r.tsMs > last)].sort((a, b) => a.tsMs - b.tsMs);
}
