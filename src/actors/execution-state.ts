import type { BrokerEvent } from '../core/broker.js';
import type { MinuteBarClosed } from '../core/events.js';
import type { RangedCluster } from '../core/imbalance.js';
import type { PatternStats } from '../core/pattern-stats.js';
import type { CoinAssessment } from '../core/ranking.js';
import type { RefusalReason } from '../core/refusal.js';
import type { RiskState, RiskTransition } from '../core/risk-state.js';
import type { ExitReason, Fill } from '../core/trade-close.js';
import type { EntryStyle, StopRule } from '../core/trade-plan.js';
import type { Signal, SignalDirection } from '../core/trigger.js';
import { WickTracker } from '../core/wick-tracker.js';
import type { CoinEvaluated, SignalRaised } from './messages.js';

/** What the ExecutionActor accepts. Signals, broker events and commands are never conflated or dropped. */
export type ExecutionMessage =
  | SignalRaised
  | CoinEvaluated
  | MinuteBarClosed
  | { readonly kind: 'mark'; readonly symbol: string; readonly lastPrice: number; readonly markPrice: number; readonly tsInit: number }
  | { readonly kind: 'broker'; readonly event: BrokerEvent }
  | { readonly kind: 'fresh-timeout'; readonly signalId: string }
  | { readonly kind: 'entry-timeout'; readonly tradeId: string }
  | { readonly kind: 'kill-switch'; readonly on: boolean }
  | WickStatsLoaded
  | OperatorControl
  | { readonly kind: 'start' };

/**
 * A coin's historical max wick against each direction (fractions; undefined while the history held is too
 * short), computed off the hot path from the store by the wick-statistics part. Replaces the live 24 h tracker
 * and the 8 % default in the wick stop.
 */
export interface WickStatsLoaded {
  readonly kind: 'wick-stats';
  readonly symbol: string;
  readonly longFraction: number | undefined;
  readonly shortFraction: number | undefined;
  /** Which statistic, over how much history (goes into the trade's notes). */
  readonly basis: string;
}

/**
 * An operator's runtime command (Telegram, HTTP): `pause`/`resume` new entries, `stop-entry` (pause and cancel
 * every unfilled entry), `force-exit` one coin's position or `all`, `kill` (kill switch on: HALTED), `unkill` (off
 * again: ACTIVE at once, the day's loss rules apply at the next evaluation). Persisted
 * through the risk state, so a restart keeps it. `by` says who sent it, for the audit trail.
 */
export interface OperatorControl {
  readonly kind: 'control';
  readonly command: 'pause' | 'resume' | 'stop-entry' | 'force-exit' | 'kill' | 'unkill';
  /** For `force-exit`: a symbol or `all`. */
  readonly symbol?: string;
  readonly by: string;
  readonly requestId: string;
}

/** The answer to an `OperatorControl`: done, or refused with a stable reason (nothing to exit…). */
export interface ControlApplied {
  readonly kind: 'control';
  readonly requestId: string;
  readonly command: OperatorControl['command'];
  readonly symbol: string | undefined;
  readonly by: string;
  readonly ok: boolean;
  /** `NO_POSITION`, `NO_RISK_STATE` when refused. */
  readonly reason: string | undefined;
  readonly message: string;
  readonly tsMs: number;
}

/** One trade from its signal to its close: the `trades` row, the `/positions` view and what a restart resumes. */
export interface TradeRecord {
  readonly tradeId: string;
  readonly signalId: string;
  readonly symbol: string;
  readonly direction: SignalDirection;
  readonly style: EntryStyle;
  status: 'pending' | 'open' | 'closed' | 'cancelled';
  readonly plannedEntryPrice: number;
  readonly plannedQty: number;
  readonly leverage: number;
  readonly riskBudgetUsd: number;
  readonly lossAtStopUsd: number;
  readonly stopRule: StopRule;
  readonly notes: readonly string[];
  readonly range: string;
  readonly targetClusterUsd: number;
  readonly liquidationSource: string;
  readonly entryFeeRate: number;
  readonly entryLinkIds: readonly string[];
  readonly entryFills: Fill[];
  readonly exitFills: Fill[];
  stopLossPrice: number;
  takeProfitPrice: number;
  /** Highest trailing step reached, −1 before the first. */
  trailingStep: number;
  readonly createdAtMs: number;
  openedAtMs: number | undefined;
  closedAtMs: number | undefined;
  exitReason: ExitReason | undefined;
  pnlUsd: number | undefined;
  pnlPct: number | undefined;
  feesUsd: number;
  /** Set on a reversal trade: the trade whose target it reversed from. */
  readonly reversalOf: string | undefined;
  updatedAtMs: number;
}

/** What the actor emits (rows, metrics, logs); plain data so a replay digest covers it. */
export type ExecutionOutput =
  | { readonly kind: 'order-sent'; readonly signalId: string; readonly tradeId: string; readonly symbol: string; readonly orderLinkId: string; readonly latencyMs: number; readonly tsMs: number }
  | { readonly kind: 'order-filled'; readonly tradeId: string; readonly symbol: string; readonly orderLinkId: string; readonly priceUsd: number; readonly qty: number; readonly feeUsd: number; readonly tsMs: number }
  | { readonly kind: 'order-refused'; readonly signalId: string; readonly symbol: string; readonly reason: RefusalReason | `BROKER_${string}`; readonly message: string; readonly tsMs: number }
  | { readonly kind: 'trade'; readonly trade: TradeRecord; readonly tsMs: number }
  | {
      readonly kind: 'monitor';
      readonly tradeId: string;
      readonly symbol: string;
      readonly priceUsd: number;
      readonly pnlPct: number | null;
      readonly stopLossPrice: number;
      readonly takeProfitPrice: number;
      readonly action: string;
      readonly message: string;
      readonly tsMs: number;
    }
  | { readonly kind: 'pattern'; readonly stats: PatternStats; readonly successRate: number; readonly tsMs: number }
  | { readonly kind: 'risk'; readonly transition: RiskTransition; readonly state: RiskState }
  | ControlApplied
  | { readonly kind: 'refresh-requested'; readonly symbol: string; readonly signalId: string; readonly tsMs: number }
  /** Learned success rates per symbol for the ranker's score (the wiring hands them to the engine's ranker). */
  | { readonly kind: 'success-rates'; readonly rates: ReadonlyArray<readonly [symbol: string, rate: number]> };

export interface ExecutionState {
  readonly trades: Map<string, TradeRecord>;
  /** Active (pending or open) trade per coin: one position per coin in one-way mode. */
  readonly activeBySymbol: Map<string, string>;
  readonly tradeByLinkId: Map<string, string>;
  readonly seenSignals: Set<string>;
  readonly seenOrder: string[];
  readonly pendingFresh: Map<string, Signal>;
  risk: RiskState | undefined;
  readonly patterns: Map<string, PatternStats>;
  readonly assessments: Map<string, CoinAssessment>;
  /** Per coin, the significant clusters of the last evaluation by side (targets and reversal clusters). */
  readonly clusters: Map<string, { readonly long: readonly RangedCluster[]; readonly short: readonly RangedCluster[] }>;
  readonly wicks: Map<string, WickTracker>;
  /** Historical wick stops per coin from the store (not persisted: reloaded at start). */
  readonly historicalWicks: Map<string, WickStatsLoaded>;
  readonly recentClosed: TradeRecord[];
  readonly counters: { signals: number; ordersSent: number; ordersFilled: number; refused: Record<string, number> };
}

/** The persisted part of the state (JSON): trades in flight, recent closes, seen signals, risk, patterns. */
export interface ExecutionSnapshot {
  readonly version: 1;
  readonly trades: readonly TradeRecord[];
  readonly recentClosed: readonly TradeRecord[];
  readonly seenSignals: readonly string[];
  readonly risk: RiskState | undefined;
  readonly patterns: readonly PatternStats[];
  readonly counters: ExecutionState['counters'];
}

/** A copy of the trade as it is now: outputs must not change when the live record does. */
export function tradeSnapshot(t: TradeRecord): TradeRecord {
  return { ...t, entryFills: [...t.entryFills], exitFills: [...t.exitFills] };
}

const MAX_SEEN = 5_000;
const MAX_RECENT = 200;

export const patternKey = (symbol: string, range: string): string => `${symbol}|${range}`;

/** A fresh state, or one restored from a snapshot plus the pattern rows loaded from the store. */
export function initialExecutionState(snapshot?: ExecutionSnapshot, patterns: readonly PatternStats[] = []): ExecutionState {
  const s: ExecutionState = {
    trades: new Map(),
    activeBySymbol: new Map(),
    tradeByLinkId: new Map(),
    seenSignals: new Set(),
    seenOrder: [],
    pendingFresh: new Map(),
    risk: snapshot?.risk,
    patterns: new Map(),
    assessments: new Map(),
    clusters: new Map(),
    wicks: new Map(),
    historicalWicks: new Map(),
    recentClosed: [...(snapshot?.recentClosed ?? [])],
    counters: snapshot?.counters !== undefined ? structuredClone(snapshot.counters) : { signals: 0, ordersSent: 0, ordersFilled: 0, refused: {} },
  };
  for (const p of [...patterns, ...(snapshot?.patterns ?? [])]) s.patterns.set(patternKey(p.symbol, p.range), p);
  for (const t of snapshot?.trades ?? []) addTrade(s, structuredClone(t));
  for (const id of snapshot?.seenSignals ?? []) markSeen(s, id);
  return s;
}

export function addTrade(s: ExecutionState, t: TradeRecord): void {
  s.trades.set(t.tradeId, t);
  s.activeBySymbol.set(t.symbol, t.tradeId);
  for (const id of t.entryLinkIds) s.tradeByLinkId.set(id, t.tradeId);
}

/** Removes a finished trade from the live maps and keeps it among the recent closes. */
export function retireTrade(s: ExecutionState, t: TradeRecord): void {
  s.trades.delete(t.tradeId);
  if (s.activeBySymbol.get(t.symbol) === t.tradeId) s.activeBySymbol.delete(t.symbol);
  for (const id of t.entryLinkIds) s.tradeByLinkId.delete(id);
  s.recentClosed.push(t);
  if (s.recentClosed.length > MAX_RECENT) s.recentClosed.splice(0, s.recentClosed.length - MAX_RECENT);
}

/** Remembers a signal id (bounded, oldest forgotten first); returns false when it was already seen. */
export function markSeen(s: ExecutionState, signalId: string): boolean {
  if (s.seenSignals.has(signalId)) return false;
  s.seenSignals.add(signalId);
  s.seenOrder.push(signalId);
  if (s.seenOrder.length > MAX_SEEN) s.seenSignals.delete(s.seenOrder.shift()!);
  return true;
}

export function snapshotExecution(s: ExecutionState): ExecutionSnapshot {
  return structuredClone({
    version: 1 as const,
    trades: [...s.trades.values()],
    recentClosed: s.recentClosed,
    seenSignals: s.seenOrder,
    risk: s.risk,
    patterns: [...s.patterns.values()],
    counters: s.counters,
  });
}

export function wickTrackerOf(s: ExecutionState, symbol: string, minBars: number): WickTracker {
  let w = s.wicks.get(symbol);
  if (w === undefined) {
    w = new WickTracker(minBars);
    s.wicks.set(symbol, w);
  }
  return w;
}
