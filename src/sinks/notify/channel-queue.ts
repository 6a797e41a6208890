import type { Clock } from '../../core/clock.js';
import type { Notification, NotificationChannel } from '../../core/notification.js';
import type { Logger } from '../logger.js';

/**
 * Thrown by a channel when retrying cannot help (the API refused the credentials or the content, HTTP 4xx other
 * than 429, SMTP 5xx): the queue drops that batch at once, counted as `rejected`, instead of hammering the API.
 */
export class PermanentSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentSendError';
  }
}

export interface ChannelQueueOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Notifications held while the channel is slow or down; past it the oldest is dropped (counted). */
  readonly capacity: number;
  /** Most notifications handed to one `send` (X posts one at a time, email groups a burst into one message). */
  readonly maxBatch: number;
  /** First retry waits in [base/2, base); each further failure doubles the ceiling, up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Failed sends of one batch before it is given up (counted as `gave_up`, logged). */
  readonly maxAttempts: number;
  /** A send that has not settled by then counts as failed (the client's own timeouts should fire first). */
  readonly sendTimeoutMs?: number;
  /** Random source for the jitter (seeded in tests). */
  readonly random?: () => number;
}

/** Counters of one queue; `offered = filtered + sent + queued + inFlight + dropped (overflow, gave_up, rejected, shutdown)`. */
export interface ChannelQueueStats {
  readonly channel: string;
  readonly offered: number;
  readonly filtered: number;
  readonly queued: number;
  readonly inFlight: number;
  readonly sent: number;
  readonly failedAttempts: number;
  readonly overflow: number;
  readonly gaveUp: number;
  readonly rejected: number;
  readonly shutdown: number;
}

/**
 * A bounded, retrying queue in front of one broadcast channel. It is itself a `NotificationChannel` whose `send`
 * only enqueues and never throws or waits, so a down SMTP server, X or Twilio never blocks the engine, the
 * notifier or the other channels: each channel has its own queue, its own backoff and its own counters.
 * Retries use exponential backoff with jitter; a full queue drops its oldest notification and counts it, and the
 * log says so once per run of drops, with the count when delivery resumes.
 */
export class ChannelQueue implements NotificationChannel {
  readonly name: string;
  private readonly items: Notification[] = [];
  private inFlight: readonly Notification[] = [];
  private attempt = 0;
  private waiting = false;
  private pumpScheduled = false;
  private closed = false;
  private overflowRun = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly random: () => number;
  private counts = { offered: 0, filtered: 0, sent: 0, failedAttempts: 0, overflow: 0, gaveUp: 0, rejected: 0, shutdown: 0 };

  constructor(
    private readonly channel: NotificationChannel,
    private readonly opts: ChannelQueueOptions,
  ) {
    if (!(opts.capacity >= 1 && opts.maxBatch >= 1 && opts.maxAttempts >= 1 && opts.retryBaseMs > 0 && opts.retryMaxMs >= opts.retryBaseMs)) {
      throw new Error(`ChannelQueue ${channel.name}: need capacity, maxBatch, maxAttempts ≥ 1 and 0 < retryBaseMs ≤ retryMaxMs`);
    }
    this.name = channel.name;
    this.random = opts.random ?? Math.random;
  }

  accepts(n: Notification): boolean {
    return this.channel.accepts(n);
  }

  /** Enqueues what the channel accepts; returns at once. */
  async send(batch: readonly Notification[]): Promise<void> {
    for (const n of batch) this.offer(n);
  }

  /** Enqueues one notification; false when the channel does not carry it or the queue is closed. */
  offer(n: Notification): boolean {
    this.counts.offered++;
    if (this.closed || !this.channel.accepts(n)) {
      if (this.closed) this.counts.shutdown++;
      else this.counts.filtered++;
      return false;
    }
    if (this.items.length >= this.opts.capacity) {
      this.items.shift();
      this.counts.overflow++;
      if (this.overflowRun++ === 0) this.opts.log.warn({ channel: this.name, capacity: this.opts.capacity }, `broadcast ${this.name}: queue full, dropping the oldest notifications`);
    }
    this.items.push(n);
    // Deferred to a microtask so that notifications offered in one go (a burst) leave in one batch.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
    return true;
  }

  stats(): ChannelQueueStats {
    return { channel: this.name, ...this.counts, queued: this.items.length, inFlight: this.inFlight.length };
  }

  /** Resolves once nothing is queued or in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.items.length === 0 && this.inFlight.length === 0 && !this.pumpScheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking notifications, gives the queue up to `drainMs` to deliver what it holds (retries included),
   * then counts whatever is left as `shutdown` and closes the channel.
   */
  async close(drainMs = 5_000): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, drainMs)))]);
    clearTimeout(timer);
    this.opts.clock.cancelTimer(this.timerName());
    const left = this.items.length + this.inFlight.length;
    if (left > 0) {
      this.counts.shutdown += left;
      this.items.length = 0;
      this.opts.log.warn({ channel: this.name, notifications: left }, `broadcast ${this.name}: ${left} notifications not delivered before shutdown`);
    }
    await this.channel.close();
  }

  private timerName(): string {
    return `broadcast-retry-${this.name}`;
  }

  private pump(): void {
    if (this.inFlight.length > 0 || this.waiting) return;
    if (this.items.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const batch = this.items.splice(0, this.opts.maxBatch);
    this.inFlight = batch;
    void this.deliver(batch);
  }

  private async deliver(batch: readonly Notification[]): Promise<void> {
    try {
      await this.withTimeout(this.channel.send(batch));
      this.counts.sent += batch.length;
      if (this.overflowRun > 0) {
        this.opts.log.warn({ channel: this.name, dropped: this.overflowRun }, `broadcast ${this.name}: delivering again; ${this.overflowRun} notifications were dropped while the queue was full`);
        this.overflowRun = 0;
      }
      this.attempt = 0;
      this.inFlight = [];
      this.pump();
    } catch (err) {
      this.counts.failedAttempts++;
      this.attempt++;
      const why = err instanceof Error ? err.message : String(err);
      if (err instanceof PermanentSendError || this.attempt >= this.opts.maxAttempts || this.closed) {
        const permanent = err instanceof PermanentSendError;
        if (permanent) this.counts.rejected += batch.length;
        else if (this.closed) this.counts.shutdown += batch.length;
        else this.counts.gaveUp += batch.length;
        this.opts.log.error({ channel: this.name, attempts: this.attempt, notifications: batch.map((n) => n.id), err: why }, `broadcast ${this.name}: ${permanent ? 'refused by the service' : 'gave up'}, batch dropped`);
        this.attempt = 0;
        this.inFlight = [];
        this.pump();
        return;
      }
      const delayMs = this.retryDelayMs();
      this.opts.log.warn({ channel: this.name, attempt: this.attempt, retryInMs: delayMs, err: why }, `broadcast ${this.name}: send failed, retrying`);
      this.waiting = true;
      this.opts.clock.setTimer(this.timerName(), this.opts.clock.now() + delayMs, () => {
        this.waiting = false;
        void this.deliver(batch);
      });
    }
  }

  /** "Equal jitter": uniform in [ceiling/2, ceiling), so delays always grow while still spreading retries. */
  private retryDelayMs(): number {
    const ceiling = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (this.attempt - 1));
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(ceiling / 2 + (r * ceiling) / 2);
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.sendTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`send did not settle within ${ms} ms`)), ms);
      timer.unref();
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
