import { ClusterOutcomeTracker, DEFAULT_CLUSTER_OUTCOME_CONFIG, type ClusterOutcome, type ClusterOutcomeConfig } from '../core/cluster-outcomes.js';
import { learnedRangeWeights, reliableRanges } from '../core/range-hit-rates.js';
import { CoinLiquidity, DEFAULT_COIN_LIQUIDITY_CONFIG, type CoinLiquidityConfig } from '../core/coin-liquidity.js';
import type { LiquidationsOccurred, MinuteBarClosed, SpikeDetected, TradesPrinted } from '../core/events.js';
import { DEFAULT_TRIGGER_CONFIG, SignalTrigger, type ArmedSetup, type TriggerConfig } from '../core/trigger.js';
import type { SymbolFeatures } from '../core/features.js';
import type { SourceDistance } from '../core/source-distance.js';
import type { HeatmapRange } from '../core/heatmap.js';
import { MinuteBarBuilder } from '../core/minute-bar.js';
import { SpikeDetector, spikeReasonNames, type SpikeThresholds } from '../core/spike-detector.js';
import { SymbolWindows, emptyFeatures } from '../core/symbol-windows.js';
import type { ActorBehavior } from './actor-system.js';
import type { Conflation } from './mailbox.js';
import { nextGridTime, phaseOf, RANKER_ID, type CoinEvaluated, type SignalRaised, type SymbolMessage } from './messages.js';

/**
 * What a symbol actor emits: spikes, closed minute bars, realized liquidations it has folded in (for storage),
 * its periodic liquidation evaluation, signals, and the outcome (hit or expired) of every cluster it followed.
 */
export type SymbolActorOutput = SpikeDetected | MinuteBarClosed | LiquidationsOccurred | CoinEvaluated | SignalRaised | ClusterOutcome;

export interface SymbolActorConfig {
  readonly horizonSec: number;
  readonly spike: SpikeThresholds;
  readonly liquidity?: CoinLiquidityConfig;
  readonly trigger?: TriggerConfig;
  /** How often each coin re-scores its heatmaps; phases are spread per symbol on the epoch grid. Default 5 min. */
  readonly evaluateIntervalMs?: number;
  /** Cluster outcomes: hit-rate window, reliable ranges, static or learned range weights. */
  readonly outcomes?: ClusterOutcomeConfig;
}

/** Everything one symbol knows; read by `GET /symbols/:symbol` through `describeSymbol`. */
export interface SymbolState {
  readonly symbol: string;
  readonly windows: SymbolWindows;
  readonly detector: SpikeDetector;
  readonly bars: MinuteBarBuilder;
  /** Refreshed after every event; reused, never reallocated. */
  readonly features: SymbolFeatures;
  lastTsInit: number;
  tickers: number;
  tradeFrames: number;
  liquidationFrames: number;
  spikes: number;
  lastSpike: SpikeDetected | undefined;
  readonly liquidity: CoinLiquidity;
  readonly trigger: SignalTrigger;
  armed: ArmedSetup | undefined;
  evaluationArmed: boolean;
  /** The last assessment (not its snapshots: those go out with the `evaluated` event and are not kept). */
  lastAssessment: CoinEvaluated['assessment'] | undefined;
  signals: number;
  /** Follows every significant cluster to its hit or expiry; holds the coin's per-range hit rates. */
  readonly outcomes: ClusterOutcomeTracker;
  readonly outcomeConfig: ClusterOutcomeConfig;
}

const second = (ts: number) => Math.floor(ts / 1000);

function mergeTrades(a: TradesPrinted, b: TradesPrinted): TradesPrinted | undefined {
  if (second(a.tsEvent) !== second(b.tsEvent)) return undefined;
  return {
    kind: 'trades',
    symbol: b.symbol,
    tsEvent: Math.max(a.tsEvent, b.tsEvent),
    tsInit: a.tsInit,
    count: a.count + b.count,
    buyQty: a.buyQty + b.buyQty,
    sellQty: a.sellQty + b.sellQty,
    buyTurnoverUsd: a.buyTurnoverUsd + b.buyTurnoverUsd,
    sellTurnoverUsd: a.sellTurnoverUsd + b.sellTurnoverUsd,
    lastPrice: b.tsEvent >= a.tsEvent ? b.lastPrice : a.lastPrice,
  };
}

function mergeLiquidations(a: LiquidationsOccurred, b: LiquidationsOccurred): LiquidationsOccurred | undefined {
  if (second(a.tsEvent) !== second(b.tsEvent)) return undefined;
  return { ...b, tsInit: a.tsInit, longUsd: a.longUsd + b.longUsd, shortUsd: a.shortUsd + b.shortUsd, items: [...a.items, ...b.items] };
}

/**
 * Conflation for a symbol's mailbox under backlog: the newest merged ticker replaces a queued one (it carries the
 * full state); trades and liquidations of the same exchange second are summed, which leaves every window
 * unchanged. The merged message keeps the older `tsInit`, so measured latency includes the time spent queued.
 */
export const symbolConflation: Conflation<SymbolMessage> = {
  key(msg) {
    return msg.kind === 'ticker' || msg.kind === 'trades' || msg.kind === 'liquidations' ? msg.kind : undefined;
  },
  merge(queued, incoming) {
    if (queued.kind === 'ticker' && incoming.kind === 'ticker') return { ...incoming, tsInit: queued.tsInit };
    if (queued.kind === 'trades' && incoming.kind === 'trades') return mergeTrades(queued, incoming);
    if (queued.kind === 'liquidations' && incoming.kind === 'liquidations') return mergeLiquidations(queued, incoming);
    return undefined;
  },
};

/**
 * One actor per symbol: rolling windows, features, spike detection and minute bars. The hot path (one ticker or
 * trade) is O(1) and allocates nothing unless it emits.
 */
export function symbolActor(config: SymbolActorConfig): ActorBehavior<SymbolState, SymbolMessage, SymbolActorOutput> {
  const evaluateIntervalMs = config.evaluateIntervalMs ?? 300_000;
  const triggerConfig = config.trigger ?? DEFAULT_TRIGGER_CONFIG;
  const liquidityConfig = config.liquidity ?? DEFAULT_COIN_LIQUIDITY_CONFIG;
  const outcomeConfig = config.outcomes ?? DEFAULT_CLUSTER_OUTCOME_CONFIG;
  const staticWeights = liquidityConfig.evaluation.imbalance.weights;
  return {
    kind: 'symbol',
    mailboxCapacity: 64,
    conflation: symbolConflation,
    init(id) {
      const symbol = id.startsWith('symbol:') ? id.slice('symbol:'.length) : id;
      return {
        symbol,
        windows: new SymbolWindows({ horizonSec: config.horizonSec }),
        detector: new SpikeDetector(config.spike),
        bars: new MinuteBarBuilder(symbol),
        features: emptyFeatures(),
        lastTsInit: NaN,
        tickers: 0,
        tradeFrames: 0,
        liquidationFrames: 0,
        spikes: 0,
        lastSpike: undefined,
        liquidity: new CoinLiquidity(symbol, liquidityConfig),
        trigger: new SignalTrigger(triggerConfig),
        armed: undefined,
        evaluationArmed: false,
        lastAssessment: undefined,
        signals: 0,
        outcomes: new ClusterOutcomeTracker(symbol, outcomeConfig.windowMs),
        outcomeConfig,
      };
    },
    receive(state, msg, ctx) {
      let bar: MinuteBarClosed | undefined;
      switch (msg.kind) {
        case 'heatmap': {
          const compared = state.liquidity.onExternalSnapshot(msg.snapshot);
          // Evaluated at the reply's receipt time, which the tape records: a replay decides at the same instant.
          evaluate(state, staticWeights, msg.snapshot.fetchedAt, true, ctx, compared);
          return state;
        }
        case 'evaluate':
          evaluate(state, staticWeights, msg.atMs, msg.refresh, ctx);
          if (!msg.refresh) ctx.setTimer('evaluate', msg.atMs + evaluateIntervalMs, { kind: 'evaluate', atMs: msg.atMs + evaluateIntervalMs, refresh: false });
          return state;
        case 'history':
          state.liquidity.applyHistory(msg.steps);
          return state;
        case 'coin-inputs':
          state.liquidity.setInputs(msg.inputs);
          if (msg.inputs.outcomes !== undefined) state.outcomes.restore(msg.inputs.outcomes);
          return state;
        case 'arm':
          state.armed = msg.setup;
          return state;
        case 'disarm':
          state.armed = undefined;
          return state;
        case 'ticker':
          state.tickers++;
          state.liquidity.onTicker(msg);
          state.windows.onTicker(msg.tsEvent, msg.lastPrice, msg.markPrice, msg.openInterest, msg.openInterestValue);
          bar = state.bars.onTicker(msg.tsEvent, msg.lastPrice, msg.openInterest, msg.openInterestValue, msg.fundingRate);
          // Receipt time, the clock evaluations run on: a cluster found at an evaluation is judged on the same scale.
          if (msg.lastPrice > 0) {
            const resolved = state.outcomes.onPrice(msg.tsInit, msg.lastPrice);
            if (resolved !== undefined) for (const o of resolved) ctx.emit(o);
          }
          break;
        case 'trades':
          state.tradeFrames++;
          state.liquidity.onTrades(msg);
          state.windows.onTrades(msg.tsEvent, msg.buyQty, msg.sellQty, msg.buyTurnoverUsd, msg.sellTurnoverUsd);
          bar = state.bars.onTrades(msg.tsEvent, msg.count, msg.buyQty, msg.sellQty, msg.buyTurnoverUsd, msg.sellTurnoverUsd);
          break;
        case 'liquidations':
          state.liquidationFrames++;
          state.windows.onLiquidations(msg.tsEvent, msg.longUsd, msg.shortUsd);
          state.liquidity.onLiquidations(msg);
          ctx.emit(msg);
          break;
      }
      state.lastTsInit = msg.tsInit;
      if (bar !== undefined) ctx.emit(bar);
      const f = state.windows.features(state.features);
      const mask = state.detector.check(f.tsEvent, f);
      if (mask !== 0) {
        const spike: SpikeDetected = {
          kind: 'spike',
          symbol: state.symbol,
          tsEvent: f.tsEvent,
          tsInit: msg.tsInit,
          reasons: spikeReasonNames(mask),
          priceChangePct1m: f.priceChangePct1m,
          priceChangePct5m: f.priceChangePct5m,
          oiChangePct15m: f.oiChangePct15m,
          volumeRatio5m: f.volumeRatio5m,
          lastPrice: f.lastPrice,
        };
        state.spikes++;
        state.lastSpike = spike;
        ctx.emit(spike);
        // A spike moves the levels: re-score now (the CoinGlass refresh is requested by the edge on this event).
        evaluate(state, staticWeights, msg.tsInit, true, ctx);
      }
      if (state.armed !== undefined) {
        const outcome = state.trigger.evaluate(state.armed, f, msg.tsInit);
        if (outcome.fired) {
          state.signals++;
          ctx.emit({ kind: 'signal', signal: outcome.signal, emittedAt: ctx.clock.now() });
        }
      }
      if (!state.evaluationArmed) {
        state.evaluationArmed = true;
        const at = nextGridTime(ctx.clock.now(), evaluateIntervalMs, phaseOf(state.symbol, evaluateIntervalMs));
        ctx.setTimer('evaluate', at, { kind: 'evaluate', atMs: at, refresh: false });
      }
      return state;
    },
  };
}

function evaluate(
  state: SymbolState,
  staticWeights: Readonly<Partial<Record<HeatmapRange, number>>>,
  atMs: number,
  refresh: boolean,
  ctx: { emit(e: SymbolActorOutput): void; tell(target: string, msg: unknown): void },
  compared?: SourceDistance,
): void {
  const oc = state.outcomeConfig;
  if (oc.weights === 'learned') state.liquidity.setRangeWeights(learnedRangeWeights(staticWeights, state.outcomes.rates.rates(atMs), oc.reliable));
  const result = state.liquidity.evaluate(atMs);
  if (result === undefined) return;
  state.lastAssessment = result.assessment;
  state.outcomes.follow(atMs, state.liquidity.refPrice, result.assessment.ranges);
  const typical = state.liquidity.typicalEntries();
  ctx.emit({ kind: 'evaluated', symbol: state.symbol, atMs, snapshots: result.snapshots, assessment: result.assessment, typical, ...(compared ? { compared } : {}) });
  ctx.tell(RANKER_ID, { kind: 'assessed', assessment: result.assessment, refresh });
}

const finiteOrNull = (n: number) => (Number.isFinite(n) ? n : null);

/** JSON view of a symbol actor for the operator endpoint (NaN becomes null). */
export function describeSymbol(state: SymbolState): Record<string, unknown> {
  const features: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(state.features)) features[k] = typeof v === 'number' ? finiteOrNull(v) : v;
  const a = state.lastAssessment;
  return {
    symbol: state.symbol,
    features,
    liquidation:
      a === undefined
        ? null
        : {
            evaluatedAt: a.evaluatedAtMs,
            direction: a.direction,
            imbalance: finiteOrNull(a.imbalance),
            score: finiteOrNull(a.score),
            clusterPct: finiteOrNull(a.clusterPct),
            target: a.target ?? null,
            opposite: a.opposite ?? null,
            threshold: a.threshold,
            ranges: a.ranges.map((r) => ({
              range: r.range, source: r.source, ageMs: r.ageMs, thresholdUsd: r.thresholdUsd, typicalUsd: r.typical?.usd ?? null, typicalSamples: r.typical?.samples ?? 0, clusters: r.clusters,
            })),
          },
    clusterOutcomes: describeOutcomes(state),
    armed: state.armed !== undefined,
    signals: state.signals,
    counts: { tickers: state.tickers, tradeFrames: state.tradeFrames, liquidationFrames: state.liquidationFrames, spikes: state.spikes },
    lastSpike: state.lastSpike ?? null,
    lastTsInit: finiteOrNull(state.lastTsInit),
  };
}

/**
 * Hit rates per range over the window ending at the last event, the reliable ranges, and the weights the next
 * evaluation uses (static, or learned from these rates).
 */
function describeOutcomes(state: SymbolState): Record<string, unknown> {
  const oc = state.outcomeConfig;
  const at = Number.isFinite(state.lastTsInit) ? state.lastTsInit : 0;
  const rates = state.outcomes.rates.rates(at);
  return {
    following: state.outcomes.openCount,
    windowDays: oc.windowMs / 86_400_000,
    minHitRate: oc.reliable.minHitRate,
    minOutcomes: oc.reliable.minOutcomes,
    ranges: rates,
    reliableRanges: reliableRanges(rates, oc.reliable),
    rangeWeights: oc.weights,
  };
}
