import type { Clock } from '../core/clock.js';
import { Mailbox, type Conflation, type MailboxCounters } from './mailbox.js';

/** What a handler may do besides returning its next state. */
export interface ActorContext<O> {
  readonly self: string;
  readonly clock: Clock;
  /** Publishes an output event to the system's listeners (sinks, other actors' routers). */
  emit(event: O): void;
  /** Sends a command to another actor; unknown or stopped targets become dead letters. */
  tell(target: string, msg: unknown): void;
  /** Arms a named timer that delivers `msg` to this actor as a command at `fireAtMs`. */
  setTimer(name: string, fireAtMs: number, msg: unknown): void;
  cancelTimer(name: string): void;
}

/** An actor is a pure-ish `receive(state, msg, ctx) → state`, run to completion one message at a time. */
export interface ActorBehavior<S, M, O> {
  /** Metric label; also the supervision unit reported in `ActorFaulted`. */
  readonly kind: string;
  init(id: string): S;
  receive(state: S, msg: M, ctx: ActorContext<O>): S;
  readonly conflation?: Conflation<M>;
  readonly mailboxCapacity?: number;
}

export interface SupervisionPolicy {
  /** Faults tolerated inside `windowMs` before the actor is stopped. */
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export interface ActorStats extends MailboxCounters {
  readonly id: string;
  readonly kind: string;
  readonly queued: number;
  readonly restarts: number;
  readonly stopped: boolean;
}

/** System-level notices about supervision; delivered to `onSystemEvent` listeners. */
export type SystemEvent =
  | { readonly kind: 'actor-restarted'; readonly id: string; readonly actorKind: string; readonly error: string; readonly restarts: number }
  | { readonly kind: 'actor-stopped'; readonly id: string; readonly actorKind: string; readonly error: string };

/** A handle on a spawned actor; hold it instead of looking actors up by id on the hot path. */
export interface ActorRef<M, S = unknown> {
  readonly id: string;
  tell(msg: M): void;
  /** Read-only view of the current state, for operator endpoints. Never mutate it. */
  peek(): S | undefined;
  stats(): ActorStats;
}

/**
 * How drains are scheduled. `sync` processes every message before `tell` returns (replay and tests: output
 * does not depend on how input was chunked). `deferred` asks the edge to call `drain` soon (setImmediate),
 * which lets every burst conflate but makes each frame wait for the rest of its I/O batch. `adaptive` (live)
 * handles up to `inlineBudget` messages per turn of the event loop inline, like `sync`, and queues the rest
 * for a deferred, conflating drain: low latency while the engine keeps up, conflation when a burst (a
 * reconnect's snapshot storm, a stall) would otherwise build a backlog.
 */
export type DrainMode =
  | { readonly mode: 'sync' }
  | { readonly mode: 'deferred'; readonly schedule: (drain: () => void) => void }
  | { readonly mode: 'adaptive'; readonly schedule: (drain: () => void) => void; readonly inlineBudget: number };

export interface ActorSystemOptions<O> {
  readonly clock: Clock;
  readonly drain: DrainMode;
  readonly supervision?: SupervisionPolicy;
  readonly onOutput?: (event: O, from: string) => void;
  readonly onSystemEvent?: (event: SystemEvent) => void;
  /** Called after each message that carries a numeric `tsInit`, with receipt→processed latency in ms. */
  readonly onLatency?: (actorKind: string, latencyMs: number) => void;
}

interface Cell<S, M, O> {
  readonly id: string;
  readonly behavior: ActorBehavior<S, M, O>;
  readonly mailbox: Mailbox<M>;
  readonly ctx: ActorContext<O>;
  state: S;
  /** True when `init` threw at spawn: the next message runs `init` inside the handler, under supervision. */
  needsInit: boolean;
  restarts: number;
  faultTimes: number[];
  stopped: boolean;
  scheduled: boolean;
}

const DEFAULT_SUPERVISION: SupervisionPolicy = { maxRestarts: 3, windowMs: 60_000 };

/**
 * Runs actors: bounded mailboxes, run-to-completion, supervision. Nothing a handler throws escapes `drain`:
 * the faulting actor is restarted from a fresh state (its state may have been half-mutated), counted, and
 * stopped after `maxRestarts` faults inside `windowMs`; every other actor keeps running.
 */
export class ActorSystem<O> {
  private readonly cells = new Map<string, Cell<any, any, O>>();
  private readonly ready: Cell<any, any, O>[] = [];
  private readyHead = 0;
  private draining = false;
  private drainRequested = false;
  private inlineThisTurn = 0;
  private readonly supervision: SupervisionPolicy;
  deadLetters = 0;

  constructor(private readonly opts: ActorSystemOptions<O>) {
    this.supervision = opts.supervision ?? DEFAULT_SUPERVISION;
  }

  get clock(): Clock {
    return this.opts.clock;
  }

  spawn<S, M>(id: string, behavior: ActorBehavior<S, M, O>): ActorRef<M, S> {
    if (this.cells.has(id)) throw new Error(`actor ${id} already exists`);
    const system = this;
    const ctx: ActorContext<O> = {
      self: id,
      clock: this.opts.clock,
      emit: (event) => this.opts.onOutput?.(event, id),
      tell: (target, msg) => this.tell(target, msg),
      setTimer: (name, fireAtMs, msg) => this.opts.clock.setTimer(`${id}/${name}`, fireAtMs, () => this.tell(id, msg)),
      cancelTimer: (name) => {
        this.opts.clock.cancelTimer(`${id}/${name}`);
      },
    };
    const cell: Cell<S, M, O> = {
      id,
      behavior,
      mailbox: new Mailbox<M>(behavior.mailboxCapacity ?? 1024, behavior.conflation),
      ctx,
      state: undefined as S,
      needsInit: true,
      restarts: 0,
      faultTimes: [],
      stopped: false,
      scheduled: false,
    };
    // A model that cannot be built (a bad estimator setting, say) must fault this actor on its first message,
    // under supervision, rather than throw out of `spawn` into the decoder and the process.
    try {
      cell.state = behavior.init(id);
      cell.needsInit = false;
    } catch {
      // Re-run, and counted, by `handle`.
    }
    this.cells.set(id, cell);
    return {
      id,
      tell(msg: M) {
        system.deliver(cell, msg);
      },
      peek: () => (cell.stopped || cell.needsInit ? undefined : cell.state),
      stats: () => this.statsOf(cell),
    };
  }

  has(id: string): boolean {
    return this.cells.has(id);
  }

  tell(target: string, msg: unknown): void {
    const cell = this.cells.get(target);
    if (cell === undefined) {
      this.deadLetters++;
      return;
    }
    this.deliver(cell, msg);
  }

  /** Per-actor counters, for metrics and `GET /symbols/:symbol`. */
  stats(): ActorStats[] {
    const out: ActorStats[] = [];
    for (const cell of this.cells.values()) out.push(this.statsOf(cell));
    return out;
  }

  /** Processes queued messages until every mailbox is empty. Re-entrant calls are no-ops. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.drainRequested = false;
    try {
      while (this.readyHead < this.ready.length) {
        const cell = this.ready[this.readyHead++]!;
        cell.scheduled = false;
        this.runCell(cell);
      }
      this.ready.length = 0;
      this.readyHead = 0;
    } finally {
      this.draining = false;
    }
  }

  private deliver<M>(cell: Cell<any, M, O>, msg: M): void {
    if (cell.stopped) {
      this.deadLetters++;
      return;
    }
    const drain = this.opts.drain;
    if (!this.draining && cell.mailbox.size === 0 && (drain.mode === 'sync' || (drain.mode === 'adaptive' && this.takeInlineSlot(drain)))) {
      // Fast path: nothing queued anywhere, so run-to-completion order is kept by handling it right here.
      cell.mailbox.counters.received++;
      this.draining = true;
      try {
        this.handle(cell, msg);
      } finally {
        this.draining = false;
      }
      if (this.readyHead < this.ready.length) this.drain();
      return;
    }
    cell.mailbox.offer(msg);
    if (!cell.scheduled && cell.mailbox.size > 0) {
      cell.scheduled = true;
      this.ready.push(cell);
    }
    if (drain.mode === 'sync') {
      this.drain();
    } else if (!this.draining && !this.drainRequested) {
      this.drainRequested = true;
      drain.schedule(() => this.drain());
    }
  }

  /** Adaptive mode: one more inline message this turn? The first one arms the end-of-turn reset. */
  private takeInlineSlot(drain: { readonly schedule: (drain: () => void) => void; readonly inlineBudget: number }): boolean {
    if (this.inlineThisTurn === 0) {
      drain.schedule(() => {
        this.inlineThisTurn = 0;
        this.drain();
      });
    }
    if (this.inlineThisTurn >= drain.inlineBudget) return false;
    this.inlineThisTurn++;
    return true;
  }

  private runCell<S, M>(cell: Cell<S, M, O>): void {
    for (let msg = cell.mailbox.poll(); msg !== undefined; msg = cell.mailbox.poll()) {
      this.handle(cell, msg);
      if (cell.stopped) return;
    }
  }

  /** Runs one message through its actor; a throw faults the actor, never the caller. */
  private handle<S, M>(cell: Cell<S, M, O>, msg: M): void {
    try {
      if (cell.needsInit) {
        cell.state = cell.behavior.init(cell.id);
        cell.needsInit = false;
      }
      cell.state = cell.behavior.receive(cell.state, msg, cell.ctx);
    } catch (err) {
      cell.mailbox.markProcessed();
      this.fault(cell, err);
      return;
    }
    cell.mailbox.markProcessed();
    const onLatency = this.opts.onLatency;
    if (onLatency !== undefined) {
      const tsInit = (msg as { tsInit?: unknown }).tsInit;
      if (typeof tsInit === 'number') onLatency(cell.behavior.kind, this.opts.clock.now() - tsInit);
    }
  }

  private fault<S, M>(cell: Cell<S, M, O>, err: unknown): void {
    const now = this.opts.clock.now();
    const error = err instanceof Error ? err.message : String(err);
    const { maxRestarts, windowMs } = this.supervision;
    cell.faultTimes = cell.faultTimes.filter((t) => now - t < windowMs);
    cell.faultTimes.push(now);
    if (cell.faultTimes.length > maxRestarts) {
      cell.stopped = true;
      cell.mailbox.clear();
      this.opts.onSystemEvent?.({ kind: 'actor-stopped', id: cell.id, actorKind: cell.behavior.kind, error });
      return;
    }
    cell.restarts++;
    try {
      cell.state = cell.behavior.init(cell.id);
    } catch (initErr) {
      cell.stopped = true;
      cell.mailbox.clear();
      const msg = initErr instanceof Error ? initErr.message : String(initErr);
      this.opts.onSystemEvent?.({ kind: 'actor-stopped', id: cell.id, actorKind: cell.behavior.kind, error: `restart failed: ${msg}` });
      return;
    }
    this.opts.onSystemEvent?.({ kind: 'actor-restarted', id: cell.id, actorKind: cell.behavior.kind, error, restarts: cell.restarts });
  }

  private statsOf(cell: Cell<any, any, O>): ActorStats {
    return {
      id: cell.id,
      kind: cell.behavior.kind,
      ...cell.mailbox.counters,
      queued: cell.mailbox.size,
      restarts: cell.restarts,
      stopped: cell.stopped,
    };
  }
}
