import type { Broker, BrokerEvent } from '../core/broker.js';
import { fallbackInstrumentRules, orderLinkIdFor, signalIdOf } from '../core/execution-ids.js';
import type { RangedCluster } from '../core/imbalance.js';
import type { CoinAssessment } from '../core/ranking.js';
import type { InstrumentRules } from '../core/instrument-rounding.js';
import { DEFAULT_SUCCESS_PRIOR, successRatesBySymbol, type PatternStats, type SuccessPrior } from '../core/pattern-stats.js';
import { isRefusal, type Refusal, type RefusalReason } from '../core/refusal.js';
import { DEFAULT_REVERSAL_CONFIG, planReversal, type ReversalConfig } from '../core/reversal.js';
import { checkEntry, DEFAULT_RISK_LIMITS, initialRiskState, setKillSwitch, updateRisk, type RiskLimits } from '../core/risk-state.js';
import { DEFAULT_PLAN_CONFIG, planTrade, type EntryStyle, type PlanConfig, type TradePlan } from '../core/trade-plan.js';
import { baseCoin } from '../core/thresholds.js';
import { DEFAULT_TRAILING_STEPS, type TrailingConfig } from '../core/trailing-stop.js';
import type { Signal } from '../core/trigger.js';
import type { ActorBehavior, ActorContext } from './actor-system.js';
import { addTrade, initialExecutionState, tradeSnapshot, markSeen, retireTrade, wickTrackerOf, type ExecutionMessage, type ExecutionOutput, type ExecutionSnapshot, type ExecutionState, type TradeRecord } from './execution-state.js';
import { onMark, onPositionClosed } from './position-monitor.js';
import { applyControl } from './operator-control.js';

export const EXECUTION_ID = 'execution';

export interface ExecutionConfig {
  readonly agentName: string;
  readonly plan: PlanConfig;
  /** Entry style per base coin (`SOL: 'aggressive'`); others use `defaultStyle`. BTC/ETH are scaled regardless. */
  readonly styles: Readonly<Record<string, EntryStyle>>;
  readonly defaultStyle: EntryStyle;
  readonly risk: RiskLimits;
  readonly trailing: TrailingConfig;
  readonly reversal: ReversalConfig & { readonly enabled: boolean };
  /** Liquidation data older than this is refreshed before a trade (founder: 5 min). */
  readonly maxDataAgeMs: number;
  /** How long a plan waits for the CoinGlass refresh before it is refused `STALE_LIQUIDATION_DATA`. */
  readonly refreshTimeoutMs: number;
  /** Whether a CoinGlass key is configured (without one the own estimate is used and the plan says so). */
  readonly coinglassAvailable: boolean;
  /** Entries still unfilled after this are cancelled. */
  readonly entryTimeoutMs: number;
  readonly successPrior: SuccessPrior;
  /** Minute bars needed before the wick stop uses the coin's own wicks. */
  readonly minWickBars: number;
}

export const DEFAULT_EXECUTION_CONFIG: ExecutionConfig = {
  agentName: 'execution',
  plan: DEFAULT_PLAN_CONFIG,
  styles: {},
  defaultStyle: 'conservative',
  risk: DEFAULT_RISK_LIMITS,
  trailing: { basis: 'roe', steps: DEFAULT_TRAILING_STEPS, exitFeeRate: DEFAULT_PLAN_CONFIG.takerFeeRate },
  reversal: { ...DEFAULT_REVERSAL_CONFIG, enabled: true },
  maxDataAgeMs: 5 * 60_000,
  refreshTimeoutMs: 30_000,
  coinglassAvailable: false,
  entryTimeoutMs: 6 * 3_600_000,
  successPrior: DEFAULT_SUCCESS_PRIOR,
  minWickBars: 1440,
};

export interface ExecutionDeps {
  readonly broker: Broker;
  /** Exchange filters per symbol (instruments-info); undefined falls back to `fallbackInstrumentRules`. */
  readonly instruments: (symbol: string) => InstrumentRules | undefined;
  readonly restored?: ExecutionSnapshot;
  /** `coin_liquidation_patterns` rows loaded from the store at start. */
  readonly patterns?: readonly PatternStats[];
}

export type ExecutionCtx = ActorContext<ExecutionOutput>;

/** Hand-off times of one plan's orders (at most a ladder's rungs), reused: one plan is sent at a time. */
let sentAt = new Float64Array(32);
function sentAtScratch(n: number): Float64Array {
  if (sentAt.length < n) sentAt = new Float64Array(n);
  return sentAt;
}

/**
 * The ExecutionActor: SignalRaised in, orders out through the Broker port, well inside a millisecond. Dedupes
 * by signal id, checks the liquidation data's freshness, plans the founder's way, checks risk, and sends orders
 * with idempotent `orderLinkId`s; then follows every trade through its fills, trailing stop and close (see
 * position-monitor.ts) and learns from it. Refusals are outputs with a stable reason, never exceptions.
 */
export function executionActor(config: ExecutionConfig, deps: ExecutionDeps): ActorBehavior<ExecutionState, ExecutionMessage, ExecutionOutput> {
  return {
    kind: 'execution',
    mailboxCapacity: 4096,
    init: () => initialExecutionState(deps.restored, deps.patterns),
    receive(state, msg, ctx) {
      switch (msg.kind) {
        case 'start':
          // Timers are not persisted: a restored trade's entry timeout is armed again from its creation time.
          for (const t of state.trades.values()) ctx.setTimer(`entry:${t.tradeId}`, t.createdAtMs + config.entryTimeoutMs, { kind: 'entry-timeout', tradeId: t.tradeId });
          refreshRisk(state, ctx);
          ctx.emit({ kind: 'success-rates', rates: [...successRatesBySymbol([...state.patterns.values()], config.successPrior)] });
          return state;
        case 'signal':
          onSignal(state, msg.signal, ctx);
          return state;
        case 'evaluated': {
          state.assessments.set(msg.symbol, msg.assessment);
          state.clusters.set(msg.symbol, { long: clustersOnSide(msg.assessment, 'long'), short: clustersOnSide(msg.assessment, 'short') });
          for (const [id, signal] of state.pendingFresh) {
            if (signal.symbol !== msg.symbol || !isFresh(msg.assessment.ranges, signal, config.maxDataAgeMs)) continue;
            state.pendingFresh.delete(id);
            ctx.cancelTimer(`fresh:${id}`);
            planAndSend(state, signal, id, ctx, []);
          }
          return state;
        }
        case 'bar':
          wickTrackerOf(state, msg.symbol, config.minWickBars).onBar(msg.minuteMs, msg.open, msg.high, msg.low, msg.close);
          return state;
        case 'wick-stats':
          state.historicalWicks.set(msg.symbol, msg);
          return state;
        case 'mark':
          onMark(state, msg.symbol, msg.lastPrice, msg.markPrice, ctx, config, deps);
          return state;
        case 'broker':
          onBrokerEvent(state, msg.event, ctx);
          return state;
        case 'fresh-timeout': {
          const signal = state.pendingFresh.get(msg.signalId);
          if (signal === undefined) return state;
          state.pendingFresh.delete(msg.signalId);
          refused(state, ctx, msg.signalId, signal.symbol, { reason: 'STALE_LIQUIDATION_DATA', message: `no fresh liquidation data within ${config.refreshTimeoutMs} ms` });
          return state;
        }
        case 'entry-timeout': {
          const t = state.trades.get(msg.tradeId);
          if (t !== undefined) cancelEntries(t);
          return state;
        }
        case 'kill-switch': {
          const r = setKillSwitch(state.risk ?? initialRiskState(ctx.clock.now(), deps.broker.account().equityUsd), msg.on, ctx.clock.now());
          state.risk = r.state;
          if (r.transition !== undefined) onRiskTransition(state, r, ctx);
          return state;
        }
        case 'control':
          applyControl(state, msg, ctx, { broker: deps.broker, cancelEntries, onRiskTransition });
          return state;
      }
    },
  };

  function refreshRisk(state: ExecutionState, ctx: ExecutionCtx): void {
    const now = ctx.clock.now();
    const equity = deps.broker.account().equityUsd;
    const r = updateRisk(state.risk ?? initialRiskState(now, equity), now, equity, config.risk);
    state.risk = r.state;
    if (r.transition !== undefined) onRiskTransition(state, r, ctx);
  }

  /** Emits the change; HALTED cancels every pending entry (stops stay on the venue). */
  function onRiskTransition(state: ExecutionState, r: ReturnType<typeof updateRisk>, ctx: ExecutionCtx): void {
    ctx.emit({ kind: 'risk', transition: r.transition!, state: r.state });
    if (r.state.mode === 'HALTED') for (const t of state.trades.values()) cancelEntries(t);
  }

  /** Cancels the trade's unfilled entries; the broker's cancel events then settle a trade left with no fill. */
  function cancelEntries(t: TradeRecord): void {
    const open = new Set(deps.broker.openOrders().map((o) => o.orderLinkId));
    for (const id of t.entryLinkIds) if (open.has(id)) deps.broker.submit({ kind: 'cancel', symbol: t.symbol, orderLinkId: id });
  }

  function onSignal(s: ExecutionState, signal: Signal, ctx: ExecutionCtx): void {
    const id = signalIdOf(signal.symbol, signal.tsInit);
    s.counters.signals++;
    if (!markSeen(s, id)) {
      refused(s, ctx, id, signal.symbol, { reason: 'DUPLICATE_SIGNAL', message: `signal ${id} was already handled` });
      return;
    }
    refreshRisk(s, ctx);
    const notes: string[] = [];
    const range = signal.target?.range;
    const ageMs = range === undefined ? undefined : signal.heatmapAgesMs[range];
    if (ageMs !== undefined && ageMs > config.maxDataAgeMs) {
      if (config.coinglassAvailable) {
        s.pendingFresh.set(id, signal);
        ctx.setTimer(`fresh:${id}`, ctx.clock.now() + config.refreshTimeoutMs, { kind: 'fresh-timeout', signalId: id });
        ctx.emit({ kind: 'refresh-requested', symbol: signal.symbol, signalId: id, tsMs: ctx.clock.now() });
        return;
      }
      notes.push(`liquidation data ${Math.round(ageMs / 1000)} s old; no CoinGlass key, own estimate used`);
    }
    planAndSend(s, signal, id, ctx, notes);
  }

  function planAndSend(s: ExecutionState, signal: Signal, id: string, ctx: ExecutionCtx, notes: string[], reversalOf?: TradeRecord): void {
    if (s.activeBySymbol.has(signal.symbol)) {
      refused(s, ctx, id, signal.symbol, { reason: 'RISK_POSITION_OPEN', message: `${signal.symbol} already has a trade in flight` });
      return;
    }
    const price = signal.features.lastPrice;
    const rules = deps.instruments(signal.symbol) ?? fallbackInstrumentRules(signal.symbol, price);
    const account = deps.broker.account();
    // One pass over the trades in flight: margin their pending entries reserve, and their notional for the risk check.
    let reserved = 0;
    const pendingEntries: { symbol: string; notionalUsd: number }[] = [];
    for (const t of s.trades.values()) {
      if (t.status !== 'pending') continue;
      reserved += (t.plannedEntryPrice * t.plannedQty) / t.leverage;
      pendingEntries.push({ symbol: t.symbol, notionalUsd: t.plannedEntryPrice * t.plannedQty });
    }
    const market = { currentPrice: price, volatilityFraction: s.wicks.get(signal.symbol)?.volatilityFraction(), equityUsd: account.equityUsd, freeMarginUsd: Math.max(0, account.balanceUsd - reserved), rules };
    const assessment = s.assessments.get(signal.symbol);
    const known = s.clusters.get(signal.symbol)?.[signal.direction === 'LONG' ? 'short' : 'long'];
    // The wick stop: the coin's historical max wick against the trade from the store when enough history is held,
    // else the live 24 h minute-bar tracker once it has a day of bars, else the plan's default (8 %).
    const hist = s.historicalWicks.get(signal.symbol);
    const histWick = signal.direction === 'LONG' ? hist?.longFraction : hist?.shortFraction;
    if (histWick !== undefined && reversalOf === undefined) notes.push(`wick stop ${(histWick * 100).toFixed(2)} %: ${hist!.basis}`);
    const maxWickFraction = histWick ?? s.wicks.get(signal.symbol)?.maxAdverseWickFraction(signal.direction);
    const ahead = known !== undefined && known.length > 0 ? known : signal.target !== undefined ? [signal.target] : [];
    const plan: TradePlan | Refusal =
      reversalOf !== undefined
        ? planReversal({ symbol: signal.symbol, direction: reversalOf.direction }, signal.opposite!, ahead, market, config.plan, config.reversal)
        : planTrade(
            {
              symbol: signal.symbol, direction: signal.direction, style: config.styles[baseCoin(signal.symbol)] ?? config.defaultStyle, clustersAhead: ahead,
              opposite: signal.opposite, maxWickFraction, ...market,
            },
            config.plan,
          );
    if (isRefusal(plan)) return refused(s, ctx, id, signal.symbol, plan);
    const notional = plan.entries.reduce((a, e) => a + e.qty * e.priceUsd, 0);
    const view = {
      equityUsd: account.equityUsd,
      positions: deps.broker.positions().map((p) => ({ symbol: p.symbol, notionalUsd: p.qty * p.markPrice })),
      pendingEntries,
    };
    const risk = checkEntry(s.risk!, view, { symbol: plan.symbol, notionalUsd: notional, stopLossPrice: plan.stopLossPrice, lossAtStopUsd: plan.lossAtStopUsd, riskBudgetUsd: plan.riskBudgetUsd }, config.risk);
    if (risk !== undefined) return refused(s, ctx, id, signal.symbol, risk);
    const targetRange = plan.target.range;
    const source = assessment?.ranges.find((r) => r.range === targetRange)?.source ?? 'estimate';
    const now = ctx.clock.now();
    const purpose = reversalOf !== undefined ? 'r' : 'e';
    const trade: TradeRecord = {
      tradeId: id, signalId: id, symbol: plan.symbol, direction: plan.direction, style: plan.style, status: 'pending',
      plannedEntryPrice: plan.avgEntryPrice, plannedQty: plan.qty, leverage: plan.leverage, riskBudgetUsd: plan.riskBudgetUsd,
      lossAtStopUsd: plan.lossAtStopUsd, stopRule: plan.stopRule, notes: [...notes, ...plan.notes], range: targetRange,
      targetClusterUsd: plan.target.usd, liquidationSource: source,
      entryFeeRate: plan.entries[0]!.orderType === 'Market' ? config.plan.takerFeeRate : config.plan.makerFeeRate,
      entryLinkIds: plan.entries.map((e) => orderLinkIdFor(plan.symbol, signal.tsInit, purpose, e.rung)), entryFills: [], exitFills: [],
      stopLossPrice: plan.stopLossPrice, takeProfitPrice: plan.takeProfitPrice, trailingStep: -1, createdAtMs: now,
      openedAtMs: undefined, closedAtMs: undefined, exitReason: undefined, pnlUsd: undefined, pnlPct: undefined, feesUsd: 0,
      reversalOf: reversalOf?.tradeId, updatedAtMs: now,
    };
    addTrade(s, trade);
    // The orders go to the broker first; everything else (the trade's output, which the daemon stores and logs,
    // the order-sent outputs, which feed metrics, and the entry timeout) follows the hand-off. Each order's
    // latency is taken when its submit returns.
    const side = plan.direction === 'LONG' ? 'Buy' : 'Sell';
    const entries = plan.entries;
    const handedAtMs = sentAtScratch(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      deps.broker.submit({
        kind: 'place', orderLinkId: trade.entryLinkIds[i]!, symbol: plan.symbol, side, orderType: e.orderType, qty: e.qty, priceUsd: e.priceUsd, reduceOnly: false,
        stopLossPrice: plan.stopLossPrice, takeProfitPrice: plan.takeProfitPrice, leverage: plan.leverage,
      });
      handedAtMs[i] = ctx.clock.now();
    }
    s.counters.ordersSent += entries.length;
    ctx.emit({ kind: 'trade', trade: tradeSnapshot(trade), tsMs: now });
    for (let i = 0; i < entries.length; i++) {
      const at = handedAtMs[i]!;
      ctx.emit({ kind: 'order-sent', signalId: id, tradeId: id, symbol: plan.symbol, orderLinkId: trade.entryLinkIds[i]!, latencyMs: at - signal.tsInit, tsMs: at });
    }
    ctx.setTimer(`entry:${id}`, now + config.entryTimeoutMs, { kind: 'entry-timeout', tradeId: id });
  }

  function refused(s: ExecutionState, ctx: ExecutionCtx, signalId: string, symbol: string, r: { readonly reason: RefusalReason | `BROKER_${string}`; readonly message: string }): void {
    s.counters.refused[r.reason] = (s.counters.refused[r.reason] ?? 0) + 1;
    ctx.emit({ kind: 'order-refused', signalId, symbol, reason: r.reason, message: r.message, tsMs: ctx.clock.now() });
  }

  function onBrokerEvent(s: ExecutionState, event: BrokerEvent, ctx: ExecutionCtx): void {
    switch (event.kind) {
      case 'order-filled': {
        const t = s.trades.get(s.tradeByLinkId.get(event.order.orderLinkId) ?? '');
        if (t === undefined) return;
        s.counters.ordersFilled++;
        t.entryFills.push({ priceUsd: event.fill.priceUsd, qty: event.fill.qty, feeUsd: event.fill.feeUsd });
        t.feesUsd += event.fill.feeUsd;
        t.updatedAtMs = event.fill.tsMs;
        ctx.emit({ kind: 'order-filled', tradeId: t.tradeId, symbol: t.symbol, orderLinkId: event.order.orderLinkId, priceUsd: event.fill.priceUsd, qty: event.fill.qty, feeUsd: event.fill.feeUsd, tsMs: event.fill.tsMs });
        if (t.status === 'pending') {
          t.status = 'open';
          t.openedAtMs = event.fill.tsMs;
        }
        // The position's stop is the trade's current one (a later rung must not undo a trailing move).
        const pos = deps.broker.positions().find((p) => p.symbol === t.symbol);
        if (pos !== undefined && pos.stopLossPrice !== t.stopLossPrice) deps.broker.submit({ kind: 'set-trading-stop', symbol: t.symbol, stopLossPrice: t.stopLossPrice, takeProfitPrice: t.takeProfitPrice });
        ctx.emit({ kind: 'trade', trade: tradeSnapshot(t), tsMs: event.fill.tsMs });
        return;
      }
      case 'order-rejected': {
        const t = s.trades.get(s.tradeByLinkId.get(event.order.orderLinkId) ?? '');
        // A duplicate id after a restart means the order already stands: nothing to undo.
        if (t === undefined || event.reason === 'DUPLICATE_ORDER_LINK_ID') return;
        refused(s, ctx, t.signalId, t.symbol, { reason: `BROKER_${event.reason}`, message: `order ${event.order.orderLinkId} rejected by ${deps.broker.venue}: ${event.reason}` });
        settleIfNothingLeft(s, t, ctx);
        return;
      }
      case 'order-cancelled': {
        const t = s.trades.get(s.tradeByLinkId.get(event.order.orderLinkId) ?? '');
        if (t !== undefined) settleIfNothingLeft(s, t, ctx);
        return;
      }
      case 'position-closed': {
        const id = s.activeBySymbol.get(event.symbol);
        const t = id === undefined ? undefined : s.trades.get(id);
        if (t === undefined || t.status !== 'open') return;
        cancelEntries(t);
        onPositionClosed(s, t, event, ctx, config);
        refreshRisk(s, ctx);
        if (event.cause === 'TAKE_PROFIT' && config.reversal.enabled && t.reversalOf === undefined) reverse(s, t, event.fill.priceUsd, ctx);
        return;
      }
      case 'trading-stop-set':
        return;
    }
  }

  /** A pending trade whose entries are all gone without a fill is cancelled. */
  function settleIfNothingLeft(s: ExecutionState, t: TradeRecord, ctx: ExecutionCtx): void {
    if (t.status !== 'pending' || t.entryFills.length > 0) return;
    const open = new Set(deps.broker.openOrders().map((o) => o.orderLinkId));
    if (t.entryLinkIds.some((l) => open.has(l))) return;
    t.status = 'cancelled';
    t.updatedAtMs = ctx.clock.now();
    retireTrade(s, t);
    ctx.emit({ kind: 'trade', trade: tradeSnapshot(t), tsMs: t.updatedAtMs });
  }

  /** The reversal trade from the cluster the closed trade's target sat in. */
  function reverse(s: ExecutionState, closed: TradeRecord, priceUsd: number, ctx: ExecutionCtx): void {
    const reachedSide = closed.direction === 'LONG' ? 'short' : 'long';
    const reached = (s.clusters.get(closed.symbol)?.[reachedSide] ?? []).find((c) => c.low <= priceUsd * 1.02 && c.high >= priceUsd * 0.98);
    if (reached === undefined) return;
    const now = ctx.clock.now();
    const signal: Signal = {
      symbol: closed.symbol, direction: closed.direction === 'LONG' ? 'SHORT' : 'LONG', score: 0, imbalance: 0.5,
      features: { lastPrice: priceUsd } as Signal['features'], target: undefined, opposite: reached, heatmapAgesMs: {}, tsInit: now,
    };
    const id = signalIdOf(closed.symbol, now);
    if (!markSeen(s, id)) return;
    planAndSend(s, signal, id, ctx, [`reversal of ${closed.tradeId}`], closed);
  }
}

/** Significant clusters of `side` from the assessment's weighted ranges, tagged with their range (computed once per evaluation). */
function clustersOnSide(assessment: CoinAssessment, side: 'long' | 'short'): RangedCluster[] {
  const out: RangedCluster[] = [];
  for (const r of assessment.ranges) {
    if (!(r.weight > 0)) continue;
    for (const c of r.clusters) if (c.side === side) out.push({ ...c, range: r.range });
  }
  return out;
}

/** Whether an assessment brings CoinGlass data for the signal's target range fresher than the limit. */
function isFresh(ranges: readonly { range: string; source: string; ageMs: number }[], signal: Signal, maxAgeMs: number): boolean {
  const range = signal.target?.range;
  return ranges.some((r) => r.range === range && r.source === 'coinglass' && r.ageMs <= maxAgeMs);
}
