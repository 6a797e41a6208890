import { asapScheduler, observeOn, Subject } from 'rxjs';
import { serializeBusMessage, type BusMessage, type BusMessageType } from './bus-schema.js';

/**
 * Where signals and rankings go once the engine has them. The engine's actors call `publish` on their hot
 * path, so it is synchronous, never throws and never waits on I/O: a transport that can stall (Redis) queues
 * internally and drains in the background. Subscribers always run later (on a microtask), never inside the
 * publisher's call, so a slow or throwing handler cannot hold up or fault an actor.
 */
export interface Bus {
  /** Validates and hands the message on; an invalid message is counted in `rejected`, never thrown. */
  publish(message: BusMessage): void;
  /** In-process delivery of every accepted message, in publish order. Returns the unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  /** Stops accepting, drains what it can within its time limit, releases connections. Never rejects. */
  close(): Promise<void>;
  stats(): BusStats;
}

export type BusHandler = (message: BusMessage) => void;

/** Plain counters (monotonic unless noted); the lead maps them onto Prometheus. */
export interface BusStats {
  /** Messages written to the transport: XADD acknowledged for Redis, handed to subscribers in-process. */
  readonly published: number;
  /** Failed write attempts (each retry of a message that failed again counts again). */
  readonly failed: number;
  /** Messages refused by the schema (never sent). */
  readonly rejected: number;
  /** Messages waiting for the transport now (gauge). */
  readonly backlog: number;
  /** Messages lost: evicted from a full backlog, published after close, or left over at close. */
  readonly dropped: number;
  readonly droppedSignals: number;
  readonly droppedRankings: number;
  /** Subscriber handlers that threw (the message still reached the other handlers). */
  readonly handlerErrors: number;
  /** Whether the transport can take writes now (always true in-process until closed) (gauge). */
  readonly connected: boolean;
}

/** The subset of pino's Logger the bus uses. */
export interface BusLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * The bus when no REDIS_URL is set, and the local fan-out inside the Redis bus. Backed by an RxJS Subject
 * observed on the asap (microtask) scheduler.
 */
export class InProcessBus implements Bus {
  private readonly subject = new Subject<BusMessage>();
  private closed = false;
  private published = 0;
  private rejected = 0;
  private droppedSignals = 0;
  private droppedRankings = 0;
  private handlerErrors = 0;

  constructor(private readonly logger?: BusLogger) {}

  publish(message: BusMessage): void {
    try {
      if (this.closed) {
        this.countDrop(message);
        return;
      }
      const result = serializeBusMessage(message);
      if (!result.ok) {
        this.rejected++;
        this.logger?.warn({ error: result.error, type: typeOf(message) }, 'bus: message rejected');
        return;
      }
      this.deliver(result.message);
    } catch (err) {
      this.rejected++;
      this.logger?.warn({ err }, 'bus: publish failed');
    }
  }

  /**
   * Hands an already validated message to the subscribers, skipping validation. For buses that compose this
   * one (the Redis bus validates once for both paths); everyone else calls `publish`.
   */
  deliver(message: BusMessage): void {
    if (this.closed) {
      this.countDrop(message);
      return;
    }
    this.published++;
    this.subject.next(message);
  }

  subscribe(handler: BusHandler): () => void {
    const subscription = this.subject.pipe(observeOn(asapScheduler)).subscribe((message) => {
      try {
        handler(message);
      } catch (err) {
        this.handlerErrors++;
        this.logger?.warn({ err, id: message.id }, 'bus: subscriber threw');
      }
    });
    return () => subscription.unsubscribe();
  }

  /** Completes the subject once already published messages have reached the subscribers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subject.complete();
    // Deliveries are scheduled on microtasks; one macrotask later they have all run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  stats(): BusStats {
    return {
      published: this.published,
      failed: 0,
      rejected: this.rejected,
      backlog: 0,
      dropped: this.droppedSignals + this.droppedRankings,
      droppedSignals: this.droppedSignals,
      droppedRankings: this.droppedRankings,
      handlerErrors: this.handlerErrors,
      connected: !this.closed,
    };
  }

  private countDrop(message: BusMessage): void {
    if (typeOf(message) === 'signal') this.droppedSignals++;
    else this.droppedRankings++;
  }
}

/** One message waiting for a remote transport, already validated and rendered. */
export interface QueuedMessage {
  readonly type: BusMessageType;
  readonly id: string;
  readonly json: string;
}

/**
 * The FIFO of messages waiting for a remote transport (Redis), bounded by `capacity` including the batch in
 * flight. When full, the oldest queued ranking is evicted first (a newer ranking supersedes it); only with no
 * ranking queued does a signal go, the oldest one (a stale signal is worth least to an executor); an incoming
 * ranking is refused rather than evict a signal. The owner takes one batch at a time and settles it before
 * taking the next.
 */
export class BoundedBacklog {
  private queue: QueuedMessage[] = [];
  private inFlightCount = 0;
  private droppedSignalCount = 0;
  private droppedRankingCount = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`BoundedBacklog: capacity must be >= 1, got ${capacity}`);
  }

  get droppedSignals(): number {
    return this.droppedSignalCount;
  }

  get droppedRankings(): number {
    return this.droppedRankingCount;
  }

  /** Queued plus in flight. */
  get size(): number {
    return this.queue.length + this.inFlightCount;
  }

  /** Appends; returns the message that had to go to make room, if any (possibly `message` itself). */
  push(message: QueuedMessage): QueuedMessage | undefined {
    let evicted: QueuedMessage | undefined;
    if (this.size >= this.capacity) {
      evicted = this.evictOne(message.type === 'ranking');
      if (evicted === undefined) {
        this.countDrop(message);
        return message;
      }
    }
    this.queue.push(message);
    return evicted;
  }

  /** Removes up to `max` messages from the front and counts them as in flight until `settle`. */
  take(max: number): QueuedMessage[] {
    const batch = this.queue.splice(0, Math.max(0, max));
    this.inFlightCount += batch.length;
    return batch;
  }

  /** Ends a batch of `batchSize` taken messages; `failed` (in their order) go back to the front. */
  settle(batchSize: number, failed: readonly QueuedMessage[]): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - batchSize);
    if (failed.length > 0) this.queue = [...failed, ...this.queue];
    while (this.size > this.capacity && this.evictOne(false) !== undefined);
  }

  /** Empties the queue (at close); returns what was left. */
  clear(): QueuedMessage[] {
    const left = this.queue;
    this.queue = [];
    for (const m of left) this.countDrop(m);
    return left;
  }

  /** Oldest ranking, else (unless `rankingsOnly`) oldest signal; undefined when nothing can go. */
  private evictOne(rankingsOnly: boolean): QueuedMessage | undefined {
    const idx = this.queue.findIndex((m) => m.type === 'ranking');
    if (idx < 0 && (rankingsOnly || this.queue.length === 0)) return undefined;
    const [evicted] = this.queue.splice(Math.max(idx, 0), 1);
    if (evicted !== undefined) this.countDrop(evicted);
    return evicted;
  }

  private countDrop(message: QueuedMessage): void {
    if (message.type === 'signal') this.droppedSignalCount++;
    else this.droppedRankingCount++;
  }
}

/** The message's type even when the caller passed something malformed. */
function typeOf(message: BusMessage): string {
  return typeof message === 'object' && message !== null ? String((message as { type?: unknown }).type) : typeof message;
}
