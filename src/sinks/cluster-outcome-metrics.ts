import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterOutcome } from '../core/cluster-outcomes.js';

/** One coin's reliable ranges, as the engine reports them at scrape time. */
export interface CoinReliableRanges {
  readonly symbol: string;
  readonly reliableRanges: readonly string[];
  readonly following: number;
}

export interface ClusterOutcomeMetrics {
  observe(outcome: ClusterOutcome): void;
}

/**
 * Cluster outcome metrics with bounded labels (range and outcome, never the coin: 500 coins × 9 ranges would be
 * 4,500 series): outcomes counted as they resolve, clusters followed now, and how many coins each range is
 * reliable for (read from the symbol actors at scrape time). Per-coin rates are on `GET /symbols/:symbol`.
 */
export function registerClusterOutcomeMetrics(registry: Registry, coins: () => readonly CoinReliableRanges[]): ClusterOutcomeMetrics {
  const outcomes = new Counter({ name: 'whalestack_cluster_outcomes_total', help: 'Followed clusters resolved, by range and outcome (hit or expired)', labelNames: ['range', 'outcome'], registers: [registry] });
  new Gauge({
    name: 'whalestack_clusters_followed',
    help: 'Significant clusters being followed to their hit or expiry',
    registers: [registry],
    collect() {
      this.set(coins().reduce((a, c) => a + c.following, 0));
    },
  });
  new Gauge({
    name: 'whalestack_reliable_range_coins',
    help: 'Coins for which a range is reliable (hit rate at or above RELIABLE_RANGE_MIN_HIT_RATE over the window)',
    labelNames: ['range'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const c of coins()) for (const r of c.reliableRanges) counts.set(r, (counts.get(r) ?? 0) + 1);
      for (const [range, n] of counts) this.set({ range }, n);
    },
  });
  return { observe: (o) => outcomes.inc({ range: o.range, outcome: o.outcome }) };
}
