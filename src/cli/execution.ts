import type { DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';
import { COINGLASS_RANGES } from './coinglass.js';
import type { Registry } from 'prom-client';
import { ActorSystem, type ActorRef } from '../actors/actor-system.js';
import { DEFAULT_EXECUTION_CONFIG, EXECUTION_ID, executionActor, type ExecutionConfig } from '../actors/execution-actor.js';
import { snapshotExecution, type ExecutionMessage, type ExecutionOutput, type ExecutionSnapshot, type ExecutionState, type TradeRecord } from '../actors/execution-state.js';
import type { Clock } from '../core/clock.js';
import type { Broker, OrderView } from '../core/broker.js';
import type { MarketEvent } from '../core/events.js';
import type { InstrumentRules } from '../core/instrument-rounding.js';
import { DEFAULT_PLAN_CONFIG } from '../core/trade-plan.js';
import { DEFAULT_TRAILING_STEPS } from '../core/trailing-stop.js';
import type { Engine, EngineOutput } from '../engine/engine.js';
import type { BatchWriter } from '../sinks/db/batch-writer.js';
import type { Database } from '../sinks/db/database.js';
import { ExecutionStateStore } from '../sinks/db/execution-state-store.js';
import { loadTradeHistory } from '../sinks/db/trade-history.js';
import { registerExecutionMetrics, type ExecutionMetrics } from '../sinks/execution-metrics.js';
import type { Logger } from '../sinks/logger.js';
import { DEFAULT_PAPER_BROKER_CONFIG, PaperBroker, type PaperBrokerConfig, type PaperBrokerState } from '../sinks/paper-broker.js';
import { startBybitTrading, type VenueStatus } from './bybit-trading.js';
import type { Config } from './config.js';
import { loadPatterns, RowCoalescer } from './execution-rows.js';

/** Settings → the actor's and the paper broker's configuration (percent settings become fractions). */
export function executionSettings(trading: Config['trading'], coinglassAvailable: boolean): { execution: ExecutionConfig; paper: PaperBrokerConfig } {
  const plan = {
    ...DEFAULT_PLAN_CONFIG,
    targetChoice: trading.targetCluster,
    slippageFraction: trading.paperSlippagePct / 100,
    defaultWickStopFraction: trading.wickStopDefaultPct / 100,
    minStopFraction: trading.stopMinPct / 100,
    maxStopFraction: trading.stopMaxPct / 100,
    ladder: { rungs: trading.ladderRungs, sizeRatio: trading.ladderSizeRatio, beyondClusterFraction: trading.ladderBeyondClusterPct / 100, blackSwanStopFraction: trading.ladderBlackSwanPct / 100 },
    sizing: { ...DEFAULT_PLAN_CONFIG.sizing, riskFraction: trading.riskPerTradePct / 100, maxLeverage: trading.maxLeverage },
  };
  return {
    execution: {
      ...DEFAULT_EXECUTION_CONFIG,
      plan,
      styles: trading.entryStyles,
      defaultStyle: trading.entryStyle,
      risk: {
        ...DEFAULT_EXECUTION_CONFIG.risk,
        dailyLossLimitFraction: trading.dailyLossLimitPct / 100,
        maxConcurrentPositions: trading.maxPositions,
        maxExposurePerCoinFraction: trading.maxExposurePerCoin,
        maxExposureTotalFraction: trading.maxExposureTotal,
      },
      trailing: { basis: trading.trailingBasis, steps: DEFAULT_TRAILING_STEPS, exitFeeRate: plan.takerFeeRate },
      reversal: { enabled: trading.reversalEnabled, reversalStopFraction: trading.reversalStopPct / 100 },
      maxDataAgeMs: trading.liquidationDataMaxAgeMs,
      refreshTimeoutMs: trading.pretradeRefreshTimeoutMs,
      coinglassAvailable,
      entryTimeoutMs: trading.entryTimeoutMs,
    },
    paper: { ...DEFAULT_PAPER_BROKER_CONFIG, initialDepositUsd: trading.paperInitialBalanceUsd, slippageFraction: trading.paperSlippagePct / 100, triggerBy: trading.paperTriggerBy },
  };
}

/**
 * A broker the part trades on: the port, plus what the paper broker (prices from the market tap) or a venue
 * (orders it sent) offers the operator views.
 */
export type TradingBroker = Broker & {
  onPrice?(symbol: string, lastPrice: number, markPrice: number): void;
  recentOrders(): OrderView[];
};

export interface ExecutionPartOptions {
  readonly clock: Clock;
  readonly engine: Pick<Engine, 'setSuccessRates' | 'marketTap'>;
  readonly execution: ExecutionConfig;
  readonly paper: PaperBrokerConfig;
  /** The store: state documents, learned patterns and rows. Without it (replay, bench) nothing persists. */
  readonly store?: { readonly db: Database; readonly writer: BatchWriter };
  /** Awaited before the saved state is loaded (the store's migrations). */
  readonly storeReady?: Promise<void>;
  readonly instruments?: (symbol: string) => InstrumentRules | undefined;
  readonly registry?: Registry;
  readonly log?: Logger;
  /** Every execution output (replay digest, tests). */
  readonly onOutput?: (output: ExecutionOutput) => void;
  /** The pre-trade CoinGlass refresh (the plan waits for the resulting `evaluated`, with a timeout). */
  readonly requestRefresh?: (symbol: string) => void;
  /** Delay before state and coalesced rows are saved; 0 saves after every message (tests). */
  readonly persistDelayMs?: number;
  readonly killSwitch?: boolean;
  /**
   * The broker to trade on (a started Bybit venue's). Without it the part builds the paper broker from `paper`
   * and its saved state (replay, bench and TRADING_MODE=paper).
   */
  readonly broker?: TradingBroker;
  /** The exchange session's state (stream, last reconciliation), shown by /positions, /orders and /risk. */
  readonly venueStatus?: () => VenueStatus;
}

/**
 * The trading part of the daemon: the paper broker, the ExecutionActor in its own synchronous actor system (on
 * the engine's clock, so replay is deterministic), rows, metrics, persistence and the operator views. `run`,
 * `replay` and the bench start it with `startExecution` and stop it with `stop()`.
 */
export interface ExecutionPart {
  readonly broker: TradingBroker;
  readonly ref: ActorRef<ExecutionMessage, ExecutionState>;
  /** Hand every engine output here; signals, evaluations and bars go to the actor. */
  onEngineOutput(event: EngineOutput): void;
  /** HTTP routes: /positions, /orders, /trades?limit=, /trades/history?limit=&before=, /risk. */
  routes(): Record<string, (query: URLSearchParams) => unknown>;
  /** This agent's closed trades since `fromMs` (trade id → net PnL USDT) from the store; undefined without one. */
  closedSince(fromMs: number): Promise<ReadonlyMap<string, number> | undefined>;
  /** Saves state and rows now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startExecution(opts: ExecutionPartOptions): Promise<ExecutionPart> {
  await opts.storeReady;
  const stateStore = opts.store === undefined ? undefined : new ExecutionStateStore(opts.store.db);
  // The actor's state is kept per venue: paper trades never meet a Bybit account's, nor testnet's live ones.
  const execKey = opts.broker === undefined ? 'execution' : `execution-${opts.broker.venue}`;
  const [brokerDoc, execDoc, patterns] = stateStore === undefined ? [undefined, undefined, []] : await Promise.all([
    opts.broker === undefined ? stateStore.load<PaperBrokerState>('paper-broker') : undefined,
    stateStore.load<ExecutionSnapshot>(execKey),
    loadPatterns(opts.store!.db),
  ]);
  const paper = opts.broker === undefined ? new PaperBroker(() => opts.clock.now(), opts.paper, brokerDoc?.state) : undefined;
  const broker: TradingBroker = paper ?? opts.broker!;
  const rows = opts.store === undefined ? undefined : new RowCoalescer(opts.store.writer, opts.execution.agentName, opts.execution.successPrior);
  let metrics: ExecutionMetrics | undefined;
  /** Signal time (tsInit) of each order sent and not yet answered, for the signal → acknowledged latency. */
  const signalAtByLinkId = new Map<string, number>();
  const system = new ActorSystem<ExecutionOutput>({
    clock: opts.clock,
    drain: { mode: 'sync' },
    onOutput: (o) => {
      if (o.kind === 'order-sent') {
        metrics?.observeSignalToOrder(o.latencyMs);
        // The paper broker answers inside submit, before this output: only an asynchronous venue is measured.
        if (metrics !== undefined && opts.broker !== undefined && signalAtByLinkId.size < 10_000) signalAtByLinkId.set(o.orderLinkId, o.tsMs - o.latencyMs);
      }
      else if (o.kind === 'success-rates') opts.engine.setSuccessRates(o.rates);
      else if (o.kind === 'refresh-requested') opts.requestRefresh?.(o.symbol);
      else if (o.kind === 'risk') opts.log?.warn({ risk: o.transition }, `risk ${o.transition.from} → ${o.transition.to}: ${o.transition.reason}`);
      else if (o.kind === 'order-refused') opts.log?.info({ refusal: o }, `refused ${o.symbol}: ${o.reason}`);
      else if (o.kind === 'trade' && (o.trade.status === 'closed' || o.trade.status === 'open')) opts.log?.info({ trade: o.trade.tradeId, status: o.trade.status, pnlUsd: o.trade.pnlUsd }, `trade ${o.trade.status} ${o.trade.symbol}`);
      rows?.output(o);
      opts.onOutput?.(o);
      scheduleSave();
    },
    onSystemEvent: (e) => opts.log?.error({ event: e }, `execution actor ${e.kind}: ${e.error}`),
  });
  const ref = system.spawn(EXECUTION_ID, executionActor(opts.execution, { broker, instruments: opts.instruments ?? (() => undefined), restored: execDoc?.state, patterns }));
  // Coins with a position or an open order get prices. Rebuilt lazily on the next market event after a broker
  // event, not inside the broker's own submit (the paper broker reports fills synchronously, on the order path).
  const watchedSet = new Set<string>();
  let watchedStale = true;
  const watched = (): Set<string> => {
    if (watchedStale) {
      watchedStale = false;
      watchedSet.clear();
      for (const p of broker.positions()) watchedSet.add(p.symbol);
      for (const o of broker.openOrders()) watchedSet.add(o.symbol);
    }
    return watchedSet;
  };
  broker.subscribe((event) => {
    if (event.kind === 'order-accepted' || event.kind === 'order-rejected') {
      const at = signalAtByLinkId.get(event.order.orderLinkId);
      signalAtByLinkId.delete(event.order.orderLinkId);
      if (at !== undefined && event.kind === 'order-accepted') metrics?.observeSignalToAck(opts.clock.now() - at);
    }
    if (event.kind !== 'trading-stop-set' && event.kind !== 'position-closed') rows?.order(event.order, broker.venue, ref.peek()?.tradeByLinkId.get(event.order.orderLinkId));
    watchedStale = true;
    ref.tell({ kind: 'broker', event });
  });
  opts.engine.marketTap = (event: MarketEvent) => {
    if (event.kind === 'liquidations' || !watched().has(event.symbol)) return;
    const mark = event.kind === 'ticker' ? event.markPrice : NaN;
    broker.onPrice?.(event.symbol, event.lastPrice, mark);
    if (event.kind === 'ticker') ref.tell({ kind: 'mark', symbol: event.symbol, lastPrice: event.lastPrice, markPrice: mark, tsInit: event.tsInit });
  };

  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const saveNow = (): Promise<void> => {
    if (saveTimer !== undefined) clearTimeout(saveTimer);
    saveTimer = undefined;
    rows?.flush();
    const state = ref.peek();
    if (stateStore === undefined || state === undefined) return saving;
    const at = opts.clock.now();
    const brokerState = paper?.snapshot();
    const execState = snapshotExecution(state);
    saving = saving
      .then(() => Promise.all([brokerState === undefined ? undefined : stateStore.save('paper-broker', brokerState, at), stateStore.save(execKey, execState, at)]))
      .then(() => undefined)
      .catch((err: unknown) => opts.log?.error({ err: err instanceof Error ? err.message : String(err) }, 'execution state not saved; retried on the next change'));
    return saving;
  };
  function scheduleSave(): void {
    if (opts.store === undefined || saveTimer !== undefined) return;
    saveTimer = setTimeout(() => void saveNow(), opts.persistDelayMs ?? 200);
  }

  if (opts.registry !== undefined) {
    metrics = registerExecutionMetrics(opts.registry, {
      counters: () => ref.peek()?.counters ?? { signals: 0, ordersSent: 0, ordersFilled: 0, refused: {} },
      account: () => broker.account(),
      openPositions: () => broker.positions().length,
      riskMode: () => ref.peek()?.risk?.mode,
    });
  }
  ref.tell({ kind: 'start' });
  if (opts.killSwitch === true) ref.tell({ kind: 'kill-switch', on: true });

  const exchange = (): { exchange?: VenueStatus } => (opts.venueStatus === undefined ? {} : { exchange: opts.venueStatus() });
  const tradeView = (t: TradeRecord) => ({ ...t, entryFills: t.entryFills.length, exitFills: t.exitFills.length });
  return {
    broker,
    ref,
    onEngineOutput(event) {
      if (event.kind === 'signal') {
        // The broker needs the price the signal fired at for a market entry on a coin it does not watch yet.
        if (!watched().has(event.signal.symbol)) broker.onPrice?.(event.signal.symbol, event.signal.features.lastPrice, NaN);
        ref.tell(event);
      } else if (event.kind === 'evaluated' || event.kind === 'bar') ref.tell(event);
    },
    routes() {
      return {
        '/positions': () => {
          const s = ref.peek();
          return {
            positions: broker.positions().map((p) => {
              const id = s?.activeBySymbol.get(p.symbol);
              const t = id === undefined ? undefined : s?.trades.get(id);
              const roePct = p.marginUsd > 0 ? (p.unrealizedPnlUsd / p.marginUsd) * 100 : 0;
              return { ...p, roePct, tradeId: id ?? null, style: t?.style ?? null, trailingStep: t?.trailingStep ?? null, notes: t?.notes ?? [] };
            }),
            account: broker.account(),
            ...exchange(),
          };
        },
        '/orders': () => ({ venue: broker.venue, open: broker.openOrders(), recent: broker.recentOrders().slice(-100).reverse(), ...exchange() }),
        '/trades': (q) => {
          const limit = Math.min(500, Math.max(1, Number(q.get('limit') ?? 50) || 50));
          const s = ref.peek();
          const all = [...(s?.trades.values() ?? []), ...(s?.recentClosed ?? [])].sort((a, b) => b.createdAtMs - a.createdAtMs);
          return { trades: all.slice(0, limit).map(tradeView) };
        },
        // Every trade, newest first, from the store (the route above keeps the open and the last closed only).
        '/trades/history': (q) => {
          if (opts.store === undefined) return { trades: [], stored: false };
          const before = q.get('before');
          return loadTradeHistory(opts.store.db, opts.execution.agentName, Number(q.get('limit') ?? 100) || 100, before === null ? undefined : Number(before)).then((trades) => ({
            trades,
            stored: true,
            nextBefore: trades.length > 0 ? trades[trades.length - 1]!.openedAtMs : null,
          }));
        },
        '/risk': () => {
          const s = ref.peek();
          return { risk: s?.risk ?? null, limits: opts.execution.risk, account: broker.account(), counters: s?.counters ?? null, ...exchange() };
        },
      };
    },
    async closedSince(fromMs) {
      if (opts.store === undefined) return undefined;
      const r = await opts.store.db.query<{ trade_id: string; pnl_usd: number | null }>(
        `SELECT trade_id, pnl_usd FROM trades WHERE agent_name = $1 AND status = 'closed' AND closed_at > $2`,
        [opts.execution.agentName, new Date(Math.max(0, fromMs)).toISOString()],
      );
      return new Map(r.rows.map((t) => [t.trade_id, t.pnl_usd ?? 0]));
    },
    flush: saveNow,
    async stop() {
      opts.engine.marketTap = undefined;
      system.drain();
      await saveNow();
    },
  };
}

/**
 * Trading as a daemon part. Its state loads once the store has its schema (never trade without the saved
 * positions), so `start` kicks the load off and returns at once: a database that is down delays trading, not the
 * daemon. TRADING_MODE picks the broker: `paper` the paper broker; `testnet`, `demo` and `live` a Bybit venue,
 * which must start (keys, one-way mode, first reconciliation) before the actor sees a signal. A venue that refuses
 * to start means no trading at all, one error line, and `/risk` saying why; never a silent fallback to paper.
 * `stop` runs before the engine drains, so signals raised during shutdown open nothing; the venue stops after the
 * actor, so the actor's last commands still reach the exchange.
 */
export function executionPart(w: DaemonWiring): Part {
  const { config, log } = w;
  const signalRanges = COINGLASS_RANGES.filter((r) => (config.signalRangeWeights[r] ?? 0) > 0);
  let starting: Promise<void> = Promise.resolve();
  let venueStop: (() => Promise<void>) | undefined;
  return {
    name: 'execution',
    start() {
      const engine = w.engine;
      if (engine === undefined || config.trading.mode === 'off') {
        log.info('trading off (TRADING_MODE=off): signals are logged and stored, no orders are planned');
        return;
      }
      const coinglass = w.coinglass;
      const common: ExecutionPartOptions = {
        clock: w.clock,
        engine,
        ...executionSettings(config.trading, coinglass !== undefined),
        store: w.storage,
        storeReady: w.storage?.migrated,
        instruments: (s) => w.instruments.get(s),
        registry: w.metrics.registry,
        log,
        killSwitch: config.trading.killSwitch,
        onOutput: (o) => {
          w.operatorConsole?.onExecutionOutput(o);
          w.notifier?.onExecutionOutput(o);
        },
        // The pre-trade lane: fresh snapshots reach the engine, whose next evaluation the plan is waiting for.
        requestRefresh: (symbol) => void coinglass?.refreshForTrade(symbol, signalRanges, config.trading.pretradeRefreshTimeoutMs),
      };
      const failed = (err: unknown): void => log.error({ err: err instanceof Error ? err.message : String(err) }, 'trading disabled: execution state could not be loaded');
      if (config.trading.mode === 'paper') {
        starting = startExecution(common).then((part) => {
          w.execution = part;
          log.info({ venue: part.broker.venue, equityUsd: part.broker.account().equityUsd, positions: part.broker.positions().length }, 'trading on the paper broker');
        }, failed);
      } else {
        const mode = config.trading.mode;
        starting = startBybitTrading(config, log, w.metrics.registry).then(async (b) => {
          if (!b.ok) {
            w.tradingRefusal = { venue: `bybit-${mode}`, reason: b.reason, message: b.message, atMs: w.clock.now() };
            log.error({ venue: `bybit-${mode}`, reason: b.reason }, `trading disabled: the Bybit ${mode} venue refused to start: ${b.message}`);
            return;
          }
          // The actor's last commands (cancels on HALTED, stop moves) reach the exchange before the venue stops.
          venueStop = async () => {
            await b.trading.broker.idle();
            await b.trading.venue.stop();
          };
          try {
            const part = await startExecution({ ...common, broker: b.trading.broker, venueStatus: () => b.trading.status() });
            w.execution = part;
            const a = part.broker.account();
            log.info({ venue: part.broker.venue, equityUsd: a.equityUsd, positions: part.broker.positions().length, openOrders: part.broker.openOrders().length }, `trading on Bybit ${mode}`);
          } catch (err) {
            failed(err);
            w.tradingRefusal = { venue: `bybit-${mode}`, reason: 'STATE_UNREADABLE', message: err instanceof Error ? err.message : String(err), atMs: w.clock.now() };
            venueStop = undefined;
            await b.trading.venue.stop();
          }
        }, failed);
      }
      w.executionStarted = starting;
    },
    async stop() {
      await starting;
      const part = w.execution;
      w.execution = undefined;
      await part?.stop();
      await venueStop?.();
      venueStop = undefined;
    },
  };
}
