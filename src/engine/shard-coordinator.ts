import { ActorSystem, type ActorBehavior } from '../actors/actor-system.js';
import { RANKER_ID, symbolActorId, type RankingUpdated, type SymbolCommand } from '../actors/messages.js';
import { rankerActor, type RankerConfig } from '../actors/ranker-actor.js';
import { VirtualClock } from '../core/clock.js';
import { DEFAULT_RANKING_CONFIG } from '../core/ranking.js';
import type { EngineOutput } from './engine.js';
import { compareStamped, shardOf, type StampedItem } from './shard-engine.js';

export interface ShardCoordinatorOptions {
  readonly shards: number;
  readonly startMs: number;
  readonly ranker?: RankerConfig;
  /** Every output of the replay in its one canonical order (the digest is taken over this). */
  readonly onOutput: (event: EngineOutput) => void;
}

/**
 * The single-threaded half of a sharded replay: merges the shards' stamped items of a window in
 * (time, symbol, seq) order, feeds the assessments to the one RankerActor on its own virtual clock (ranking
 * passes on the same epoch grid as a one-thread run), and collects the ranker's arm/disarm commands per shard
 * for the next window. Because the merge order and the command timing depend on the tape only, the output
 * sequence is the same for every shard count.
 */
export class ShardCoordinator {
  private readonly clock: VirtualClock;
  private readonly system: ActorSystem<RankingUpdated>;
  private readonly pending: [string, SymbolCommand][][];
  private readonly proxies = new Set<string>();
  private readonly proxy: ActorBehavior<string, SymbolCommand, RankingUpdated>;

  constructor(private readonly opts: ShardCoordinatorOptions) {
    this.clock = new VirtualClock(opts.startMs);
    this.pending = Array.from({ length: opts.shards }, () => []);
    this.system = new ActorSystem<RankingUpdated>({ clock: this.clock, drain: { mode: 'sync' }, onOutput: (e) => opts.onOutput(e) });
    // Stand-ins for the coins: what the ranker tells a coin is queued for the shard that owns it.
    this.proxy = {
      kind: 'coin-proxy',
      init: (id) => id.slice('symbol:'.length),
      receive: (symbol, msg) => {
        this.pending[shardOf(symbol, this.opts.shards)]!.push([symbol, msg]);
        return symbol;
      },
    };
    this.system.spawn(RANKER_ID, rankerActor(opts.ranker ?? { ...DEFAULT_RANKING_CONFIG, intervalMs: 300_000 })).tell({ kind: 'start' });
  }

  /**
   * Merges one window's items (one array per shard, in any order) and moves the ranker's clock to `endMs`.
   * Returns the commands each shard must apply before its next window.
   */
  merge(itemsPerShard: readonly (readonly StampedItem[])[], endMs: number): [string, SymbolCommand][][] {
    const all = itemsPerShard.length === 1 ? [...itemsPerShard[0]!] : itemsPerShard.flat();
    all.sort(compareStamped);
    for (const item of all) {
      if (item.at > this.clock.now()) this.clock.advanceTo(item.at);
      if (item.output !== undefined) {
        this.opts.onOutput(item.output);
        continue;
      }
      const a = item.assessed!;
      if (!this.proxies.has(item.symbol)) {
        this.proxies.add(item.symbol);
        this.system.spawn(symbolActorId(item.symbol), this.proxy);
      }
      this.system.tell(RANKER_ID, { kind: 'assessed', assessment: a.assessment, refresh: a.refresh });
    }
    if (endMs > this.clock.now()) this.clock.advanceTo(endMs);
    const out = this.pending.map((p) => p.splice(0));
    return out;
  }
}
