import { BinaryHeap } from './binary-heap.js';
import type { Cluster } from './clusters.js';
import type { RestoredOutcome } from './coin-liquidity.js';
import type { HeatmapRange, HeatmapSource } from './heatmap.js';
import { DEFAULT_RELIABLE_RANGE_CONFIG, RangeHitRates, type RangeWeightMode, type ReliableRangeConfig } from './range-hit-rates.js';

/**
 * Cluster outcomes (issue 12): every significant cluster an evaluation found is followed forward; it is *hit*
 * when the price reaches its centre within its range's horizon (12 h for 12h, 3 days for 3d, 7 days for 7d, …,
 * 365 days for 1y) and *expired* otherwise. One tracker per coin, fed by the coin's actor, so live and replay
 * decide identically on event time.
 *
 * A cluster seen again by a later evaluation (same range and side, its centre inside the open cluster's band or
 * the open centre inside the new band) is the same cluster and is followed once, from its first detection: an
 * evaluation every 5 minutes would otherwise count one pool of liquidations hundreds of times.
 *
 * Cost: clusters above the price sit in a min-heap by centre, those below in a max-heap, and all of them in a
 * min-heap by expiry; a price update peeks three heap tops (O(1)) and pays O(log n) only per cluster it
 * resolves. Resolved entries are removed from the other heap lazily, with a compaction when they pile up.
 */
export interface ClusterOutcome {
  readonly kind: 'cluster-outcome';
  readonly symbol: string;
  readonly range: HeatmapRange;
  readonly source: HeatmapSource;
  readonly side: Cluster['side'];
  readonly priceLow: number;
  readonly priceHigh: number;
  readonly centerPrice: number;
  /** The evaluation that first found the cluster (with the fields above, the `liquidation_clusters` key). */
  readonly detectedAtMs: number;
  readonly expiresAtMs: number;
  readonly outcome: 'hit' | 'expired';
  /** Hit time (event time of the price that reached the centre), or the expiry time. */
  readonly resolvedAtMs: number;
}

/** How outcomes are judged and used: the hit-rate window, the reliable-range rule and the imbalance's range weights. */
export interface ClusterOutcomeConfig {
  /** Rolling window of the hit rates (CLUSTER_HIT_WINDOW_DAYS, default 30 days). */
  readonly windowMs: number;
  readonly reliable: ReliableRangeConfig;
  /** `static`: the configured SIGNAL_RANGE_WEIGHTS; `learned`: see `learnedRangeWeights` (RANGE_WEIGHTS). */
  readonly weights: RangeWeightMode;
}

export const DEFAULT_CLUSTER_OUTCOME_CONFIG: ClusterOutcomeConfig = { windowMs: 30 * 24 * 3_600_000, reliable: DEFAULT_RELIABLE_RANGE_CONFIG, weights: 'static' };

/** One range's significant clusters from an evaluation. */
export interface EvaluatedRange {
  readonly range: HeatmapRange;
  readonly source: HeatmapSource;
  readonly clusters: readonly Cluster[];
}

const HOUR_MS = 3_600_000;
const UNIT_MS: Readonly<Record<string, number>> = { h: HOUR_MS, d: 24 * HOUR_MS, y: 365 * 24 * HOUR_MS };

/** How long a cluster of `range` has to be hit: the range's own span (`12h` → 12 h, `7d` → 7 days, `1y` → 365 days). */
export function rangeHorizonMs(range: HeatmapRange): number {
  const m = /^(\d+)([hdy])$/.exec(range);
  if (m === null) throw new Error(`rangeHorizonMs: unknown range ${range}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

interface Followed {
  readonly outcome: Omit<ClusterOutcome, 'outcome' | 'resolvedAtMs'>;
  readonly key: string;
  resolved: boolean;
}

export class ClusterOutcomeTracker {
  private readonly above = new BinaryHeap<Followed>((a, b) => a.outcome.centerPrice < b.outcome.centerPrice);
  private readonly below = new BinaryHeap<Followed>((a, b) => a.outcome.centerPrice > b.outcome.centerPrice);
  private readonly expiry = new BinaryHeap<Followed>((a, b) => a.outcome.expiresAtMs < b.outcome.expiresAtMs);
  /** Open clusters per `range|side`, for the same-cluster check at evaluation time (not on the price path). */
  private readonly openByKey = new Map<string, Followed[]>();
  private open = 0;
  private lastTsMs = -Infinity;
  readonly rates: RangeHitRates;

  constructor(
    readonly symbol: string,
    windowMs: number,
  ) {
    this.rates = new RangeHitRates(windowMs);
  }

  /** Clusters being followed now. */
  get openCount(): number {
    return this.open;
  }

  /** Follows the clusters of one evaluation at `atMs` with the price `refPrice`; returns how many are new. */
  follow(atMs: number, refPrice: number, ranges: readonly EvaluatedRange[]): number {
    let added = 0;
    for (const r of ranges) {
      const horizon = rangeHorizonMs(r.range);
      for (const c of r.clusters) {
        const key = `${r.range}|${c.side}`;
        const list = this.openByKey.get(key) ?? [];
        if (list.some((f) => (c.centre >= f.outcome.priceLow && c.centre <= f.outcome.priceHigh) || (f.outcome.centerPrice >= c.low && f.outcome.centerPrice <= c.high))) continue;
        const f: Followed = {
          key,
          resolved: false,
          outcome: { kind: 'cluster-outcome', symbol: this.symbol, range: r.range, source: r.source, side: c.side, priceLow: c.low, priceHigh: c.high, centerPrice: c.centre, detectedAtMs: atMs, expiresAtMs: atMs + horizon },
        };
        list.push(f);
        this.openByKey.set(key, list);
        (c.centre > refPrice ? this.above : this.below).push(f);
        this.expiry.push(f);
        this.open++;
        added++;
      }
    }
    return added;
  }

  /**
   * A price at event time `tsMs`. Expiries strictly before `tsMs` are settled first (no earlier price reached
   * them, or they would be resolved already), then hits. Returns the outcomes, or undefined (no allocation) when
   * nothing resolved, the common case.
   */
  onPrice(atMs: number, price: number): ClusterOutcome[] | undefined {
    // A price stamped before the previous one (a reordered frame) counts at the previous time: outcomes stay ordered.
    const tsMs = atMs > this.lastTsMs ? (this.lastTsMs = atMs) : this.lastTsMs;
    let out: ClusterOutcome[] | undefined;
    for (let f = this.expiry.peek(); f !== undefined && (f.resolved || f.outcome.expiresAtMs < tsMs); f = this.expiry.peek()) {
      this.expiry.pop();
      if (!f.resolved) (out ??= []).push(this.resolve(f, 'expired', f.outcome.expiresAtMs));
    }
    for (let f = this.above.peek(); f !== undefined && (f.resolved || price >= f.outcome.centerPrice); f = this.above.peek()) {
      this.above.pop();
      if (!f.resolved) (out ??= []).push(this.resolve(f, 'hit', tsMs));
    }
    for (let f = this.below.peek(); f !== undefined && (f.resolved || price <= f.outcome.centerPrice); f = this.below.peek()) {
      this.below.pop();
      if (!f.resolved) (out ??= []).push(this.resolve(f, 'hit', tsMs));
    }
    if (out !== undefined && this.above.size + this.below.size + this.expiry.size > 4 * this.open + 256) {
      const live = (f: Followed): boolean => !f.resolved;
      this.above.retain(live);
      this.below.retain(live);
      this.expiry.retain(live);
    }
    return out;
  }

  /** Outcomes of an earlier run (from the store) join the hit-rate window; they are not followed again. */
  restore(outcomes: readonly RestoredOutcome[]): void {
    for (const o of outcomes) this.rates.record(o.range, o.resolvedAtMs, o.hit);
  }

  private resolve(f: Followed, outcome: ClusterOutcome['outcome'], atMs: number): ClusterOutcome {
    f.resolved = true;
    this.open--;
    const list = this.openByKey.get(f.key);
    if (list !== undefined) {
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    }
    const o: ClusterOutcome = { ...f.outcome, outcome, resolvedAtMs: atMs };
    this.rates.record(o.range, atMs, outcome === 'hit');
    return o;
  }
}
