import { describe, expect, it } from 'vitest';
import type { ExecutionOutput } from '../src/actors/execution-state.js';
import type { CoinEvaluated } from '../src/actors/messages.js';
import { VirtualClock } from '../src/core/clock.js';
import type { TickerUpdated } from '../src/core/events.js';
import type { RangedCluster } from '../src/core/imbalance.js';
import type { CoinAssessment } from '../src/core/ranking.js';
import type { Signal } from '../src/core/trigger.js';
import { executionSettings, startExecution, type ExecutionPart } from '../src/cli/execution.js';
import { loadConfig } from '../src/cli/config.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const cl = (low: number, high: number, side: 'long' | 'short', usd = 5e7): RangedCluster => ({ low, high, centre: (low + high) / 2, usd, side, levelCount: 3, range: '7d' });

function harness(env: Record<string, string> = {}, coinglass = false) {
  const clock = new VirtualClock(T0);
  const outputs: ExecutionOutput[] = [];
  const rates: Array<readonly [string, number]> = [];
  const engine = { marketTap: undefined as ((e: TickerUpdated) => void) | undefined, setSuccessRates: (r: ReadonlyArray<readonly [string, number]>) => rates.push(...r) };
  const trading = loadConfig({ ENTRY_STYLES: 'SOL:aggressive', ...env }, '').trading;
  const { execution, paper } = executionSettings(trading, coinglass);
  return { clock, outputs, rates, engine, start: () => startExecution({ clock, engine: engine as never, execution, paper, onOutput: (o) => outputs.push(o) }) };
}

function signal(symbol: string, direction: 'LONG' | 'SHORT', price: number, target: RangedCluster, opposite: RangedCluster | undefined, tsInit: number, ageMs = 60_000): Signal {
  return { symbol, direction, score: 100, imbalance: 0.7, features: { lastPrice: price } as Signal['features'], target, opposite, heatmapAgesMs: { '7d': ageMs }, tsInit };
}

function tick(h: ReturnType<typeof harness>, symbol: string, price: number, dtMs = 1000): void {
  h.clock.advanceTo(h.clock.now() + dtMs);
  h.engine.marketTap?.({ kind: 'ticker', symbol, tsEvent: h.clock.now(), tsInit: h.clock.now(), lastPrice: price, markPrice: price, openInterest: 1, openInterestValue: 1, fundingRate: 0 });
}

const of = <K extends ExecutionOutput['kind']>(out: ExecutionOutput[], kind: K) => out.filter((o): o is Extract<ExecutionOutput, { kind: K }> => o.kind === kind);

describe('ExecutionActor with the paper broker', () => {
  it('LONG: market entry, trailing to breakeven then +10 %, take-profit, trade closed with fees, success rate learned', async () => {
    const h = harness();
    const part: ExecutionPart = await h.start();
    part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', 'LONG', 100, cl(110, 112, 'short'), cl(90, 91, 'long'), T0), emittedAt: T0 });
    const sent = of(h.outputs, 'order-sent');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.orderLinkId.length).toBeLessThanOrEqual(36);
    expect(sent[0]!.latencyMs).toBe(0);
    const [pos] = part.broker.positions();
    expect(pos).toMatchObject({ symbol: 'SOLUSDT', direction: 'LONG', leverage: 8, stopLossPrice: 90, takeProfitPrice: 110.77 });
    expect(pos!.avgEntryPrice).toBeCloseTo(100.05, 10);
    // Risk 1 % of 10,000: loss at the stop with fees ≤ 100 USDT.
    // Risk 1 % of 10,000: the loss if the stop fills with the same slippage, fees included, is at most 100 USDT.
    const stopFill = 90 * (1 - 0.0005);
    expect(pos!.qty * (100.05 - stopFill + 100.05 * 0.00055 + stopFill * 0.00055)).toBeLessThanOrEqual(100);
    expect(pos!.qty * (100.05 - stopFill + 100.05 * 0.00055 + stopFill * 0.00055)).toBeGreaterThan(99);
    for (const p of [100.5, 101.5, 102.8, 104, 110.8]) tick(h, 'SOLUSDT', p);
    const moves = of(h.outputs, 'monitor').filter((m) => m.action === 'move_sl');
    expect(moves.map((m) => m.message.split(':')[0])).toEqual(['ROE 11.59 % > 10 %', 'ROE 21.99 % > 20 %']);
    expect(moves[0]!.stopLossPrice).toBeCloseTo(Math.floor((100.05 * 1.00055) / (1 - 0.00055) * 100) / 100, 10);
    const closed = of(h.outputs, 'trade').filter((t) => t.trade.status === 'closed');
    expect(closed).toHaveLength(1);
    const t = closed[0]!.trade;
    expect(t.exitReason).toBe('TAKE_PROFIT');
    const exit = 110.8 * (1 - 0.0005);
    const fees = pos!.qty * 100.05 * 0.00055 + pos!.qty * exit * 0.00055;
    expect(t.pnlUsd).toBeCloseTo((exit - 100.05) * pos!.qty - fees, 8);
    expect(t.feesUsd).toBeCloseTo(fees, 8);
    expect(of(h.outputs, 'pattern')[0]).toMatchObject({ stats: { symbol: 'SOLUSDT', range: '7d', successCount: 1, failureCount: 0 } });
    expect(h.rates.at(-1)).toEqual(['SOLUSDT', 2 / 3]);
    const a = part.broker.account();
    expect(a.balanceUsd + a.marginUsd).toBeCloseTo(a.depositsUsd + a.realizedPnlUsd - a.feesUsd, 8);
    await part.stop();
  });

  it('refuses with stable reasons: duplicate signal, second trade on the same coin, max positions', async () => {
    const h = harness({ MAX_POSITIONS: '1' });
    const part = await h.start();
    const s = signal('SOLUSDT', 'LONG', 100, cl(110, 112, 'short'), cl(90, 91, 'long'), T0);
    part.onEngineOutput({ kind: 'signal', signal: s, emittedAt: T0 });
    part.onEngineOutput({ kind: 'signal', signal: s, emittedAt: T0 });
    part.onEngineOutput({ kind: 'signal', signal: { ...s, tsInit: T0 + 1 }, emittedAt: T0 + 1 });
    part.onEngineOutput({ kind: 'signal', signal: signal('DOGEUSDT', 'LONG', 0.2, cl(0.22, 0.23, 'short'), undefined, T0 + 2), emittedAt: T0 + 2 });
    expect(of(h.outputs, 'order-refused').map((r) => r.reason)).toEqual(['DUPLICATE_SIGNAL', 'RISK_POSITION_OPEN', 'RISK_MAX_POSITIONS']);
    expect(part.ref.peek()!.counters.refused).toEqual({ DUPLICATE_SIGNAL: 1, RISK_POSITION_OPEN: 1, RISK_MAX_POSITIONS: 1 });
    await part.stop();
  });

  it('TP not beyond entry is refused and never sent', async () => {
    const h = harness();
    const part = await h.start();
    // A market entry at 100 under a cluster at 100.1–100.2: the front-run TP 100.15 × 0.998 sits below the entry.
    part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', 'LONG', 100, cl(100.1, 100.2, 'short'), undefined, T0), emittedAt: T0 });
    expect(of(h.outputs, 'order-refused').map((r) => r.reason)).toEqual(['TP_NOT_BEYOND_ENTRY']);
    expect(of(h.outputs, 'order-sent')).toHaveLength(0);
    expect(part.broker.openOrders()).toHaveLength(0);
    await part.stop();
  });

  it('stale data with no CoinGlass key: plans on the own estimate and says so', async () => {
    const h = harness();
    const part = await h.start();
    part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', 'LONG', 100, cl(110, 112, 'short'), cl(90, 91, 'long'), T0, 20 * 60_000), emittedAt: T0 });
    const trade = of(h.outputs, 'trade')[0]!.trade;
    expect(trade.notes.join(' ')).toMatch(/1200 s old; no CoinGlass key, own estimate used/);
    await part.stop();
  });

  it('stale data with a CoinGlass key: the plan waits for the pre-trade refresh, then trades on it; without one in time it is refused STALE_LIQUIDATION_DATA', async () => {
    const h = harness({}, true);
    const part = await h.start();
    const target = cl(110, 112, 'short');
    const evaluated = (source: string, ageMs: number): CoinEvaluated =>
      ({ kind: 'evaluated', symbol: 'SOLUSDT', atMs: h.clock.now(), snapshots: [], typical: [], assessment: { symbol: 'SOLUSDT', ranges: [{ range: '7d', weight: 1, source, ageMs, clusters: [target] }] } as unknown as CoinAssessment });
    part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', 'LONG', 100, target, cl(90, 91, 'long'), T0, 20 * 60_000), emittedAt: T0 });
    expect(of(h.outputs, 'refresh-requested')).toMatchObject([{ symbol: 'SOLUSDT' }]);
    expect(of(h.outputs, 'order-sent')).toHaveLength(0);
    part.onEngineOutput(evaluated('estimate', 0)); // not CoinGlass: keeps waiting
    expect(of(h.outputs, 'order-sent')).toHaveLength(0);
    h.clock.advanceTo(T0 + 5_000);
    part.onEngineOutput(evaluated('coinglass', 2_000));
    expect(of(h.outputs, 'order-sent')).toHaveLength(1);
    expect(of(h.outputs, 'order-sent')[0]!.latencyMs).toBe(5_000);
    // A second coin whose refresh never comes.
    part.onEngineOutput({ kind: 'signal', signal: signal('DOGEUSDT', 'LONG', 0.2, cl(0.22, 0.23, 'short'), cl(0.18, 0.185, 'long'), T0 + 5_000, 20 * 60_000), emittedAt: T0 + 5_000 });
    h.clock.advanceTo(T0 + 5_000 + 29_999);
    expect(of(h.outputs, 'order-refused')).toHaveLength(0);
    h.clock.advanceTo(T0 + 5_000 + 30_000);
    expect(of(h.outputs, 'order-refused').map((r) => [r.symbol, r.reason])).toEqual([['DOGEUSDT', 'STALE_LIQUIDATION_DATA']]);
    await part.stop();
  });

  it('reversal: after the LONG takes profit in the short cluster, a SHORT opens from it with its own stop and TP at the next long cluster', async () => {
    const h = harness();
    const part = await h.start();
    const target = cl(110, 112, 'short');
    const below = cl(90, 91, 'long');
    const assessment = { symbol: 'SOLUSDT', ranges: [{ range: '7d', weight: 1, source: 'estimate', ageMs: 0, clusters: [below, target] }] } as unknown as CoinAssessment;
    part.onEngineOutput({ kind: 'evaluated', symbol: 'SOLUSDT', atMs: T0, snapshots: [], typical: [], assessment } as CoinEvaluated);
    part.onEngineOutput({ kind: 'signal', signal: signal('SOLUSDT', 'LONG', 100, target, below, T0), emittedAt: T0 });
    tick(h, 'SOLUSDT', 110.8);
    const trades = of(h.outputs, 'trade').map((t) => t.trade);
    const reversal = trades.find((t) => t.reversalOf !== undefined)!;
    expect(reversal).toBeDefined();
    expect(reversal.direction).toBe('SHORT');
    expect(reversal.notes[0]).toMatch(/^reversal of SOLUSDT-/);
    // Entered at market (the first trade's exit price), stop 10 % above, TP at 90.5 × 1.002.
    const [pos] = part.broker.positions();
    expect(pos!.direction).toBe('SHORT');
    expect(reversal.takeProfitPrice).toBe(90.69);
    expect(reversal.stopLossPrice).toBeCloseTo(Math.ceil(110.8 * 0.9995 * 1.1 * 100) / 100, 10);
    await part.stop();
  });
});
