import { refuse, type Refusal } from './refusal.js';

/**
 * The account's risk state machine. ACTIVE trades normally; REDUCING sends only reduce-only orders (the day's
 * loss is near its limit); HALTED cancels pending entries and keeps every stop (the limit is hit or the kill
 * switch is on). Within one UTC day the state only escalates; a new day re-arms ACTIVE unless the kill switch is
 * on. Pure: time and equity come in as arguments, and the state is a plain object the store can persist so a
 * restart comes back in the state it left.
 */
export type RiskMode = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface RiskLimits {
  /** Daily loss (equity drop since the UTC day began, unrealized included) that halts trading, fraction of day-start equity. */
  readonly dailyLossLimitFraction: number;
  /** REDUCING once the day's loss reaches this share of the limit. */
  readonly reducingAtShareOfLimit: number;
  readonly maxConcurrentPositions: number;
  /** Max notional in one coin (open positions plus pending entries), as a multiple of equity. */
  readonly maxExposurePerCoinFraction: number;
  /** Max notional over all coins, as a multiple of equity. */
  readonly maxExposureTotalFraction: number;
}

export const DEFAULT_RISK_LIMITS: RiskLimits = {
  dailyLossLimitFraction: 0.03,
  reducingAtShareOfLimit: 0.75,
  maxConcurrentPositions: 3,
  maxExposurePerCoinFraction: 2,
  maxExposureTotalFraction: 5,
};

export interface RiskState {
  readonly mode: RiskMode;
  readonly killSwitch: boolean;
  /**
   * Set by an operator (`/pause`, `/stopentry`): no new entries, whatever the mode; stops, trailing and closes go
   * on. Optional so snapshots saved before it existed load as "not paused". Survives a new UTC day and a restart.
   */
  readonly entriesPaused?: boolean;
  /** Start of the current UTC day, epoch ms. */
  readonly dayStartMs: number;
  readonly dayStartEquityUsd: number;
  /** Why the state is what it is (for /risk and the log). */
  readonly reason: string;
  readonly changedAtMs: number;
}

export interface RiskTransition {
  readonly from: RiskMode;
  readonly to: RiskMode;
  readonly reason: string;
  readonly atMs: number;
}

const DAY_MS = 86_400_000;

/** Start of the UTC day containing `ms`. */
export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** A fresh ACTIVE state for a day starting now with `equityUsd`. */
export function initialRiskState(nowMs: number, equityUsd: number): RiskState {
  return { mode: 'ACTIVE', killSwitch: false, dayStartMs: utcDayStart(nowMs), dayStartEquityUsd: equityUsd, reason: 'start', changedAtMs: nowMs };
}

function to(state: RiskState, mode: RiskMode, reason: string, nowMs: number, extra: Partial<RiskState> = {}): { state: RiskState; transition: RiskTransition | undefined } {
  const next: RiskState = { ...state, ...extra, mode, reason: mode === state.mode && extra.dayStartMs === undefined ? state.reason : reason, changedAtMs: mode === state.mode ? state.changedAtMs : nowMs };
  return { state: next, transition: mode === state.mode ? undefined : { from: state.mode, to: mode, reason, atMs: nowMs } };
}

/**
 * Re-evaluates the state at `nowMs` with the current equity (balance + margin + unrealized). A new UTC day
 * resets the day's reference equity and re-arms ACTIVE (unless the kill switch is on); otherwise the day's
 * loss escalates ACTIVE → REDUCING → HALTED and never de-escalates before the day ends.
 */
export function updateRisk(state: RiskState, nowMs: number, equityUsd: number, limits: RiskLimits = DEFAULT_RISK_LIMITS): { state: RiskState; transition: RiskTransition | undefined } {
  let s = state;
  let dayTransition: RiskTransition | undefined;
  const day = utcDayStart(nowMs);
  if (day > s.dayStartMs) {
    const mode: RiskMode = s.killSwitch ? 'HALTED' : 'ACTIVE';
    const r = to(s, mode, s.killSwitch ? 'kill switch on' : 'new UTC day', nowMs, { dayStartMs: day, dayStartEquityUsd: equityUsd });
    s = r.state;
    dayTransition = r.transition;
  }
  if (s.killSwitch) return s.mode === 'HALTED' ? { state: s, transition: dayTransition } : to(s, 'HALTED', 'kill switch on', nowMs);
  const lossFraction = s.dayStartEquityUsd > 0 ? (s.dayStartEquityUsd - equityUsd) / s.dayStartEquityUsd : 0;
  const pct = (lossFraction * 100).toFixed(2);
  if (lossFraction >= limits.dailyLossLimitFraction && s.mode !== 'HALTED') return to(s, 'HALTED', `daily loss ${pct} % reached the ${limits.dailyLossLimitFraction * 100} % limit`, nowMs);
  if (lossFraction >= limits.dailyLossLimitFraction * limits.reducingAtShareOfLimit && s.mode === 'ACTIVE') {
    return to(s, 'REDUCING', `daily loss ${pct} % is ${limits.reducingAtShareOfLimit * 100} % of the limit`, nowMs);
  }
  return { state: s, transition: dayTransition };
}

/** Turns the kill switch on (HALTED at once) or off (ACTIVE again only at the next evaluation's day rules). */
export function setKillSwitch(state: RiskState, on: boolean, nowMs: number): { state: RiskState; transition: RiskTransition | undefined } {
  if (on) return to({ ...state, killSwitch: true }, 'HALTED', 'kill switch on', nowMs);
  return to({ ...state, killSwitch: false }, 'ACTIVE', 'kill switch off', nowMs);
}

/** Pauses or resumes new entries (operator command); the mode is untouched, so no transition is reported. */
export function setEntriesPaused(state: RiskState, paused: boolean): RiskState {
  return { ...state, entriesPaused: paused };
}

export interface ExposureView {
  /** Open positions: coin and notional in USDT. */
  readonly positions: readonly { readonly symbol: string; readonly notionalUsd: number }[];
  /** Pending entry orders' notional per coin (a ladder counts in full). */
  readonly pendingEntries: readonly { readonly symbol: string; readonly notionalUsd: number }[];
  readonly equityUsd: number;
}

export interface EntryProposal {
  readonly symbol: string;
  readonly notionalUsd: number;
  readonly stopLossPrice: number | undefined;
  readonly lossAtStopUsd: number;
  readonly riskBudgetUsd: number;
}

/**
 * Whether a new entry may be sent, or the refusal saying why. Reduce-only orders (stops, take-profits,
 * closes) never go through this check: they are always allowed.
 */
export function checkEntry(state: RiskState, view: ExposureView, proposal: EntryProposal, limits: RiskLimits = DEFAULT_RISK_LIMITS): Refusal | undefined {
  if (state.killSwitch) return refuse('RISK_KILL_SWITCH', 'kill switch is on');
  if (state.entriesPaused === true) return refuse('RISK_ENTRIES_PAUSED', 'new entries are paused by the operator (/resume lifts it)');
  if (state.mode === 'HALTED') return refuse('RISK_HALTED', `risk state HALTED: ${state.reason}`);
  if (state.mode === 'REDUCING') return refuse('RISK_REDUCING', `risk state REDUCING: ${state.reason}`);
  if (!(proposal.stopLossPrice !== undefined && proposal.stopLossPrice > 0)) return refuse('RISK_NO_STOP', 'every position carries a stop; this one has none');
  if (proposal.lossAtStopUsd > proposal.riskBudgetUsd * (1 + 1e-9)) {
    return refuse('RISK_LOSS_OVER_BUDGET', `loss at stop ${proposal.lossAtStopUsd.toFixed(2)} > budget ${proposal.riskBudgetUsd.toFixed(2)} USDT`);
  }
  const open = new Set(view.positions.map((p) => p.symbol));
  for (const p of view.pendingEntries) open.add(p.symbol);
  if (open.has(proposal.symbol)) return refuse('RISK_POSITION_OPEN', `${proposal.symbol} already has a position or pending entries`);
  if (open.size >= limits.maxConcurrentPositions) return refuse('RISK_MAX_POSITIONS', `${open.size} coins in play, max ${limits.maxConcurrentPositions}`);
  if (proposal.notionalUsd > limits.maxExposurePerCoinFraction * view.equityUsd) {
    return refuse('RISK_MAX_EXPOSURE_COIN', `${proposal.symbol} notional ${proposal.notionalUsd.toFixed(2)} > ${limits.maxExposurePerCoinFraction} × equity ${view.equityUsd.toFixed(2)}`);
  }
  let total = proposal.notionalUsd;
  for (const p of view.positions) total += p.notionalUsd;
  for (const p of view.pendingEntries) total += p.notionalUsd;
  if (total > limits.maxExposureTotalFraction * view.equityUsd) {
    return refuse('RISK_MAX_EXPOSURE_TOTAL', `total notional ${total.toFixed(2)} > ${limits.maxExposureTotalFraction} × equity ${view.equityUsd.toFixed(2)}`);
  }
  return undefined;
}
