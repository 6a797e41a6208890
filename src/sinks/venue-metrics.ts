import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the venue metrics read at scrape time (a Bybit venue's counters and snapshot, structurally). */
export interface VenueMetricSources {
  counters(): {
    readonly restErrorsByCode: Readonly<Record<string, number>>;
    readonly streamUp: boolean;
    readonly streamDrops: number;
    readonly reconciliations: number;
    readonly reconciliationDifferences: number;
    readonly stopsRepaired: number;
    readonly unknownOrdersSeen: number;
    readonly rateLimitWaits: number;
  };
  /** Epoch ms of the last completed reconciliation, undefined before the first. */
  lastReconciledAtMs(): number | undefined;
}

export interface VenueMetrics {
  /** One private REST call's latency, by endpoint path. */
  observeRestLatency(endpoint: string, latencyMs: number): void;
}

/**
 * Exchange-side trading metrics: REST latency by endpoint, REST errors by retCode (or `timeout`, `network`,
 * `http_NNN`), private stream up/down and drops, reconciliations and the differences they corrected, stops the
 * venue had to repair, orders it did not place, rate-limit waits, and the time of the last reconciliation.
 * Everything but the latency histogram is read from the venue's counters at scrape time.
 */
export function registerVenueMetrics(registry: Registry, venue: string, sources: VenueMetricSources): VenueMetrics {
  const latency = new Histogram({
    name: 'whalestack_venue_rest_seconds',
    help: 'Private REST call latency on the trading venue, by endpoint',
    labelNames: ['venue', 'endpoint'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Counter({
    name: 'whalestack_venue_rest_errors_total',
    help: 'Private REST calls answered with a retCode other than 0, or not answered (timeout, network, http_NNN), by code',
    labelNames: ['venue', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of Object.entries(sources.counters().restErrorsByCode)) this.inc({ venue, code }, n);
    },
  });
  const gauge = (name: string, help: string, read: () => number) => new Gauge({ name, help, labelNames: ['venue'], registers: [registry], collect() { this.set({ venue }, read()); } });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, labelNames: ['venue'], registers: [registry], collect() { this.reset(); this.inc({ venue }, read()); } });
  gauge('whalestack_venue_private_stream_up', 'Private stream authenticated and subscribed (1) or down (0)', () => (sources.counters().streamUp ? 1 : 0));
  counter('whalestack_venue_private_stream_drops_total', 'Private stream disconnects', () => sources.counters().streamDrops);
  counter('whalestack_venue_reconciliations_total', 'Reconciliations with the exchange completed', () => sources.counters().reconciliations);
  counter('whalestack_venue_reconciliation_differences_total', 'Positions and open orders a reconciliation found different from the view', () => sources.counters().reconciliationDifferences);
  counter('whalestack_venue_stops_repaired_total', 'Positions found without a stop on the exchange and given one', () => sources.counters().stopsRepaired);
  counter('whalestack_venue_unknown_orders_total', 'Open orders on the account the daemon did not place', () => sources.counters().unknownOrdersSeen);
  counter('whalestack_venue_rate_limit_waits_total', 'Times the client slowed down for the exchange rate limit', () => sources.counters().rateLimitWaits);
  gauge('whalestack_venue_last_reconciliation_timestamp_seconds', 'Time of the last completed reconciliation (0 before the first)', () => (sources.lastReconciledAtMs() ?? 0) / 1000);
  return { observeRestLatency: (endpoint, ms) => latency.observe({ venue, endpoint }, ms / 1000) };
}
