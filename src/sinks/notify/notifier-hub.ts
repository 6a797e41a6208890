import { Counter, Gauge, type Registry } from 'prom-client';
import type { Notification, NotificationChannel } from '../../core/notification.js';
import { overflowNotification } from '../../core/notification-producers.js';
import { redactUrlsIn, type Logger } from '../logger.js';

export interface NotifierHubOptions {
  readonly channels: readonly NotificationChannel[];
  /** Notifications arriving within this window after the first of a burst are sent together. */
  readonly groupWindowMs: number;
  /** Most notifications in one `send` (the channel renders them as one or a few messages). */
  readonly maxBatch: number;
  /** Per channel: notifications waiting beyond this are dropped, counted and summarised. */
  readonly queueCapacity: number;
  /** A failed send is retried after base·2ⁿ (capped) up to `maxAttempts` times, then counted as failed. */
  readonly retry: { readonly baseMs: number; readonly capMs: number; readonly maxAttempts: number };
  readonly registry?: Registry;
  readonly log?: Logger;
}

interface Lane {
  readonly channel: NotificationChannel;
  readonly queue: Notification[];
  /** Dropped since the last overflow summary, by kind. */
  readonly dropped: Map<string, number>;
  timer: NodeJS.Timeout | undefined;
  sending: Promise<void> | undefined;
  attempts: number;
  stats: { enqueued: number; sent: number; dropped: number; failed: number; sendErrors: number };
}

/**
 * Fans notifications out to the channels without ever blocking the caller (the engine's output path): `publish`
 * only pushes onto a bounded queue per channel. Each lane waits `groupWindowMs` after the first notification of a
 * burst, then sends up to `maxBatch` together; a full queue drops the newest, counts it (metric and per-kind
 * tally) and puts an `overflow` notification at the head of the next send, so a loss is always reported. A failed
 * send is retried with backoff; a channel that is down delays only its own lane.
 */
export class NotifierHub {
  private readonly lanes: Lane[];
  private closed = false;
  private closing = false;
  private readonly metrics: { dropped?: Counter; sent?: Counter; failed?: Counter };

  constructor(private readonly opts: NotifierHubOptions) {
    this.lanes = opts.channels.map((channel) => ({ channel, queue: [], dropped: new Map(), timer: undefined, sending: undefined, attempts: 0, stats: { enqueued: 0, sent: 0, dropped: 0, failed: 0, sendErrors: 0 } }));
    this.metrics = {};
    if (opts.registry !== undefined) this.registerMetrics(opts.registry);
  }

  /** Never throws, never waits. A channel whose filter throws is treated as not accepting. */
  publish(n: Notification): void {
    if (this.closed) return;
    for (const lane of this.lanes) {
      let accepts = false;
      try {
        accepts = lane.channel.accepts(n);
      } catch {
        accepts = false;
      }
      if (!accepts) continue;
      if (lane.queue.length >= this.opts.queueCapacity) {
        lane.dropped.set(n.kind, (lane.dropped.get(n.kind) ?? 0) + 1);
        lane.stats.dropped++;
        this.metrics.dropped?.inc({ channel: lane.channel.name, kind: n.kind });
        continue;
      }
      lane.queue.push(n);
      lane.stats.enqueued++;
      this.arm(lane, this.opts.groupWindowMs);
    }
  }

  stats(): Record<string, Lane['stats'] & { queued: number }> {
    return Object.fromEntries(this.lanes.map((l) => [l.channel.name, { ...l.stats, queued: l.queue.length }]));
  }

  /** Sends what is queued (each lane gets up to `graceMs`), then closes every channel. */
  async close(graceMs = 3000): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    for (const l of this.lanes) if (l.timer !== undefined) clearTimeout(l.timer);
    const drain = Promise.all(this.lanes.map(async (l) => {
      await l.sending;
      while (!this.closed && (l.queue.length > 0 || l.dropped.size > 0)) {
        const ok = await this.sendOnce(l);
        if (!ok) break;
      }
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drain, new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.closed = true;
    for (const l of this.lanes) {
      if (l.timer !== undefined) clearTimeout(l.timer);
      if (l.queue.length > 0) this.opts.log?.warn({ channel: l.channel.name, unsent: l.queue.length }, 'notifications not sent before shutdown');
      try {
        await l.channel.close();
      } catch (err) {
        this.opts.log?.warn({ channel: l.channel.name, err: errText(err) }, 'channel close failed');
      }
    }
  }

  private arm(lane: Lane, delayMs: number): void {
    if (lane.timer !== undefined || lane.sending !== undefined || this.closed || this.closing) return;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      lane.sending = this.sendOnce(lane).then((ok) => {
        lane.sending = undefined;
        if (lane.queue.length > 0 || lane.dropped.size > 0) this.arm(lane, ok ? 0 : this.backoff(lane));
      });
    }, delayMs);
    lane.timer.unref?.();
  }

  private backoff(lane: Lane): number {
    const { baseMs, capMs } = this.opts.retry;
    return Math.min(capMs, baseMs * 2 ** Math.max(0, lane.attempts - 1));
  }

  /** One send of the lane's head; true when it went out (or was given up on), false to retry later. */
  private async sendOnce(lane: Lane): Promise<boolean> {
    const batch = lane.queue.slice(0, this.opts.maxBatch);
    let overflow: Notification | undefined;
    if (lane.dropped.size > 0) {
      overflow = overflowNotification(lane.channel.name, lane.dropped, Date.now());
      batch.unshift(overflow);
    }
    if (batch.length === 0) return true;
    try {
      await lane.channel.send(batch);
      lane.attempts = 0;
      if (overflow !== undefined) lane.dropped.clear();
      const n = batch.length - (overflow === undefined ? 0 : 1);
      lane.queue.splice(0, n);
      lane.stats.sent += n;
      this.metrics.sent?.inc({ channel: lane.channel.name }, n);
      return true;
    } catch (err) {
      lane.attempts++;
      lane.stats.sendErrors++;
      if (lane.attempts < this.opts.retry.maxAttempts) {
        this.opts.log?.warn({ channel: lane.channel.name, attempt: lane.attempts, err: errText(err) }, `${lane.channel.name}: send failed, retrying`);
        return false;
      }
      const n = batch.length - (overflow === undefined ? 0 : 1);
      lane.queue.splice(0, n);
      if (overflow !== undefined) lane.dropped.clear();
      lane.attempts = 0;
      lane.stats.failed += n;
      this.metrics.failed?.inc({ channel: lane.channel.name }, n);
      this.opts.log?.error({ channel: lane.channel.name, lost: n, kinds: [...new Set(batch.map((b) => b.kind))], err: errText(err) }, `${lane.channel.name}: notifications given up after ${this.opts.retry.maxAttempts} attempts`);
      return true;
    }
  }

  private registerMetrics(registry: Registry): void {
    const labelNames = ['channel'] as const;
    this.metrics.dropped = new Counter({ name: 'whalestack_notify_dropped_total', help: 'Notifications dropped because the channel queue was full (summarised in an overflow notification)', labelNames: ['channel', 'kind'], registers: [registry] });
    this.metrics.sent = new Counter({ name: 'whalestack_notify_sent_total', help: 'Notifications delivered per channel', labelNames, registers: [registry] });
    this.metrics.failed = new Counter({ name: 'whalestack_notify_failed_total', help: 'Notifications given up after the retry limit', labelNames, registers: [registry] });
    const lanes = this.lanes;
    new Gauge({
      name: 'whalestack_notify_queued',
      help: 'Notifications waiting per channel',
      labelNames,
      registers: [registry],
      collect() {
        for (const l of lanes) this.set({ channel: l.channel.name }, l.queue.length);
      },
    });
  }
}

function errText(err: unknown): string {
  return redactUrlsIn(err instanceof Error ? err.message : String(err));
}
