import { HEATMAP_RANGES, type HeatmapRange } from './heatmap.js';

/**
 * Per-range hit rate of one coin's cluster outcomes over a rolling window (default 30 days) of resolution
 * times: hits / (hits + expiries) among the outcomes resolved in (now − window, now]. Outcomes arrive in
 * resolution-time order from the tracker, so each range is a queue whose old end is dropped as time moves:
 * O(1) amortised per outcome and per query.
 */
export interface RangeHitRate {
  readonly range: HeatmapRange;
  readonly hits: number;
  readonly expired: number;
  /** hits / (hits + expired); undefined without outcomes in the window. */
  readonly hitRate: number | undefined;
}

interface Queue {
  times: number[];
  hits: boolean[];
  head: number;
  hitCount: number;
  /** Everything at or before this was dropped by an earlier query. */
  cutMs: number;
}

export class RangeHitRates {
  private readonly queues = new Map<HeatmapRange, Queue>();

  constructor(readonly windowMs: number) {}

  /**
   * One resolved outcome. The tracker records in time order (O(1)); an older one (outcomes restored from the
   * store after live ones arrived) is inserted in place, or ignored when it is older than what the window
   * already dropped.
   */
  record(range: HeatmapRange, resolvedAtMs: number, hit: boolean): void {
    let q = this.queues.get(range);
    if (q === undefined) {
      q = { times: [], hits: [], head: 0, hitCount: 0, cutMs: -Infinity };
      this.queues.set(range, q);
    }
    if (resolvedAtMs <= q.cutMs) return;
    const last = q.times[q.times.length - 1];
    if (last === undefined || resolvedAtMs >= last) {
      q.times.push(resolvedAtMs);
      q.hits.push(hit);
    } else {
      let lo = q.head;
      let hi = q.times.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (q.times[mid]! <= resolvedAtMs) lo = mid + 1;
        else hi = mid;
      }
      q.times.splice(lo, 0, resolvedAtMs);
      q.hits.splice(lo, 0, hit);
    }
    if (hit) q.hitCount++;
  }

  /** Rates per range with at least one outcome in the window (now − window, now], in canonical range order; `nowMs` never goes back. */
  rates(nowMs: number): RangeHitRate[] {
    const out: RangeHitRate[] = [];
    for (const range of HEATMAP_RANGES) {
      const q = this.queues.get(range);
      if (q === undefined) continue;
      const from = nowMs - this.windowMs;
      q.cutMs = Math.max(q.cutMs, from);
      while (q.head < q.times.length && q.times[q.head]! <= from) {
        if (q.hits[q.head]) q.hitCount--;
        q.head++;
      }
      if (q.head > 1024 && q.head * 2 > q.times.length) {
        q.times = q.times.slice(q.head);
        q.hits = q.hits.slice(q.head);
        q.head = 0;
      }
      const n = q.times.length - q.head;
      if (n === 0) continue;
      out.push({ range, hits: q.hitCount, expired: n - q.hitCount, hitRate: q.hitCount / n });
    }
    return out;
  }
}

/** Which range weights the imbalance uses: the configured static ones, or ones learned from hit rates. */
export const RANGE_WEIGHT_MODES = ['static', 'learned'] as const;
export type RangeWeightMode = (typeof RANGE_WEIGHT_MODES)[number];

export interface ReliableRangeConfig {
  /** A range is reliable at or above this hit rate (founder: "> 75 % success rate"). */
  readonly minHitRate: number;
  /** Outcomes in the window before a range's rate is trusted at all. */
  readonly minOutcomes: number;
}

export const DEFAULT_RELIABLE_RANGE_CONFIG: ReliableRangeConfig = { minHitRate: 0.75, minOutcomes: 10 };

/** The coin's reliable ranges: enough outcomes and a hit rate at or above the threshold. */
export function reliableRanges(rates: readonly RangeHitRate[], config: ReliableRangeConfig): HeatmapRange[] {
  return rates.filter((r) => r.hits + r.expired >= config.minOutcomes && r.hitRate !== undefined && r.hitRate >= config.minHitRate).map((r) => r.range);
}

/**
 * Learned range weights: a range with enough outcomes weighs its hit rate when it is reliable and 0 when it is
 * not (a range that misses a third of the time has no say); a range not yet measured keeps its static weight,
 * so a coin without history behaves exactly as with `static`.
 */
export function learnedRangeWeights(
  staticWeights: Readonly<Partial<Record<HeatmapRange, number>>>,
  rates: readonly RangeHitRate[],
  config: ReliableRangeConfig,
): Partial<Record<HeatmapRange, number>> {
  const out: Partial<Record<HeatmapRange, number>> = { ...staticWeights };
  for (const r of rates) {
    if (r.hits + r.expired < config.minOutcomes || r.hitRate === undefined) continue;
    out[r.range] = r.hitRate >= config.minHitRate ? r.hitRate : 0;
  }
  return out;
}
