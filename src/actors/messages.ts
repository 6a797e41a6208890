import type { MarketEvent } from '../core/events.js';
import type { CoinInputs, HistoryStep, TypicalSizeEntry } from '../core/coin-liquidity.js';
import type { HeatmapSnapshot } from '../core/heatmap.js';
import type { SourceDistance } from '../core/source-distance.js';
import type { CoinAssessment } from '../core/ranking.js';
import type { ArmedSetup, Signal } from '../core/trigger.js';

/** Commands a SymbolActor accepts besides market data. Never conflated, never dropped. */
export type SymbolCommand =
  | { readonly kind: 'heatmap'; readonly snapshot: HeatmapSnapshot }
  | { readonly kind: 'history'; readonly steps: readonly HistoryStep[] }
  | { readonly kind: 'coin-inputs'; readonly inputs: CoinInputs }
  | { readonly kind: 'evaluate'; readonly atMs: number; readonly refresh: boolean }
  | { readonly kind: 'arm'; readonly setup: ArmedSetup }
  | { readonly kind: 'disarm' };

export type SymbolMessage = MarketEvent | SymbolCommand;

/** Commands the RankerActor accepts. */
export type RankerMessage =
  | { readonly kind: 'start' }
  | { readonly kind: 'rank'; readonly atMs: number }
  | { readonly kind: 'assessed'; readonly assessment: CoinAssessment; readonly refresh: boolean }
  /** Learned success rates per symbol (from closed trades, with the prior applied) that replace the evaluation's prior. */
  | { readonly kind: 'success-rates'; readonly rates: ReadonlyArray<readonly [symbol: string, rate: number]> };

/** A coin was evaluated: the snapshots used and the result (for storage and the operator view). */
export interface CoinEvaluated {
  readonly kind: 'evaluated';
  readonly symbol: string;
  readonly atMs: number;
  readonly snapshots: readonly HeatmapSnapshot[];
  readonly assessment: CoinAssessment;
  /** The coin's learned typical cluster sizes after this evaluation (persisted so a restart keeps them). */
  readonly typical: readonly TypicalSizeEntry[];
  /** When a CoinGlass reply triggered this evaluation: how far the own estimate of that range is from it. */
  readonly compared?: SourceDistance;
}

/** A trigger fired on an armed coin. */
export interface SignalRaised {
  readonly kind: 'signal';
  readonly signal: Signal;
  /** Clock time when the signal left the actor (latency = emittedAt − signal.tsInit). */
  readonly emittedAt: number;
}

export interface RankedCoin {
  readonly rank: number;
  readonly symbol: string;
  readonly score: number;
  readonly direction: CoinAssessment['direction'];
  readonly imbalance: number;
  readonly clusterPct: number;
  readonly successRate: number;
}

/** The leaderboard after a ranking pass. */
export interface RankingUpdated {
  readonly kind: 'ranking';
  readonly rankedAt: number;
  readonly coins: number;
  readonly top: readonly RankedCoin[];
  readonly armed: readonly string[];
}

export const RANKER_ID = 'ranker';
export const symbolActorId = (symbol: string): string => `symbol:${symbol}`;

/** Deterministic per-symbol phase in [0, periodMs) so evaluations spread over the period instead of bunching. */
export function phaseOf(symbol: string, periodMs: number): number {
  let h = 2166136261;
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 16777619) >>> 0;
  return h % periodMs;
}

/** First grid time strictly after `nowMs` on the grid `phase + k × periodMs`. */
export function nextGridTime(nowMs: number, periodMs: number, phase = 0): number {
  return Math.floor((nowMs - phase) / periodMs) * periodMs + phase + periodMs;
}
