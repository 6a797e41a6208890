import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../core/clock.js';
import type { SourceEvent } from '../core/events.js';
import { BybitConnection, type BybitConnectionStats, type BybitConnectionTuning } from './bybit-connection.js';

/** One raw frame as received: text untouched, `tsInit` = clock time at arrival, `connId` = source id. */
export interface RawFrame {
  readonly text: string;
  readonly tsInit: number;
  readonly connId: string;
}

export interface BybitStreamOptions {
  /** e.g. `wss://stream.bybit.com/v5/public/linear`. */
  readonly url: string;
  readonly clock: Clock;
  readonly random: () => number;
  /** Topic prefixes per symbol. Default `['tickers', 'publicTrade', 'allLiquidation']`. */
  readonly topicKinds?: readonly string[];
  /** Default 600. */
  readonly maxTopicsPerConnection?: number;
  /** JSON length of all args on one connection. Default 10 000 (Bybit's limit is 21 000, scope unclear). */
  readonly maxArgsCharsPerConnection?: number;
  /** Source ids are `${idPrefix}-${n}`. Default `bybit-ws`. */
  readonly idPrefix?: string;
  /** Heartbeat, backoff, watchdog and batching settings for every connection. */
  readonly connection?: BybitConnectionTuning;
}

/** What `setSymbols` changed. */
export interface SymbolsChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

interface Shard {
  readonly conn: BybitConnection;
  topicCount: number;
  argsChars: number;
}

/**
 * The Bybit public-linear edge: shards `kind.SYMBOL` topics over several {@link BybitConnection}s so no
 * socket carries more than 600 topics or 10 000 args characters, and one reconnect only blinds a slice of
 * the market. A symbol's topics stay on one connection; a topic is never on two. Frames are raw text:
 * the decoder parses them.
 *
 * `frames$` and `sourceEvents$` are hot (Subjects): subscribe before `setSymbols` or frames are missed.
 */
export class BybitStream {
  readonly frames$: Observable<RawFrame>;
  readonly sourceEvents$: Observable<SourceEvent>;
  private readonly framesSubject = new Subject<RawFrame>();
  private readonly eventsSubject = new Subject<SourceEvent>();
  private readonly shards: Shard[] = [];
  private readonly shardOfSymbol = new Map<string, Shard>();
  private readonly kinds: readonly string[];
  private readonly maxTopics: number;
  private readonly maxChars: number;
  private readonly staleAfterMs: number;
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: BybitStreamOptions) {
    this.kinds = opts.topicKinds ?? ['tickers', 'publicTrade', 'allLiquidation'];
    this.maxTopics = opts.maxTopicsPerConnection ?? 600;
    this.maxChars = opts.maxArgsCharsPerConnection ?? 10_000;
    this.staleAfterMs = opts.connection?.staleAfterMs ?? 60_000;
    if (this.kinds.length === 0) throw new Error('BybitStream: topicKinds must not be empty');
    this.frames$ = this.framesSubject.asObservable();
    this.sourceEvents$ = this.eventsSubject.asObservable();
  }

  /** Topics for one symbol, e.g. `tickers.BTCUSDT`. */
  topicsFor(symbol: string): string[] {
    return this.kinds.map((k) => `${k}.${symbol}`);
  }

  /** Symbols currently streamed, sorted. */
  symbols(): string[] {
    return [...this.shardOfSymbol.keys()].sort();
  }

  /**
   * Makes the streamed set equal `symbols`: unsubscribes the removed ones, subscribes the new ones on a
   * connection with room (opening a new connection when none has), closes connections left empty.
   */
  setSymbols(symbols: readonly string[]): SymbolsChange {
    if (this.closed) return { added: [], removed: [] };
    const wanted = new Set(symbols);
    const removed = [...this.shardOfSymbol.keys()].filter((s) => !wanted.has(s));
    const added = [...wanted].filter((s) => !this.shardOfSymbol.has(s)).sort();

    const removals = new Map<Shard, string[]>();
    for (const s of removed) {
      const shard = this.shardOfSymbol.get(s) as Shard;
      this.shardOfSymbol.delete(s);
      const topics = this.topicsFor(s);
      shard.topicCount -= topics.length;
      shard.argsChars -= argsCost(topics);
      removals.set(shard, [...(removals.get(shard) ?? []), ...topics]);
    }
    for (const [shard, topics] of removals) {
      if (shard.topicCount === 0) this.dropShard(shard);
      else shard.conn.removeTopics(topics);
    }

    const additions = new Map<Shard, string[]>();
    const fresh = new Set<Shard>();
    for (const s of added) {
      const topics = this.topicsFor(s);
      const cost = argsCost(topics);
      let shard = this.shards.find((sh) => sh.topicCount + topics.length <= this.maxTopics && sh.argsChars + cost <= this.maxChars);
      if (!shard) {
        shard = this.newShard();
        fresh.add(shard);
      }
      shard.topicCount += topics.length;
      shard.argsChars += cost;
      this.shardOfSymbol.set(s, shard);
      additions.set(shard, [...(additions.get(shard) ?? []), ...topics]);
    }
    for (const [shard, topics] of additions) {
      shard.conn.addTopics(topics);
      if (fresh.has(shard)) shard.conn.start();
    }
    return { added, removed: removed.sort() };
  }

  /**
   * True when there is at least one connection, every connection is up, and none has been silent for more
   * than staleAfterMs (counted from its last open when no frame came since).
   */
  isReady(nowMs: number): boolean {
    if (this.shards.length === 0) return false;
    return this.shards.every((sh) => {
      const st = sh.conn.stats();
      if (!st.up) return false;
      const lastMs = Number.isNaN(st.lastFrameAt) ? st.connectedAt : Math.max(st.lastFrameAt, st.connectedAt);
      return nowMs - lastMs <= this.staleAfterMs;
    });
  }

  /** Share of subscribed ticker topics that are live (see BybitConnection.liveness); 0 with no topics. */
  liveTickerShare(nowMs: number): { live: number; total: number; share: number } {
    let live = 0;
    let total = 0;
    for (const sh of this.shards) {
      const l = sh.conn.liveness(nowMs, (t) => t.startsWith('tickers.'));
      live += l.live;
      total += l.total;
    }
    return { live, total, share: total === 0 ? 0 : live / total };
  }

  stats(): BybitConnectionStats[] {
    return this.shards.map((sh) => sh.conn.stats());
  }

  /** Topics per connection id, for diagnostics and tests. */
  assignment(): Map<string, string[]> {
    return new Map(this.shards.map((sh) => [sh.conn.id, sh.conn.topics()]));
  }

  /** Watched topics silent for longer than staleAfterMs, over all connections. */
  staleTopics(nowMs: number): string[] {
    return this.shards.flatMap((sh) => sh.conn.staleTopics(nowMs));
  }

  /** Closes every connection (no reconnects) and completes both observables. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = this.shards.splice(0);
    this.shardOfSymbol.clear();
    await Promise.all(all.map((sh) => sh.conn.close()));
    this.framesSubject.complete();
    this.eventsSubject.complete();
  }

  private newShard(): Shard {
    const frames = this.framesSubject;
    const events = this.eventsSubject;
    const conn = new BybitConnection({
      ...this.opts.connection,
      id: `${this.opts.idPrefix ?? 'bybit-ws'}-${this.nextId++}`,
      url: this.opts.url,
      topics: [],
      clock: this.opts.clock,
      random: this.opts.random,
      onFrame: (text, tsInit, connId) => frames.next({ text, tsInit, connId }),
      onSourceEvent: (ev) => events.next(ev),
    });
    const shard: Shard = { conn, topicCount: 0, argsChars: 2 }; // 2 for the enclosing []
    this.shards.push(shard);
    return shard;
  }

  private dropShard(shard: Shard): void {
    const i = this.shards.indexOf(shard);
    if (i >= 0) this.shards.splice(i, 1);
    void shard.conn.close();
  }
}

/** JSON length the topics add to an `args` array (quotes and separating comma). */
function argsCost(topics: readonly string[]): number {
  let n = 0;
  for (const t of topics) n += t.length + 3;
  return n;
}
