import { describe, expect, it } from 'vitest';
import { initialExecutionState, snapshotExecution, type ExecutionOutput } from '../src/actors/execution-state.js';
import { VirtualClock } from '../src/core/clock.js';
import type { TickerUpdated } from '../src/core/events.js';
import type { RangedCluster } from '../src/core/imbalance.js';
import type { Signal } from '../src/core/trigger.js';
import { executionSettings, startExecution } from '../src/cli/execution.js';
import { loadConfig } from '../src/cli/config.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const cl = (low: number, high: number, side: 'long' | 'short'): RangedCluster => ({ low, high, centre: (low + high) / 2, usd: 5e7, side, levelCount: 3, range: '7d' });
const signal = (symbol: string, tsInit: number): Signal => ({
  symbol, direction: 'LONG', score: 100, imbalance: 0.7, features: { lastPrice: 100 } as Signal['features'], target: cl(110, 112, 'short'), opposite: cl(90, 91, 'long'), heatmapAgesMs: { '7d': 60_000 }, tsInit,
});

async function start(env: Record<string, string> = {}) {
  const clock = new VirtualClock(T0);
  const outputs: ExecutionOutput[] = [];
  const engine = { marketTap: undefined as ((e: TickerUpdated) => void) | undefined, setSuccessRates: () => undefined };
  const { execution, paper } = executionSettings(loadConfig({ ENTRY_STYLES: 'SOL:aggressive,ETH:aggressive', ...env }, '').trading, false);
  const part = await startExecution({ clock, engine: engine as never, execution, paper, onOutput: (o) => outputs.push(o) });
  const tick = (symbol: string, price: number): void => {
    clock.advanceTo(clock.now() + 1000);
    engine.marketTap?.({ kind: 'ticker', symbol, tsEvent: clock.now(), tsInit: clock.now(), lastPrice: price, markPrice: price, openInterest: 1, openInterestValue: 1, fundingRate: 0 });
  };
  const control = (command: 'pause' | 'resume' | 'stop-entry' | 'force-exit' | 'kill' | 'unkill', symbol?: string) => {
    const requestId = `r${outputs.length}`;
    part.ref.tell({ kind: 'control', command, symbol, by: 'telegram:42', requestId });
    return outputs.find((o): o is Extract<ExecutionOutput, { kind: 'control' }> => o.kind === 'control' && o.requestId === requestId)!;
  };
  return { clock, outputs, part, tick, control };
}

const refusals = (out: ExecutionOutput[]) => out.filter((o) => o.kind === 'order-refused').map((o) => (o as { reason: string }).reason);

describe('operator controls on the ExecutionActor', () => {
  it('pause refuses new entries with RISK_ENTRIES_PAUSED until resume; the state survives a snapshot round trip', async () => {
    const h = await start();
    expect(h.control('pause')).toMatchObject({ ok: true, by: 'telegram:42' });
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0), emittedAt: T0 });
    expect(refusals(h.outputs)).toEqual(['RISK_ENTRIES_PAUSED']);
    expect(h.part.broker.positions()).toHaveLength(0);
    const restored = initialExecutionState(snapshotExecution(h.part.ref.peek()!));
    expect(restored.risk?.entriesPaused).toBe(true);
    expect(h.control('resume').ok).toBe(true);
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0 + 5), emittedAt: T0 + 5 });
    expect(h.part.broker.positions().map((p) => p.symbol)).toEqual(['SOLUSDT']);
  });

  it('force-exit closes the position at market and books the trade closed; an unknown coin is refused NO_POSITION', async () => {
    const h = await start();
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0), emittedAt: T0 });
    h.tick('SOLUSDT', 101);
    expect(h.control('force-exit', 'BTCUSDT')).toMatchObject({ ok: false, reason: 'NO_POSITION' });
    expect(h.control('force-exit', 'solusdt')).toMatchObject({ ok: true });
    expect(h.part.broker.positions()).toHaveLength(0);
    const closed = h.outputs.filter((o) => o.kind === 'trade' && o.trade.status === 'closed');
    expect(closed).toHaveLength(1);
  });

  it('force-exit all closes every coin; kill goes HALTED and stays so (persisted kill switch)', async () => {
    const h = await start();
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0), emittedAt: T0 });
    h.part.onEngineOutput({ kind: 'signal', signal: { ...signal('ETHUSDT', T0 + 1) }, emittedAt: T0 + 1 });
    expect(h.part.broker.positions()).toHaveLength(2);
    expect(h.control('force-exit', 'all').ok).toBe(true);
    expect(h.part.broker.positions()).toHaveLength(0);
    expect(h.control('kill').ok).toBe(true);
    expect(h.part.ref.peek()!.risk).toMatchObject({ mode: 'HALTED', killSwitch: true });
    expect(h.outputs.some((o) => o.kind === 'risk' && o.transition.to === 'HALTED')).toBe(true);
    expect(h.control('resume').message).toMatch(/kill switch is on/);
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0 + 10_000), emittedAt: T0 + 10_000 });
    expect(refusals(h.outputs)).toContain('RISK_KILL_SWITCH');
    expect(initialExecutionState(snapshotExecution(h.part.ref.peek()!)).risk?.killSwitch).toBe(true);
    expect(h.control('unkill')).toMatchObject({ ok: true });
    expect(h.part.ref.peek()!.risk).toMatchObject({ mode: 'ACTIVE', killSwitch: false });
    expect(h.control('unkill')).toMatchObject({ ok: false, reason: 'NOT_KILLED' });
  });

  it('stop-entry pauses and cancels unfilled ladder entries while the position keeps its stop', async () => {
    const h = await start({ ENTRY_STYLE: 'scaled', ENTRY_STYLES: '' });
    h.part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', T0), emittedAt: T0 });
    expect(h.part.broker.openOrders().length).toBeGreaterThan(0);
    const r = h.control('stop-entry');
    expect(r.ok).toBe(true);
    expect(h.part.broker.openOrders()).toHaveLength(0);
    expect(h.part.ref.peek()!.risk?.entriesPaused).toBe(true);
  });
});
