/**
 * Business refusals: a plan, order or risk check that says "no" returns one of these instead of throwing, so
 * the execution actor can log, store and count it (NautilusTrader's `OrderDenied`). Reasons are stable
 * SCREAMING_SNAKE codes: dashboards, alerts and tests key on them, so never rename one.
 */
export type RefusalReason =
  | 'TP_NOT_BEYOND_ENTRY'
  | 'STOP_NOT_BEYOND_ENTRY'
  | 'NO_TARGET_CLUSTER'
  | 'NO_LADDER_CLUSTER'
  | 'INVALID_PRICE'
  | 'QTY_BELOW_MIN'
  | 'INSUFFICIENT_MARGIN'
  | 'STALE_LIQUIDATION_DATA'
  | 'DUPLICATE_SIGNAL'
  | 'RISK_HALTED'
  | 'RISK_REDUCING'
  | 'RISK_KILL_SWITCH'
  | 'RISK_ENTRIES_PAUSED'
  | 'RISK_MAX_POSITIONS'
  | 'RISK_POSITION_OPEN'
  | 'RISK_MAX_EXPOSURE_COIN'
  | 'RISK_MAX_EXPOSURE_TOTAL'
  | 'RISK_LOSS_OVER_BUDGET'
  | 'RISK_NO_STOP';

export interface Refusal {
  readonly refused: true;
  readonly reason: RefusalReason;
  /** Human-readable detail with the numbers that decided it. */
  readonly message: string;
}

/** Builds a refusal. */
export function refuse(reason: RefusalReason, message: string): Refusal {
  return { refused: true, reason, message };
}

/** Type guard for results that are either a value or a refusal. */
export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && (value as { refused?: unknown }).refused === true;
}
