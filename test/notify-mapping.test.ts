import { describe, expect, it } from 'vitest';
import type { ExecutionOutput } from '../src/actors/execution-state.js';
import { VirtualClock } from '../src/core/clock.js';
import type { TickerUpdated } from '../src/core/events.js';
import type { RangedCluster } from '../src/core/imbalance.js';
import { renderHtmlMessages } from '../src/core/notification-render.js';
import type { Signal } from '../src/core/trigger.js';
import { executionSettings, startExecution } from '../src/cli/execution.js';
import { loadConfig } from '../src/cli/config.js';
import { notificationOf } from '../src/cli/notify.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const cl = (low: number, high: number, side: 'long' | 'short'): RangedCluster => ({ low, high, centre: (low + high) / 2, usd: 5e7, side, levelCount: 3, range: '7d' });

describe('execution outputs → notifications', () => {
  it('a trade from signal to take-profit yields placed, fill, two trailing moves and the close with PnL; a refusal and an operator command too', async () => {
    const clock = new VirtualClock(T0);
    const outputs: ExecutionOutput[] = [];
    const engine = { marketTap: undefined as ((e: TickerUpdated) => void) | undefined, setSuccessRates: () => undefined };
    const { execution, paper } = executionSettings(loadConfig({ ENTRY_STYLES: 'SOL:aggressive' }, '').trading, false);
    const part = await startExecution({ clock, engine: engine as never, execution, paper, onOutput: (o) => outputs.push(o) });
    const signal: Signal = { symbol: 'SOLUSDT', direction: 'LONG', score: 100, imbalance: 0.7, features: { lastPrice: 100 } as Signal['features'], target: cl(110, 112, 'short'), opposite: cl(90, 91, 'long'), heatmapAgesMs: { '7d': 60_000 }, tsInit: T0 };
    part.onEngineOutput({ kind: 'signal', signal, emittedAt: T0 });
    part.onEngineOutput({ kind: 'signal', signal, emittedAt: T0 });
    for (const p of [100.5, 101.5, 102.8, 104, 110.8]) {
      clock.advanceTo(clock.now() + 1000);
      engine.marketTap?.({ kind: 'ticker', symbol: 'SOLUSDT', tsEvent: clock.now(), tsInit: clock.now(), lastPrice: p, markPrice: p, openInterest: 1, openInterestValue: 1, fundingRate: 0 });
    }
    part.ref.tell({ kind: 'control', command: 'pause', by: 'telegram:42', requestId: 'r1' });
    const w = { execution: part };
    const notes = outputs.map((o) => notificationOf(o, w)).filter((n) => n !== undefined);
    expect(notes.map((n) => n.kind)).toEqual(['order_placed', 'fill', 'order_refused', 'trailing_move', 'trailing_move', 'trade_closed', 'risk_state']);
    expect(notes[0]).toMatchObject({ title: 'Orders placed LONG SOLUSDT', symbol: 'SOLUSDT', sensitive: true });
    expect(notes[2]).toMatchObject({ title: 'Refused SOLUSDT: DUPLICATE_SIGNAL' });
    expect(notes[5]!.title).toBe('Closed LONG SOLUSDT: TAKE_PROFIT');
    expect(Object.fromEntries(notes[5]!.fields).PnL).toMatch(/^\d[\d,]*\.\d\d USDT \(\+\d+\.\d\d %\)$/);
    expect(notes[6]).toMatchObject({ title: 'Operator: pause', fields: expect.arrayContaining([['By', 'telegram:42'], ['Risk', 'ACTIVE']]) });
    // Ids are stable: the same output maps to the same id (a retried send can be recognised).
    expect(outputs.map((o) => notificationOf(o, w)?.id).filter(Boolean)).toEqual(notes.map((n) => n.id));
    expect(renderHtmlMessages(notes)).toHaveLength(1);
  });
});
