import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Read at scrape time, so the hot path only bumps plain integers. */
export interface MetricSources {
  decoder(): { frames: Record<string, number>; bad: Record<string, number> };
  connections(): readonly { id: string; up: boolean; reconnects: number; staleRecoveries: number; secondsSinceLastFrame: number; staleTopics: number }[];
  actors(): readonly { kind: string; received: number; processed: number; conflated: number; dropped: number; queued: number; restarts: number; stopped: boolean }[];
  outputs(): Record<string, number>;
}

export interface EngineMetrics {
  readonly registry: Registry;
  /** Receipt→processed latency, seconds, per actor kind. */
  observeLatency(actorKind: string, latencyMs: number): void;
}

/**
 * Prometheus registry for the engine. Counters that mirror internal counters are `collect`-driven (read on
 * scrape) rather than incremented per frame; the latency histogram is the one per-message cost.
 */
export function createEngineMetrics(sources: MetricSources, registry = new Registry()): EngineMetrics {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const latency = new Histogram({
    name: 'whalestack_receipt_to_processed_seconds',
    help: 'Time from frame receipt (tsInit) to the actor having processed it',
    labelNames: ['actor'],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  const children = new Map<string, Histogram.Internal<'actor'>>();

  new Counter({
    name: 'whalestack_frames_total',
    help: 'Frames decoded, by topic kind',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, n] of Object.entries(sources.decoder().frames)) this.inc({ topic }, n);
    },
  });
  new Counter({
    name: 'whalestack_bad_frames_total',
    help: 'Frames refused by the decoder, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(sources.decoder().bad)) this.inc({ reason }, n);
    },
  });
  const perConnection = (name: string, help: string, pick: (c: ReturnType<MetricSources['connections']>[number]) => number, counter = false) => {
    const Metric = counter ? Counter : Gauge;
    new Metric({
      name,
      help,
      labelNames: ['connection'],
      registers: [registry],
      collect(this: Counter<'connection'> | Gauge<'connection'>) {
        this.reset();
        for (const c of sources.connections()) (this as Counter<'connection'>).inc({ connection: c.id }, pick(c));
      },
    });
  };
  perConnection('whalestack_source_up', 'Whether the source connection is up (1) or down (0)', (c) => (c.up ? 1 : 0));
  perConnection('whalestack_reconnects_total', 'Reconnects per source connection', (c) => c.reconnects, true);
  perConnection('whalestack_stale_recoveries_total', 'Silent topics resubscribed by the staleness watchdog', (c) => c.staleRecoveries, true);
  perConnection('whalestack_seconds_since_last_frame', 'Staleness: seconds since the connection last delivered a frame', (c) => c.secondsSinceLastFrame);
  perConnection('whalestack_stale_topics', 'Topics currently silent for longer than the staleness limit', (c) => c.staleTopics);

  const perActorKind = (name: string, help: string, pick: (a: ReturnType<MetricSources['actors']>[number]) => number, counter: boolean) => {
    const Metric = counter ? Counter : Gauge;
    new Metric({
      name,
      help,
      labelNames: ['kind'],
      registers: [registry],
      collect(this: Counter<'kind'> | Gauge<'kind'>) {
        this.reset();
        const sums = new Map<string, number>();
        for (const a of sources.actors()) sums.set(a.kind, (sums.get(a.kind) ?? 0) + pick(a));
        for (const [kind, n] of sums) (this as Counter<'kind'>).inc({ kind }, n);
      },
    });
  };
  perActorKind('whalestack_mailbox_received_total', 'Messages offered to actor mailboxes', (a) => a.received, true);
  perActorKind('whalestack_mailbox_processed_total', 'Messages processed by actors', (a) => a.processed, true);
  perActorKind('whalestack_mailbox_conflated_total', 'Market-data messages merged into a queued one', (a) => a.conflated, true);
  perActorKind('whalestack_mailbox_dropped_total', 'Market-data messages shed because a mailbox was full', (a) => a.dropped, true);
  perActorKind('whalestack_mailbox_depth', 'Messages currently queued', (a) => a.queued, false);
  perActorKind('whalestack_actor_restarts_total', 'Actor restarts after a handler fault', (a) => a.restarts, true);
  perActorKind('whalestack_actors_stopped', 'Actors stopped after repeated faults', (a) => (a.stopped ? 1 : 0), false);
  perActorKind('whalestack_actors', 'Live actors', () => 1, false);

  new Counter({
    name: 'whalestack_outputs_total',
    help: 'Events emitted by actors, by kind (spike, bar, …)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of Object.entries(sources.outputs())) this.inc({ kind }, n);
    },
  });

  return {
    registry,
    observeLatency(actorKind, latencyMs) {
      let child = children.get(actorKind);
      if (child === undefined) {
        child = latency.labels({ actor: actorKind });
        children.set(actorKind, child);
      }
      child.observe(latencyMs / 1000);
    },
  };
}

/**
 * Exposes a component's plain numeric stats (a bus, a scheduler) as gauges `<prefix>_<field>` read at scrape
 * time; booleans become 0/1. Field names are snake-cased.
 */
export function registerStatsGauges(registry: Registry, prefix: string, help: string, read: () => Record<string, unknown>): void {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_]/g, '_');
  for (const key of Object.keys(read())) {
    const value = read()[key];
    if (typeof value !== 'number' && typeof value !== 'boolean') continue;
    new Gauge({
      name: `${prefix}_${snake(key)}`,
      help: `${help}: ${key}`,
      registers: [registry],
      collect() {
        const v = read()[key];
        this.set(typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' && Number.isFinite(v) ? v : NaN);
      },
    });
  }
}
