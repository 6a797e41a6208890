import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEntry, DEFAULT_RISK_LIMITS, initialRiskState, setKillSwitch, updateRisk, type RiskMode } from './risk-state.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 30, 8);
const proposal = { symbol: 'SOLUSDT', notionalUsd: 5_000, stopLossPrice: 90, lossAtStopUsd: 100, riskBudgetUsd: 100 };
const empty = { positions: [], pendingEntries: [], equityUsd: 10_000 };

describe('risk state machine', () => {
  it('ACTIVE → REDUCING at 75 % of the daily limit → HALTED at the limit; a new UTC day re-arms', () => {
    let s = initialRiskState(T0, 10_000);
    let r = updateRisk(s, T0 + 1, 9_800);
    expect(r.state.mode).toBe('ACTIVE');
    r = updateRisk(r.state, T0 + 2, 9_770); // 2.3 % ≥ 2.25 %
    expect(r.state.mode).toBe('REDUCING');
    expect(r.transition).toMatchObject({ from: 'ACTIVE', to: 'REDUCING' });
    r = updateRisk(r.state, T0 + 3, 9_990); // recovered, but the day does not de-escalate
    expect(r.state.mode).toBe('REDUCING');
    r = updateRisk(r.state, T0 + 4, 9_700);
    expect(r.state.mode).toBe('HALTED');
    expect(r.state.reason).toMatch(/3\.00 %/);
    s = r.state;
    r = updateRisk(s, T0 + DAY, 9_700);
    expect(r.state.mode).toBe('ACTIVE');
    expect(r.state.dayStartEquityUsd).toBe(9_700);
  });

  it('kill switch halts at once and survives the day change', () => {
    let r = setKillSwitch(initialRiskState(T0, 10_000), true, T0 + 1);
    expect(r.state.mode).toBe('HALTED');
    r = updateRisk(r.state, T0 + DAY, 10_000);
    expect(r.state.mode).toBe('HALTED');
    expect(checkEntry(r.state, empty, proposal)?.reason).toBe('RISK_KILL_SWITCH');
    r = setKillSwitch(r.state, false, T0 + DAY + 1);
    expect(r.state.mode).toBe('ACTIVE');
  });

  it('entry refusals with stable reasons', () => {
    const s = initialRiskState(T0, 10_000);
    expect(checkEntry(s, empty, proposal)).toBeUndefined();
    expect(checkEntry(s, empty, { ...proposal, stopLossPrice: undefined })?.reason).toBe('RISK_NO_STOP');
    expect(checkEntry(s, empty, { ...proposal, lossAtStopUsd: 101 })?.reason).toBe('RISK_LOSS_OVER_BUDGET');
    const three = { ...empty, positions: [{ symbol: 'A', notionalUsd: 1 }, { symbol: 'B', notionalUsd: 1 }], pendingEntries: [{ symbol: 'C', notionalUsd: 1 }] };
    expect(checkEntry(s, three, proposal)?.reason).toBe('RISK_MAX_POSITIONS');
    expect(checkEntry(s, { ...empty, pendingEntries: [{ symbol: 'SOLUSDT', notionalUsd: 1 }] }, proposal)?.reason).toBe('RISK_POSITION_OPEN');
    expect(checkEntry(s, empty, { ...proposal, notionalUsd: 20_001 })?.reason).toBe('RISK_MAX_EXPOSURE_COIN');
    expect(checkEntry(s, { ...empty, positions: [{ symbol: 'A', notionalUsd: 23_000 }, { symbol: 'B', notionalUsd: 23_000 }] }, proposal)?.reason).toBe('RISK_MAX_EXPOSURE_TOTAL');
    expect(checkEntry({ ...s, mode: 'REDUCING' }, empty, proposal)?.reason).toBe('RISK_REDUCING');
    expect(checkEntry({ ...s, mode: 'HALTED' }, empty, proposal)?.reason).toBe('RISK_HALTED');
  });

  it('within a day the mode only escalates (property)', () => {
    const rank: Record<RiskMode, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
    fc.assert(
      fc.property(fc.array(fc.double({ min: 5_000, max: 15_000, noNaN: true }), { minLength: 1, maxLength: 50 }), (equities) => {
        let s = initialRiskState(T0, 10_000);
        let t = T0;
        for (const e of equities) {
          const next = updateRisk(s, ++t, e, DEFAULT_RISK_LIMITS).state;
          expect(rank[next.mode]).toBeGreaterThanOrEqual(rank[s.mode]);
          s = next;
        }
      }),
      { seed: 15, numRuns: 500 },
    );
  });
});
