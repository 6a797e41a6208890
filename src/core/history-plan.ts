/**
 * Pure planning for the history backfill: which bars and open-interest points are missing from the store, and
 * in which request windows to fetch them so that an interrupted run never leaves a hole inside what is stored.
 *
 * **Contiguity.** Per (symbol, series) the store holds one covered range [firstMs, lastMs]. Missing bars are
 * only ever at its ends: the *head* (newer than lastMs) is fetched in windows oldest first, the *tail* (older
 * than firstMs) newest first, and each window is written before the next is fetched. So whatever stops a run,
 * what is stored stays one contiguous range and the next run only has to look at the ends. Holes that Bybit
 * itself has (no trading, maintenance) stay holes: they are inside the range and are never fetched again.
 */

/** Bybit's kline codes kept in `history_klines`: 1 minute and 1 hour. */
export type KlineInterval = '1' | '60';
/** Bybit's open-interest `intervalTime` codes kept in `history_open_interest`. */
export type OpenInterestInterval = '5min' | '1h';

export type HistorySeries = { readonly kind: 'kline'; readonly interval: KlineInterval } | { readonly kind: 'oi'; readonly interval: OpenInterestInterval };

/** Bar length of each series, ms. */
export const SERIES_STEP_MS: Readonly<Record<KlineInterval | OpenInterestInterval, number>> = {
  '1': 60_000,
  '60': 3_600_000,
  '5min': 300_000,
  '1h': 3_600_000,
};

/** Rows per request Bybit allows: 1000 for klines, 200 for open interest. */
export const PAGE_LIMIT = { kline: 1000, oi: 200 } as const;

/** One kline as stored: epoch-ms open time, prices in USDT, volume in base coin, turnover in USDT. */
export interface HistoryBar {
  readonly symbol: string;
  readonly interval: KlineInterval;
  readonly tsMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly turnover: number;
}

/** One open-interest reading as stored (contracts = base coin, both sides summed). */
export interface HistoryOpenInterestPoint {
  readonly symbol: string;
  readonly interval: OpenInterestInterval;
  readonly tsMs: number;
  readonly openInterest: number;
}

/** What the store holds for one (symbol, series): first and last timestamps (both inclusive). */
export interface Coverage {
  readonly firstMs: number;
  readonly lastMs: number;
}

/** An inclusive range of bar open times, both aligned to the step. */
export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** One request window: bars with open time in [fromMs, toMs], at most the page limit of them. */
export interface FetchWindow extends TimeRange {
  readonly part: 'head' | 'tail';
}

/** Open time of the newest bar that has closed by `nowMs` (a bar [t, t + step) closes at t + step). */
export function lastClosedBarMs(nowMs: number, stepMs: number): number {
  return Math.floor(nowMs / stepMs) * stepMs - stepMs;
}

/** `ms` rounded up to a multiple of `stepMs`. */
export function alignUp(ms: number, stepMs: number): number {
  return Math.ceil(ms / stepMs) * stepMs;
}

/**
 * The target range for a series: from `fromMs` (a lookback start, or the listing time when later) to the
 * last closed bar, both aligned. Undefined when that range is empty (a coin listed within the last bar).
 */
export function targetRange(fromMs: number, nowMs: number, stepMs: number): TimeRange | undefined {
  const from = alignUp(fromMs, stepMs);
  const to = lastClosedBarMs(nowMs, stepMs);
  return from <= to ? { fromMs: from, toMs: to } : undefined;
}

/**
 * What is missing from `target` given what is stored: the head (after `covered.lastMs`) and the tail (before
 * `covered.firstMs`), each undefined when there is nothing to fetch. Without coverage, the whole target is
 * one tail (fetched newest first, so the newest bars arrive first and the range grows backwards).
 */
export function missingRanges(covered: Coverage | undefined, target: TimeRange, stepMs: number): { head?: TimeRange; tail?: TimeRange } {
  if (covered === undefined) return { tail: target };
  const out: { head?: TimeRange; tail?: TimeRange } = {};
  const headFrom = Math.max(target.fromMs, covered.lastMs + stepMs);
  if (headFrom <= target.toMs) out.head = { fromMs: alignUp(headFrom, stepMs), toMs: target.toMs };
  const tailTo = Math.min(target.toMs, covered.firstMs - stepMs);
  if (target.fromMs <= tailTo) out.tail = { fromMs: target.fromMs, toMs: Math.floor(tailTo / stepMs) * stepMs };
  if (out.head !== undefined && out.head.fromMs > out.head.toMs) delete out.head;
  if (out.tail !== undefined && out.tail.fromMs > out.tail.toMs) delete out.tail;
  return out;
}

/** Splits `range` into windows of at most `limit` bars: ascending for `head`, descending for `tail`. */
export function splitWindows(range: TimeRange, stepMs: number, limit: number, part: 'head' | 'tail'): FetchWindow[] {
  if (!(limit >= 1) || !(stepMs > 0)) throw new Error(`splitWindows: bad limit ${limit} or step ${stepMs}`);
  const span = limit * stepMs;
  const out: FetchWindow[] = [];
  if (part === 'head') {
    for (let from = range.fromMs; from <= range.toMs; from += span) out.push({ fromMs: from, toMs: Math.min(range.toMs, from + span - stepMs), part });
  } else {
    for (let to = range.toMs; to >= range.fromMs; to -= span) out.push({ fromMs: Math.max(range.fromMs, to - span + stepMs), toMs: to, part });
  }
  return out;
}

/** Every window for one series: head windows (oldest first), then tail windows (newest first). */
export function planWindows(covered: Coverage | undefined, target: TimeRange, stepMs: number, limit: number): FetchWindow[] {
  const gaps = missingRanges(covered, target, stepMs);
  return [
    ...(gaps.head === undefined ? [] : splitWindows(gaps.head, stepMs, limit, 'head')),
    ...(gaps.tail === undefined ? [] : splitWindows(gaps.tail, stepMs, limit, 'tail')),
  ];
}

/**
 * Rows of one reply kept for the store: inside the window, on the step grid, one per timestamp, ascending.
 * A server that sends a bar outside what was asked for (or the still-open candle) must not widen coverage,
 * or a later run would believe bars it never fetched are stored.
 */
export function keepInWindow<T extends { readonly tsMs: number }>(rows: readonly T[], window: TimeRange, stepMs: number): T[] {
  const byTs = new Map<number, T>();
  for (const r of rows) {
    if (r.tsMs < window.fromMs || r.tsMs > window.toMs || r.tsMs % stepMs !== 0 || byTs.has(r.tsMs)) continue;
    byTs.set(r.tsMs, r);
  }
  return [...byTs.values()].sort((a, b) => a.tsMs - b.tsMs);
}
