import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../src/core/trigger.js';
import { runBacktest, type BacktestSource } from '../src/cli/backtest.js';
import { toReportInput } from '../src/cli/backtest-result.js';
import { loadConfig } from '../src/cli/config.js';
import { engineSettings } from '../src/cli/engine-settings.js';
import { executionSettings } from '../src/cli/execution.js';
import { replayTape } from '../src/cli/replay.js';
import { barEvents } from '../src/core/bar-events.js';
import { writeTape } from '../src/sinks/tape-writer.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { scriptedHistory, WEEK_COINS, WEEK_SCENARIOS, WEEK_START } from '../src/streams/scripted-history.js';
import { MIN, SIM_START } from './support/trading-sim.js';

const DAY = 86_400_000;
/** Significance from each coin's learned typical size, as for every simulated market (SIMULATED_MARKET_LIQUIDITY). */
const ENV = { THRESHOLD_LEARNED_MODE: 'replace', ENTRY_STYLE: 'aggressive' };
const SLIP = 0.0005;
const TAKER = 0.00055;
const week = (): BacktestSource => ({ kind: 'history', histories: scriptedHistory({ seed: 'w1', startMs: WEEK_START, days: 7, coins: WEEK_COINS, scenarios: WEEK_SCENARIOS }), fromMs: WEEK_START, toMs: WEEK_START + 7 * DAY });

describe('backtest of a scripted week of stored bars', () => {
  it('trades the LONG into the shorts and the SHORT into the longs as the plan says, to the cent; twice gives the same digest', async () => {
    const source = week();
    const signals: Signal[] = [];
    const r = await runBacktest(source, loadConfig(ENV, ''), {}, { engine: (e) => void (e.kind === 'signal' && signals.push(e.signal)) });
    expect(r.source).toMatch(/^stored history: AAAUSDT, BBBUSDT, CCCUSDT from 2026-01-05T00:00:00Z to 2026-01-12T00:00:00Z \(30240 1-min and 0 1-h bars, 6048 open-interest readings\), own liquidation estimate/);
    expect(signals.map((s) => [s.symbol, s.direction])).toEqual([['AAAUSDT', 'LONG'], ['CCCUSDT', 'SHORT']]);
    expect(r.trades.map((t) => [t.symbol, t.side, t.reason])).toEqual([
      ['AAAUSDT', 'long', 'take_profit'], ['CCCUSDT', 'short', 'take_profit'], ['AAAUSDT', 'short', 'end_of_data'], ['CCCUSDT', 'long', 'end_of_data'],
    ]);
    for (const [i, dir] of [[0, 1], [1, -1]] as const) {
      const t = r.trades[i]!;
      const s = signals[i]!;
      // Aggressive entry: market at the completing bar point's price, slipped against us, taker fee.
      expect(t.entryPrice).toBeCloseTo(s.features.lastPrice * (1 + dir * SLIP), 12);
      expect(t.openedAtMs).toBe(s.tsInit);
      // Take-profit front-runs the target cluster's centre by 0.2 % (not BTC/ETH), on the tick grid.
      const tick = t.symbol === 'AAAUSDT' ? 1e-4 : 1e-5;
      expect(Math.abs(t.takeProfitPrice - s.target!.centre * (1 - dir * 0.002))).toBeLessThan(tick);
      // The exit: the first replayed price through the take-profit after the entry, slipped against us.
      const hist = source.kind === 'history' ? source.histories.find((h) => h.symbol === t.symbol)! : undefined;
      const through = [...barEvents(t.symbol, hist!.bars, hist!.openInterest)].find((e) => e.kind !== 'liquidations' && e.tsInit > t.openedAtMs && dir * (e.lastPrice - t.takeProfitPrice) >= 0)!;
      expect(t.closedAtMs).toBe(through.tsInit);
      expect(t.exitPrice).toBeCloseTo((through.kind === 'liquidations' ? NaN : through.lastPrice) * (1 - dir * SLIP), 12);
      const fees = t.entryPrice * t.qty * TAKER + t.exitPrice * t.qty * TAKER;
      expect(t.feesUsd).toBeCloseTo(fees, 9);
      expect(t.pnlUsd).toBeCloseTo(dir * (t.exitPrice - t.entryPrice) * t.qty - fees, 2);
    }
    // The same trades as numbers a person can read off the report.
    expect(r.trades.slice(0, 2).map((t) => [t.entryPrice.toFixed(5), t.exitPrice.toFixed(5), t.qty, t.pnlUsd.toFixed(2)])).toEqual([
      ['2.26494', '2.56377', 433, '128.25'],
      ['0.86624', '0.76331', 1140, '116.32'],
    ]);
    expect(r.metrics).toMatchObject({ trades: 4, wins: 3, losses: 1, winRatePct: 75 });
    expect(r.metrics.totalPnlUsd).toBeCloseTo(r.trades.reduce((a, t) => a + t.pnlUsd, 0), 9);
    // Open positions count at their mark net of the entry fee already paid, so the account agrees with the PnL.
    expect(r.finalEquityUsd - r.initialEquityUsd).toBeCloseTo(r.metrics.totalPnlUsd, 6);
    expect(r.refusals).toEqual([]);

    const report = toReportInput(r);
    expect(report.source).toBe(r.source);
    expect(report.coins.map((c) => c.symbol)).toEqual(['AAAUSDT', 'CCCUSDT']);
    for (const c of report.coins) {
      expect(c.bars.length).toBeGreaterThan(1000);
      expect(c.bars.length).toBeLessThanOrEqual(3000);
      expect(c.clusters.length).toBeGreaterThan(0);
    }
    expect(report.metrics.find((m) => m.key === 'winRatePct')).toMatchObject({ value: 75, target: '65–80 %', meetsTarget: true });
    expect(Math.max(...report.equity.map((p) => p.drawdownPct))).toBeCloseTo(r.metrics.maxDrawdownPct, 6);

    const again = await runBacktest(week(), loadConfig(ENV, ''));
    expect(again.digest).toBe(r.digest);
    expect(JSON.stringify(again)).toBe(JSON.stringify(r));
  }, 180_000);
});

describe('backtest of a simulated tape', () => {
  it('reuses replay: the same digest as `replay` with trading, and the closed trade of the pump', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-backtest-tape-'));
    try {
      const at = (m: number) => SIM_START + m * MIN;
      await writeTape(
        simulateMarket({
          seed: 's1', symbolCount: 4, startMs: SIM_START, durationMs: 58 * MIN,
          scenarios: [
            { symbol: 'SYM003USDT', kind: 'dump', startMs: at(5), durationMs: 20 * MIN, movePct: 6, oiChangePct: 40, volumeMult: 3 },
            { symbol: 'SYM003USDT', kind: 'pump', startMs: at(40), durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 },
            { symbol: 'SYM003USDT', kind: 'pump', startMs: at(46), durationMs: 10 * MIN, movePct: 18, oiChangePct: 5, volumeMult: 2 },
          ],
        }),
        { dir },
      );
      const config = loadConfig({ ...ENV, ENTRY_STYLE: 'conservative', ENTRY_STYLES: 'SYM003:aggressive' }, '');
      const r = await runBacktest({ kind: 'tape', paths: [dir] }, config);
      const replay = await replayTape([dir], { ...engineSettings(config), trading: executionSettings(config.trading, false) });
      expect(r.digest).toBe(replay.outputDigest);
      expect(r.source).toBe(`tapes: ${dir}`);
      expect(r.events).toBe(replay.frames);
      const closed = r.trades.filter((t) => t.reason !== 'end_of_data');
      expect(closed.length).toBe(replay.trading!.tradesClosed);
      expect(closed[0]).toMatchObject({ symbol: 'SYM003USDT', side: 'long', reason: 'take_profit' });
      expect(closed.reduce((a, t) => a + t.pnlUsd, 0)).toBeCloseTo(replay.trading!.pnlUsd, 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
