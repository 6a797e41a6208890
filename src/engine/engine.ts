import { ActorSystem, type ActorRef, type DrainMode, type SystemEvent } from '../actors/actor-system.js';
import { RANKER_ID, symbolActorId, type RankerMessage, type RankingUpdated, type SymbolCommand, type SymbolMessage } from '../actors/messages.js';
import { rankerActor, type RankerConfig, type RankerState } from '../actors/ranker-actor.js';
import { describeSymbol, symbolActor, type SymbolActorConfig, type SymbolActorOutput, type SymbolState } from '../actors/symbol-actor.js';
import type { Clock } from '../core/clock.js';
import type { MarketEvent } from '../core/events.js';
import type { CoinInputs, HistoryStep } from '../core/coin-liquidity.js';
import type { HeatmapRange, HeatmapSnapshot } from '../core/heatmap.js';
import { reliableRanges, type RangeHitRate } from '../core/range-hit-rates.js';
import { DEFAULT_RANKING_CONFIG } from '../core/ranking.js';
import { BybitDecoder, type BadFrameReason, type EventTimeBand } from '../streams/bybit-decoder.js';

export type EngineOutput = SymbolActorOutput | RankingUpdated;

export interface EngineOptions {
  readonly clock: Clock;
  readonly drain: DrainMode;
  readonly symbol: SymbolActorConfig;
  readonly ranker?: RankerConfig;
  /** Every output, with the id of the actor that emitted it (`symbol:BTCUSDT`, `ranker`). */
  readonly onOutput?: (event: EngineOutput, from: string) => void;
  /**
   * Sharded replay: the ranker lives elsewhere (the coordinator). Messages for it (assessments) go here
   * instead of to a local RankerActor; `rankings()` is then undefined.
   */
  readonly rankerRelay?: (msg: RankerMessage) => void;
  readonly onBadFrame?: (reason: BadFrameReason, detail: string, text: string) => void;
  /** Exchange times outside this band around receipt time are refused (default: the decoder's). */
  readonly eventTimeBand?: EventTimeBand;
  /** The decoder's text scanner for ticker/trade frames (default on); off only to measure the `JSON.parse` path. */
  readonly scanner?: boolean;
  readonly onSystemEvent?: (event: SystemEvent) => void;
  readonly onLatency?: (actorKind: string, latencyMs: number) => void;
}

/**
 * The market-data engine shared by `run`, `record`-less replay and benchmarks: raw frame → decoder (validate,
 * merge) → one SymbolActor per symbol, created on its first event. Live and replay differ only in the clock and
 * the drain mode they pass in.
 */
export class Engine {
  readonly decoder: BybitDecoder;
  readonly system: ActorSystem<EngineOutput>;
  readonly outputs: Record<string, number> = {};
  private readonly refs = new Map<string, ActorRef<SymbolMessage, SymbolState>>();
  private readonly ranker: ActorRef<RankerMessage, RankerState>;
  private readonly behavior;
  /**
   * Optional observer of every decoded market event, called after the event went to its symbol actor (the
   * execution wiring feeds the paper broker and the position monitor from it). One undefined check per event.
   */
  marketTap: ((event: MarketEvent) => void) | undefined;
  private readonly route = (event: MarketEvent): void => {
    this.actorFor(event.symbol).tell(event);
    this.marketTap?.(event);
  };

  constructor(opts: EngineOptions) {
    this.behavior = symbolActor(opts.symbol);
    this.decoder = new BybitDecoder({ onBadFrame: opts.onBadFrame, eventTimeBand: opts.eventTimeBand, scanner: opts.scanner });
    this.system = new ActorSystem<EngineOutput>({
      clock: opts.clock,
      drain: opts.drain,
      onOutput: (event, from) => {
        this.outputs[event.kind] = (this.outputs[event.kind] ?? 0) + 1;
        opts.onOutput?.(event, from);
      },
      onSystemEvent: opts.onSystemEvent,
      onLatency: opts.onLatency,
    });
    const relay = opts.rankerRelay;
    this.ranker = this.system.spawn(
      RANKER_ID,
      relay === undefined
        ? rankerActor(opts.ranker ?? { ...DEFAULT_RANKING_CONFIG, intervalMs: 300_000 })
        : {
            kind: 'ranker-relay',
            init: (): RankerState => ({ assessments: new Map(), successRates: new Map(), armed: new Set(), last: undefined, passes: 0 }),
            receive: (state: RankerState, msg: RankerMessage) => (relay(msg), state),
          },
    );
    this.ranker.tell({ kind: 'start' });
  }

  private actorFor(symbol: string): ActorRef<SymbolMessage, SymbolState> {
    let ref = this.refs.get(symbol);
    if (ref === undefined) {
      ref = this.system.spawn(symbolActorId(symbol), this.behavior);
      this.refs.set(symbol, ref);
    }
    return ref;
  }

  /** Hands an external heatmap snapshot (CoinGlass) to its coin, creating the coin's actor if it is new. */
  heatmap(snapshot: HeatmapSnapshot): void {
    this.actorFor(snapshot.symbol).tell({ kind: 'heatmap', snapshot });
  }

  /** Delivers a command (arm/disarm from a remote ranker, …) to a coin's actor, creating it if it is new. */
  command(symbol: string, msg: SymbolCommand): void {
    this.actorFor(symbol).tell(msg);
  }

  /** Rebuilds a coin's own liquidation estimate from REST history (the estimator bootstrap). */
  history(symbol: string, steps: readonly HistoryStep[]): void {
    this.actorFor(symbol).tell({ kind: 'history', steps });
  }

  /** Per-coin facts from outside the stream (operator override, market cap, persisted typical sizes). */
  coinInputs(symbol: string, inputs: CoinInputs): void {
    this.actorFor(symbol).tell({ kind: 'coin-inputs', inputs });
  }

  /** Learned success rates (closed trades, prior applied) that replace the evaluation's prior in the ranker's score. */
  setSuccessRates(rates: ReadonlyArray<readonly [symbol: string, rate: number]>): void {
    this.ranker.tell({ kind: 'success-rates', rates });
  }

  /** The last ranking pass (top coins, armed), or undefined before the first. */
  rankings(): RankingUpdated | undefined {
    return this.ranker.peek()?.last;
  }

  /**
   * Feeds one already-decoded market event (a decoder-free source: the backtester's bars from stored history).
   * It takes the same path as a decoded frame: its symbol's actor, then the market tap.
   */
  deliver(event: MarketEvent): void {
    this.route(event);
  }

  /** Feeds one raw frame received at `tsInit`. */
  ingest(text: string, tsInit: number): void {
    this.decoder.decode(text, tsInit, this.route);
  }

  symbols(): string[] {
    return [...this.refs.keys()].sort();
  }

  /** Per coin: hit rates per range over the window, reliable ranges, clusters followed now (for `/reliable-ranges` and metrics). */
  clusterOutcomes(): { symbol: string; following: number; ranges: RangeHitRate[]; reliableRanges: HeatmapRange[] }[] {
    const out: { symbol: string; following: number; ranges: RangeHitRate[]; reliableRanges: HeatmapRange[] }[] = [];
    for (const [symbol, ref] of this.refs) {
      const s = ref.peek();
      if (s === undefined) continue;
      const ranges = s.outcomes.rates.rates(Number.isFinite(s.lastTsInit) ? s.lastTsInit : 0);
      out.push({ symbol, following: s.outcomes.openCount, ranges, reliableRanges: reliableRanges(ranges, s.outcomeConfig.reliable) });
    }
    return out.sort((a, b) => (a.symbol < b.symbol ? -1 : 1));
  }

  /** JSON view of one symbol (features, counters, mailbox), or undefined if it has not been seen. */
  describe(symbol: string): Record<string, unknown> | undefined {
    const ref = this.refs.get(symbol);
    const state = ref?.peek();
    if (ref === undefined || state === undefined) return undefined;
    const ticker = this.decoder.tickerState(symbol);
    const tickerView: Record<string, number | string | null> = {};
    if (ticker !== undefined) for (const [k, v] of Object.entries(ticker)) tickerView[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    return { ...describeSymbol(state), ticker: tickerView, mailbox: ref.stats() };
  }

  /**
   * What the symbols hold in typed arrays (rolling windows, liquidation estimators) and the estimators' cohorts,
   * for the memory bench's breakdown. O(symbols).
   */
  memoryBreakdown(): { symbols: number; windowBytes: number; estimatorBytes: number; cohorts: number; maxCohorts: number } {
    let windowBytes = 0;
    let estimatorBytes = 0;
    let cohorts = 0;
    let maxCohorts = 0;
    for (const ref of this.refs.values()) {
      const state = ref.peek();
      if (state === undefined) continue;
      windowBytes += state.windows.byteLength;
      const est = state.liquidity.estimator;
      estimatorBytes += est.byteLength;
      cohorts += est.cohortCount;
      if (est.cohortCount > maxCohorts) maxCohorts = est.cohortCount;
    }
    return { symbols: this.refs.size, windowBytes, estimatorBytes, cohorts, maxCohorts };
  }

  /** Per-topic frame counts for metrics. */
  frameCounts(): Record<string, number> {
    const c = this.decoder.counters;
    return { tickers: c.tickers + c.tickersQuiet, publicTrade: c.trades, allLiquidation: c.liquidations, control: c.control, ignored: c.ignoredTopics };
  }
}
