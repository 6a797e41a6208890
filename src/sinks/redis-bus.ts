import { Redis } from 'ioredis';
import { BoundedBacklog, InProcessBus, type Bus, type BusHandler, type BusLogger, type BusStats, type QueuedMessage } from './bus.js';
import { serializeBusMessage, type BusMessage } from './bus-schema.js';

/** Stream and channel names for a prefix. Streams and channels live in separate Redis namespaces. */
export interface BusKeys {
  readonly signalsStream: string;
  readonly rankingsStream: string;
  readonly signalsChannel: string;
  readonly rankingsChannel: string;
}

/** `whalestack` → streams and channels `whalestack:signals` and `whalestack:rankings`. */
export function busKeys(prefix = 'whalestack'): BusKeys {
  return {
    signalsStream: `${prefix}:signals`,
    rankingsStream: `${prefix}:rankings`,
    signalsChannel: `${prefix}:signals`,
    rankingsChannel: `${prefix}:rankings`,
  };
}

export interface RedisBusOptions {
  /** redis:// or rediss:// URL (credentials allowed; never logged). */
  readonly url: string;
  /** Key and channel prefix; default `whalestack`. */
  readonly prefix?: string;
  /** `XADD … MAXLEN ~ n` for the signal stream; default 100 000 (approximate: Redis trims whole nodes). */
  readonly maxLenSignals?: number;
  /** Same for the ranking stream; default 10 000 (about a month at one ranking per 5 min). */
  readonly maxLenRankings?: number;
  /** Messages held while Redis is unreachable; default 10 000. */
  readonly backlogMax?: number;
  /** Messages per pipeline; default 100. */
  readonly batchMax?: number;
  /** Reconnect and retry backoff: base doubles per attempt up to cap, with jitter. Defaults 100 ms / 5 s. */
  readonly retryBaseMs?: number;
  readonly retryCapMs?: number;
  /** A command without a reply after this long fails and its messages are retried; default 5 s. */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** How long `close()` tries to drain the backlog before giving up; default 2 s. */
  readonly closeTimeoutMs?: number;
  readonly logger?: BusLogger;
}

/**
 * The bus when REDIS_URL is set: every message goes to its Redis Stream (`XADD … MAXLEN ~ n`, durable, read
 * by executors with a consumer group), to its pub/sub channel (live, fire-and-forget), and to in-process
 * subscribers. `publish` only queues; a background pump writes batches in order, one pipeline at a time.
 *
 * Redis down: ioredis reconnects with backoff; its offline queue is off and in-flight commands fail on
 * disconnect, so the only queue is our bounded `BoundedBacklog`, drained in order after reconnect. A batch
 * whose reply was lost is written again, so consumers must dedupe by `id` (see docs/bus.md). Connection
 * errors are logged once per outage and never escape as events or rejections.
 */
export class RedisBus implements Bus {
  private readonly redis: Redis;
  private readonly local: InProcessBus;
  private readonly keys: BusKeys;
  private readonly backlog: BoundedBacklog;
  private readonly maxLenSignals: number;
  private readonly maxLenRankings: number;
  private readonly batchMax: number;
  private readonly retryBaseMs: number;
  private readonly retryCapMs: number;
  private readonly closeTimeoutMs: number;
  private readonly logger: BusLogger | undefined;
  private published = 0;
  private failed = 0;
  private rejected = 0;
  private readonly droppedAfterClose = { signal: 0, ranking: 0 };
  private inFlight = false;
  private pumpScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failureStreak = 0;
  private outageLogged = false;
  private dropLogged = false;
  private closing: Promise<void> | undefined;

  constructor(options: RedisBusOptions) {
    this.logger = options.logger;
    this.keys = busKeys(options.prefix);
    this.backlog = new BoundedBacklog(options.backlogMax ?? 10_000);
    this.maxLenSignals = Math.max(1, Math.floor(options.maxLenSignals ?? 100_000));
    this.maxLenRankings = Math.max(1, Math.floor(options.maxLenRankings ?? 10_000));
    this.batchMax = Math.max(1, Math.floor(options.batchMax ?? 100));
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryCapMs = options.retryCapMs ?? 5_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
    this.local = new InProcessBus(options.logger);
    this.redis = new Redis(options.url, {
      enableOfflineQueue: false,
      // 0: on every disconnect ioredis fails the commands in flight at once; the pump re-queues them.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => this.backoffMs(attempt),
      commandTimeout: options.commandTimeoutMs ?? 5_000,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      keepAlive: 10_000,
    });
    this.redis.on('error', (err: Error) => this.onConnectionError(err));
    this.redis.on('close', () => this.onConnectionError(undefined));
    this.redis.on('ready', () => this.onReady());
  }

  /** Stream and channel names in use. */
  get names(): BusKeys {
    return this.keys;
  }

  publish(message: BusMessage): void {
    try {
      if (this.closing !== undefined) {
        this.droppedAfterClose[message.type === 'signal' ? 'signal' : 'ranking']++;
        return;
      }
      const result = serializeBusMessage(message);
      if (!result.ok) {
        this.rejected++;
        this.logger?.warn({ error: result.error }, 'bus: message rejected');
        return;
      }
      this.local.deliver(result.message);
      const evicted = this.backlog.push({ type: result.message.type, id: result.message.id, json: result.json });
      if (evicted !== undefined && !this.dropLogged) {
        this.dropLogged = true;
        this.logger?.warn({ backlogMax: this.backlog.capacity, firstDropped: evicted.id }, 'bus: backlog full, dropping messages');
      }
      this.schedulePump();
    } catch (err) {
      this.rejected++;
      this.logger?.warn({ err }, 'bus: publish failed');
    }
  }

  subscribe(handler: BusHandler): () => void {
    return this.local.subscribe(handler);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): BusStats {
    const local = this.local.stats();
    const droppedSignals = this.backlog.droppedSignals + this.droppedAfterClose.signal;
    const droppedRankings = this.backlog.droppedRankings + this.droppedAfterClose.ranking;
    return {
      published: this.published,
      failed: this.failed,
      rejected: this.rejected + local.rejected,
      backlog: this.backlog.size,
      dropped: droppedSignals + droppedRankings,
      droppedSignals,
      droppedRankings,
      handlerErrors: local.handlerErrors,
      connected: this.redis.status === 'ready',
    };
  }

  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.retryCapMs, this.retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return Math.max(1, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
  }

  private onConnectionError(err: Error | undefined): void {
    if (this.outageLogged || this.closing !== undefined) return;
    this.outageLogged = true;
    this.logger?.warn({ error: err?.message ?? 'connection closed', backlog: this.backlog.size }, 'bus: redis unreachable, queueing');
  }

  private onReady(): void {
    if (this.outageLogged) this.logger?.info({ backlog: this.backlog.size }, 'bus: redis connected, draining backlog');
    this.outageLogged = false;
    this.dropLogged = false;
    this.failureStreak = 0;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.inFlight || this.retryTimer !== undefined || this.redis.status !== 'ready') return;
    const batch = this.backlog.take(this.batchMax);
    if (batch.length === 0) return;
    this.inFlight = true;
    const pipeline = this.redis.pipeline();
    for (const m of batch) {
      const signal = m.type === 'signal';
      const stream = signal ? this.keys.signalsStream : this.keys.rankingsStream;
      const maxLen = signal ? this.maxLenSignals : this.maxLenRankings;
      pipeline.xadd(stream, 'MAXLEN', '~', maxLen, '*', 'id', m.id, 'type', m.type, 'data', m.json);
      pipeline.publish(signal ? this.keys.signalsChannel : this.keys.rankingsChannel, m.json);
    }
    pipeline.exec().then(
      (results) => this.settle(batch, results, undefined),
      (err: unknown) => this.settle(batch, null, err),
    );
  }

  /** A message counts as published when its XADD succeeded; pub/sub is best effort. */
  private settle(batch: QueuedMessage[], results: Array<[Error | null, unknown]> | null, error: unknown): void {
    this.inFlight = false;
    const failed: QueuedMessage[] = [];
    let firstError: unknown = error;
    batch.forEach((m, i) => {
      const reply = results?.[2 * i];
      const err = reply === undefined ? (error ?? new Error('no reply')) : reply[0];
      if (err === null || err === undefined) {
        this.published++;
        return;
      }
      failed.push(m);
      firstError ??= err;
    });
    this.failed += failed.length;
    this.backlog.settle(batch.length, failed);
    if (failed.length === 0) {
      this.failureStreak = 0;
      if (this.backlog.size > 0) this.schedulePump();
      return;
    }
    if (this.failureStreak === 0 && this.redis.status === 'ready') {
      this.logger?.warn({ error: String(firstError), failed: failed.length }, 'bus: redis write failed, retrying');
    }
    this.failureStreak++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedulePump();
    }, this.backoffMs(this.failureStreak));
    this.retryTimer.unref();
  }

  private async shutdown(): Promise<void> {
    try {
      const deadline = performance.now() + this.closeTimeoutMs;
      while (this.backlog.size > 0 && performance.now() < deadline) await sleep(10);
      if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      const left = this.backlog.clear();
      if (left.length > 0) this.logger?.warn({ dropped: left.length }, 'bus: closed with undelivered messages');
      if (this.redis.status === 'ready') {
        const quit = this.redis.quit().then(
          () => true,
          () => false,
        );
        if (!(await Promise.race([quit, sleep(1_000).then(() => false)]))) this.redis.disconnect();
      } else {
        this.redis.disconnect();
      }
    } catch (err) {
      this.logger?.warn({ err }, 'bus: error while closing');
      this.redis.disconnect();
    }
    await this.local.close();
  }
}

/** The bus for a configuration: Redis when a URL is given, in-process otherwise. */
export function createBus(redisUrl: string | undefined, options: Omit<RedisBusOptions, 'url'> = {}): Bus {
  return redisUrl === undefined ? new InProcessBus(options.logger) : new RedisBus({ ...options, url: redisUrl });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
