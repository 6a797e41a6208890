import type { SignalDirection } from './trigger.js';

/**
 * Wick statistics of one coin from its hourly history (issue 12), the input of the trade plan's wick stop
 * ("historical max wick down for BTC = 8 %").
 *
 * Definitions, all in % of the bar's **open** (not of its body, so every bar of a coin is measured against the
 * same kind of reference whatever its colour):
 * - up wick   = (high − max(open, close)) / open × 100 (hurts a SHORT),
 * - down wick = (min(open, close) − low) / open × 100 (hurts a LONG).
 * 4 h and 1 d bars are aggregated from the 1 h bars on the UTC grid (epoch-aligned periods: 00:00, 04:00, …
 * and UTC midnight); a period with gaps still makes one bar from the hours it holds, and the newest period may
 * be incomplete. Percentiles are nearest-rank: the smallest value with at least p % of the values ≤ it.
 * Worst adverse excursion within N hours: for a LONG entered at an hourly bar's open, (open − the lowest low of
 * the bars opening in [t, t + N h)) / open × 100; for a SHORT, (highest high − open) / open × 100; the maximum
 * over every entry bar (the last entries see truncated windows, which can only understate).
 */
export interface HourlyBar {
  readonly tsMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export const WICK_TIMEFRAMES = ['1h', '4h', '1d'] as const;
export type WickTimeframe = (typeof WICK_TIMEFRAMES)[number];

const HOUR_MS = 3_600_000;
const PERIOD_MS: Readonly<Record<WickTimeframe, number>> = { '1h': HOUR_MS, '4h': 4 * HOUR_MS, '1d': 24 * HOUR_MS };

/** max, p95 and p99 of one wick side, in %. */
export interface WickDistribution {
  readonly maxPct: number;
  readonly p95Pct: number;
  readonly p99Pct: number;
}

export interface TimeframeWicks {
  readonly bars: number;
  readonly up: WickDistribution;
  readonly down: WickDistribution;
}

export interface WickStats {
  /** Valid hourly bars used (invalid ones, non-positive prices or high < low, are skipped). */
  readonly hourlyBars: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly timeframes: Readonly<Record<WickTimeframe, TimeframeWicks>>;
  readonly excursion: { readonly hours: number; readonly longPct: number; readonly shortPct: number };
}

export const upWickPct = (b: HourlyBar): number => ((b.high - Math.max(b.open, b.close)) / b.open) * 100;
export const downWickPct = (b: HourlyBar): number => ((Math.min(b.open, b.close) - b.low) / b.open) * 100;

const validBar = (b: HourlyBar): boolean => b.open > 0 && b.close > 0 && b.low > 0 && b.high >= b.low && Number.isFinite(b.high) && Number.isFinite(b.tsMs);

/** Nearest-rank percentile of an ascending array; 0 for an empty one. */
export function percentileOfSorted(sorted: Float64Array | readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

function distribution(values: Float64Array): WickDistribution {
  values.sort();
  return { maxPct: values.length === 0 ? 0 : values[values.length - 1]!, p95Pct: percentileOfSorted(values, 95), p99Pct: percentileOfSorted(values, 99) };
}

/** Aggregates ascending 1 h bars into `periodMs` bars on the epoch (UTC) grid. */
export function aggregateBars(hourly: readonly HourlyBar[], periodMs: number): HourlyBar[] {
  const out: HourlyBar[] = [];
  let cur: { tsMs: number; open: number; high: number; low: number; close: number } | undefined;
  for (const b of hourly) {
    const start = Math.floor(b.tsMs / periodMs) * periodMs;
    if (cur === undefined || cur.tsMs !== start) {
      if (cur !== undefined) out.push(cur);
      cur = { tsMs: start, open: b.open, high: b.high, low: b.low, close: b.close };
    } else {
      cur.high = Math.max(cur.high, b.high);
      cur.low = Math.min(cur.low, b.low);
      cur.close = b.close;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/**
 * Worst adverse excursion within `hours` over ascending hourly bars, in O(n) with monotonic deques (the window
 * of an entry at t is every bar opening in [t, t + hours h)).
 */
export function worstAdverseExcursion(bars: readonly HourlyBar[], hours: number): { longPct: number; shortPct: number } {
  const spanMs = hours * HOUR_MS;
  const minQ: number[] = [];
  const maxQ: number[] = [];
  let minHead = 0;
  let maxHead = 0;
  let j = 0;
  let longPct = 0;
  let shortPct = 0;
  for (let i = 0; i < bars.length; i++) {
    const end = bars[i]!.tsMs + spanMs;
    while (j < bars.length && bars[j]!.tsMs < end) {
      while (minQ.length > minHead && bars[minQ[minQ.length - 1]!]!.low >= bars[j]!.low) minQ.pop();
      minQ.push(j);
      while (maxQ.length > maxHead && bars[maxQ[maxQ.length - 1]!]!.high <= bars[j]!.high) maxQ.pop();
      maxQ.push(j);
      j++;
    }
    while (minQ[minHead]! < i) minHead++;
    while (maxQ[maxHead]! < i) maxHead++;
    const open = bars[i]!.open;
    longPct = Math.max(longPct, ((open - bars[minQ[minHead]!]!.low) / open) * 100);
    shortPct = Math.max(shortPct, ((bars[maxQ[maxHead]!]!.high - open) / open) * 100);
  }
  return { longPct, shortPct };
}

/** Every statistic above from one coin's hourly bars (any order; duplicates of an hour keep the last). */
export function computeWickStats(hourly: readonly HourlyBar[], excursionHours = 24): WickStats {
  const byTs = new Map<number, HourlyBar>();
  for (const b of hourly) if (validBar(b)) byTs.set(b.tsMs, b);
  const bars = [...byTs.values()].sort((a, b) => a.tsMs - b.tsMs);
  const timeframes = {} as Record<WickTimeframe, TimeframeWicks>;
  for (const tf of WICK_TIMEFRAMES) {
    const agg = tf === '1h' ? bars : aggregateBars(bars, PERIOD_MS[tf]);
    const up = new Float64Array(agg.length);
    const down = new Float64Array(agg.length);
    agg.forEach((b, i) => {
      up[i] = upWickPct(b);
      down[i] = downWickPct(b);
    });
    timeframes[tf] = { bars: agg.length, up: distribution(up), down: distribution(down) };
  }
  return {
    hourlyBars: bars.length,
    fromMs: bars[0]?.tsMs ?? NaN,
    toMs: bars[bars.length - 1]?.tsMs ?? NaN,
    timeframes,
    excursion: { hours: excursionHours, ...worstAdverseExcursion(bars, excursionHours) },
  };
}

/**
 * The wick stop's input as a fraction: the max wick against the trade (down wick for a LONG, up wick for a
 * SHORT) on `timeframe` bars, or undefined while fewer than `minHourlyBars` hourly bars are held (then the plan
 * uses its configured default, 8 %).
 */
export function historicalWickFraction(stats: WickStats | undefined, direction: SignalDirection, timeframe: WickTimeframe, minHourlyBars: number): number | undefined {
  if (stats === undefined || stats.hourlyBars < minHourlyBars) return undefined;
  const tf = stats.timeframes[timeframe];
  return (direction === 'LONG' ? tf.down.maxPct : tf.up.maxPct) / 100;
}
