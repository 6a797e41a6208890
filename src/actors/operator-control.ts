import type { Broker } from '../core/broker.js';
import { orderLinkIdFor } from '../core/execution-ids.js';
import { initialRiskState, setEntriesPaused, setKillSwitch, type RiskState, type RiskTransition } from '../core/risk-state.js';
import type { ActorContext } from './actor-system.js';
import type { ControlApplied, ExecutionOutput, ExecutionState, OperatorControl, TradeRecord } from './execution-state.js';

export interface ControlHooks {
  readonly broker: Broker;
  /** Cancels a trade's unfilled entries (the actor's own routine, so settling stays in one place). */
  cancelEntries(t: TradeRecord): void;
  /** Reports a mode change the actor's way (HALTED also cancels every pending entry). */
  onRiskTransition(state: ExecutionState, r: { state: RiskState; transition: RiskTransition | undefined }, ctx: ActorContext<ExecutionOutput>): void;
}

/**
 * Applies an operator's runtime command inside the ExecutionActor. Everything it changes lives in the risk state
 * (persisted with the actor's snapshot) or goes to the broker as an ordinary command, so the trade lifecycle
 * (fills, closes, PnL) is the one the engine's own orders follow. A command with nothing to act on is answered
 * with a refusal message, never an exception.
 */
export function applyControl(state: ExecutionState, msg: OperatorControl, ctx: ActorContext<ExecutionOutput>, hooks: ControlHooks): void {
  const now = ctx.clock.now();
  const risk = state.risk ?? initialRiskState(now, hooks.broker.account().equityUsd);
  const answer = (ok: boolean, message: string, reason?: string): void => {
    const out: ControlApplied = { kind: 'control', requestId: msg.requestId, command: msg.command, symbol: msg.symbol, by: msg.by, ok, reason, message, tsMs: now };
    ctx.emit(out);
  };
  switch (msg.command) {
    case 'pause':
      state.risk = setEntriesPaused(risk, true);
      return answer(true, 'new entries paused; open positions keep their stops and trailing');
    case 'resume':
      state.risk = setEntriesPaused(risk, false);
      return answer(true, risk.killSwitch ? 'entries resumed, but the kill switch is on: still HALTED' : `entries resumed (risk ${risk.mode})`);
    case 'stop-entry': {
      state.risk = setEntriesPaused(risk, true);
      const pending = [...state.trades.values()].filter((t) => t.status === 'pending' || t.entryFills.length < t.entryLinkIds.length);
      for (const t of pending) hooks.cancelEntries(t);
      return answer(true, `new entries paused; unfilled entries of ${pending.length} trade(s) cancelled`);
    }
    case 'kill': {
      const r = setKillSwitch(risk, true, now);
      state.risk = r.state;
      if (r.transition !== undefined) hooks.onRiskTransition(state, r, ctx);
      return answer(true, 'kill switch on: HALTED, pending entries cancelled, stops stay on the venue');
    }
    case 'unkill': {
      if (!risk.killSwitch) return answer(false, 'the kill switch is not on', 'NOT_KILLED');
      const r = setKillSwitch(risk, false, now);
      state.risk = r.state;
      if (r.transition !== undefined) hooks.onRiskTransition(state, r, ctx);
      return answer(true, 'kill switch off: ACTIVE (daily loss limits still apply)');
    }
    case 'force-exit': {
      const target = (msg.symbol ?? '').toUpperCase();
      const trades = [...state.trades.values()].filter((t) => target === 'ALL' || t.symbol === target);
      const positions = hooks.broker.positions().filter((p) => target === 'ALL' || p.symbol === target);
      if (trades.length === 0 && positions.length === 0) return answer(false, `no trade or position on ${target === '' ? '(no symbol)' : target}`, 'NO_POSITION');
      for (const t of trades) hooks.cancelEntries(t);
      for (const p of positions) hooks.broker.submit({ kind: 'close-position', symbol: p.symbol, orderLinkId: orderLinkIdFor(p.symbol, now, 'c', 9) });
      return answer(true, `closing ${positions.length} position(s) at market, unfilled entries of ${trades.length} trade(s) cancelled`);
    }
  }
}
