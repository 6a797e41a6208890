import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import type { NotificationChannel } from '../../core/notification.js';
import type { Logger } from '../logger.js';
import { ChannelQueue } from './channel-queue.js';
import { EmailChannel, type EmailSettings } from './email-channel.js';
import { SmsChannel, type SmsSettings } from './sms-channel.js';
import { XChannel, type XSettings } from './x-channel.js';

/** The broadcast channels' settings; a channel is off when its entry is undefined. */
export interface BroadcastSettings {
  readonly email: EmailSettings | undefined;
  readonly x: XSettings | undefined;
  readonly sms: SmsSettings | undefined;
  readonly queue: { readonly capacity: number; readonly retryBaseMs: number; readonly retryMaxMs: number; readonly maxAttempts: number };
}

/** What the channels share with the daemon: its clock (retry timers), logger and metrics registry. */
export interface BroadcastDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Registers `whalestack_broadcast_*` metrics when given. */
  readonly registry?: Registry;
  readonly random?: () => number;
}

/** Per channel, the most notifications one send carries: an email groups a burst, X posts one at a time. */
const MAX_BATCH: Readonly<Record<string, number>> = { email: 20, x: 1, sms: 5 };

/**
 * The configured broadcast channels (email, X, SMS), each behind its own {@link ChannelQueue}, ready to hand to
 * the notifier: their `send` only enqueues, so none can block the engine or another channel. Channels that are
 * not configured are absent; says once in the log which are on.
 */
export function broadcastChannelsFromConfig(config: { readonly broadcasts: BroadcastSettings }, deps: BroadcastDeps): ChannelQueue[] {
  const b = config.broadcasts;
  const channels: NotificationChannel[] = [];
  if (b.email !== undefined) channels.push(new EmailChannel(b.email));
  if (b.x !== undefined) channels.push(new XChannel(b.x));
  if (b.sms !== undefined) channels.push(new SmsChannel(b.sms));
  const queues = channels.map(
    (channel) =>
      new ChannelQueue(channel, {
        clock: deps.clock,
        log: deps.log,
        capacity: b.queue.capacity,
        maxBatch: MAX_BATCH[channel.name] ?? 1,
        retryBaseMs: b.queue.retryBaseMs,
        retryMaxMs: b.queue.retryMaxMs,
        maxAttempts: b.queue.maxAttempts,
        ...(deps.random !== undefined ? { random: deps.random } : {}),
      }),
  );
  deps.log.info({ channels: queues.map((q) => q.name) }, queues.length > 0 ? `broadcasts on: ${queues.map((q) => q.name).join(', ')}` : 'broadcasts off (no email, X or SMS settings)');
  if (deps.registry !== undefined) registerBroadcastMetrics(deps.registry, () => queues);
  return queues;
}

/**
 * `whalestack_broadcast_*`: sent, failed attempts, dropped by reason (`overflow`, `gave_up`, `rejected`,
 * `shutdown`) and queue depth per channel; read from the queues' counters at scrape time.
 */
export function registerBroadcastMetrics(registry: Registry, queues: () => readonly ChannelQueue[]): void {
  new Counter({
    name: 'whalestack_broadcast_sent_total',
    help: 'Notifications delivered per broadcast channel (email, x, sms)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queues()) this.inc({ channel: q.name }, q.stats().sent);
    },
  });
  new Counter({
    name: 'whalestack_broadcast_failures_total',
    help: 'Failed send attempts per broadcast channel (each is retried with backoff unless permanent)',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queues()) this.inc({ channel: q.name }, q.stats().failedAttempts);
    },
  });
  new Counter({
    name: 'whalestack_broadcast_dropped_total',
    help: 'Notifications a broadcast channel did not deliver, by reason: overflow (queue full), gave_up (retries exhausted), rejected (refused by the service), shutdown',
    labelNames: ['channel', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queues()) {
        const s = q.stats();
        for (const [reason, n] of [['overflow', s.overflow], ['gave_up', s.gaveUp], ['rejected', s.rejected], ['shutdown', s.shutdown]] as const) this.inc({ channel: q.name, reason }, n);
      }
    },
  });
  new Gauge({
    name: 'whalestack_broadcast_queue_depth',
    help: 'Notifications waiting or in flight per broadcast channel',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of queues()) this.set({ channel: q.name }, q.stats().queued + q.stats().inFlight);
    },
  });
}
