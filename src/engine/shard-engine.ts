import type { RankerMessage, SymbolCommand } from '../actors/messages.js';
import type { SymbolActorConfig } from '../actors/symbol-actor.js';
import { VirtualClock } from '../core/clock.js';
import type { CoinAssessment } from '../core/ranking.js';
import type { TapeRecord } from '../core/tape-record.js';
import type { EventTimeBand } from '../streams/bybit-decoder.js';
import { Engine, type EngineOutput } from './engine.js';

/**
 * Virtual-time width of one sharded-replay step. Shards run a window's records in parallel; the coordinator
 * then merges their outputs, runs the ranker, and its arm/disarm commands reach the coins at the start of the
 * next window. Part of the sharded replay's semantics (the digest depends on it), so it is fixed, not a setting.
 */
export const SHARD_WINDOW_MS = 1_000;

/** FNV-1a of the symbol, modulo the shard count: stable across processes, machines and runs. */
export function shardOf(symbol: string, shards: number): number {
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619) >>> 0;
  return h % shards;
}

/** The symbol of a Bybit frame read from its topic (`{"topic":"tickers.BTCUSDT",…`), or '' when it has none. */
export function frameSymbol(text: string): string {
  const at = text.indexOf('"topic":"');
  if (at < 0) return '';
  const dot = text.indexOf('.', at + 9);
  const end = text.indexOf('"', at + 9);
  return dot < 0 || end < 0 || dot > end ? '' : text.slice(dot + 1, end);
}

/**
 * One output or ranker message of a shard, stamped with the virtual time it happened at, its coin and the
 * coin's own sequence number. Every coin's stream depends only on that coin's records and commands, so
 * sorting a window's items by (at, symbol, seq) gives the same sequence whatever the shard count.
 */
export interface StampedItem {
  readonly at: number;
  readonly symbol: string;
  readonly seq: number;
  readonly output?: EngineOutput;
  readonly assessed?: { readonly assessment: CoinAssessment; readonly refresh: boolean };
}

/** Orders stamped items by (at, symbol, seq). */
export function compareStamped(a: StampedItem, b: StampedItem): number {
  return a.at - b.at || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) || a.seq - b.seq;
}

/** What a shard runs for one window: the coordinator's commands first, then its records, then time moves to `endMs`. */
export interface ShardWindow {
  readonly commands: ReadonlyArray<readonly [symbol: string, command: SymbolCommand]>;
  readonly records: readonly TapeRecord[];
  readonly endMs: number;
}

export interface ShardEngineOptions {
  readonly shard: number;
  readonly shards: number;
  /** Receipt time of the tape's first record: every shard's clock starts there, as the one-thread replay's does. */
  readonly startMs: number;
  readonly symbol: SymbolActorConfig;
  readonly eventTimeBand?: EventTimeBand;
  /** Non-market records (REST replies the tape recorded) are handed here with an engine that keeps only this shard's coins. */
  readonly onOtherRecord?: (rec: TapeRecord, engine: Engine) => void;
}

/**
 * The symbol actors of one shard of a sharded replay: an {@link Engine} whose ranker is a relay, fed the
 * shard's records window by window, returning its outputs and assessments stamped for the coordinator's merge.
 * Pure engine code (no threads, no I/O): the worker wrapper and the in-process runner both use it.
 */
export class ShardEngine {
  readonly engine: Engine;
  private readonly clock: VirtualClock;
  private readonly seqs = new Map<string, number>();
  private items: StampedItem[] = [];

  constructor(private readonly opts: ShardEngineOptions) {
    this.clock = new VirtualClock(opts.startMs);
    const owns = (symbol: string) => shardOf(symbol, opts.shards) === opts.shard;
    const engine = new Engine({
      clock: this.clock,
      drain: { mode: 'sync' },
      symbol: opts.symbol,
      eventTimeBand: opts.eventTimeBand,
      onOutput: (output, from) => this.stamp(from.startsWith('symbol:') ? from.slice(7) : from, output, undefined),
      rankerRelay: (msg: RankerMessage) => {
        if (msg.kind === 'assessed') this.stamp(msg.assessment.symbol, undefined, { assessment: msg.assessment, refresh: msg.refresh });
      },
    });
    // REST-fed inputs of coins another shard owns are dropped here: that shard applies them.
    const heatmap = engine.heatmap.bind(engine);
    const history = engine.history.bind(engine);
    const coinInputs = engine.coinInputs.bind(engine);
    engine.heatmap = (snapshot) => (owns(snapshot.symbol) ? heatmap(snapshot) : undefined);
    engine.history = (symbol, steps) => (owns(symbol) ? history(symbol, steps) : undefined);
    engine.coinInputs = (symbol, inputs) => (owns(symbol) ? coinInputs(symbol, inputs) : undefined);
    this.engine = engine;
  }

  private stamp(symbol: string, output: EngineOutput | undefined, assessed: StampedItem['assessed']): void {
    const seq = (this.seqs.get(symbol) ?? 0) + 1;
    this.seqs.set(symbol, seq);
    this.items.push(output !== undefined ? { at: this.clock.now(), symbol, seq, output } : { at: this.clock.now(), symbol, seq, assessed });
  }

  /** Runs one window and returns its stamped items in emission order. */
  run(window: ShardWindow): StampedItem[] {
    for (const [symbol, command] of window.commands) this.engine.command(symbol, command);
    for (const rec of window.records) {
      this.clock.advanceTo(rec.t);
      if (rec.k === undefined) this.engine.ingest(rec.d, rec.t);
      else this.opts.onOtherRecord?.(rec, this.engine);
    }
    this.clock.advanceTo(Math.max(window.endMs, this.clock.now()));
    const out = this.items;
    this.items = [];
    return out;
  }

  /** Counters of this shard for the replay summary. */
  summary(): ShardSummary {
    return { symbols: this.engine.symbols().length, badFrames: this.engine.decoder.badFrames, frames: this.engine.decoder.counters.frames, scanHits: this.engine.decoder.scanHits };
  }
}

export interface ShardSummary {
  readonly symbols: number;
  readonly badFrames: number;
  readonly frames: number;
  readonly scanHits: number;
}
