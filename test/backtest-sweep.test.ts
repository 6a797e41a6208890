import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestSource } from '../src/cli/backtest.js';
import { parseSweep, runSweep, sortResults, sweepSets } from '../src/cli/backtest-sweep.js';
import { loadConfig } from '../src/cli/config.js';
import { ROOT } from './support/run-cli.js';
import { scriptedHistory, weekScenarios, WEEK_COINS, WEEK_START } from '../src/streams/scripted-history.js';

// The worker as the CLI runs it: from the build (`npm test` builds first).
const WORKER = pathToFileURL(path.join(ROOT, 'dist/src/cli/backtest-worker.js')).href;
const DAY = 86_400_000;
const source: BacktestSource = {
  kind: 'history',
  histories: scriptedHistory({ seed: 's8', startMs: WEEK_START, days: 2, coins: WEEK_COINS.slice(0, 1), scenarios: weekScenarios(WEEK_START) }),
  fromMs: WEEK_START,
  toMs: WEEK_START + 2 * DAY,
};

describe('parameter sweeps', () => {
  it('parses KEY=a,b,c (| for values with commas) into a cartesian product, first axis slowest', () => {
    const axes = parseSweep(['ENTRY_STYLE=aggressive,conservative', 'SIGNAL_RANGE_WEIGHTS=7d:1|7d:1,30d:1']);
    expect(sweepSets(axes)).toEqual([
      { ENTRY_STYLE: 'aggressive', SIGNAL_RANGE_WEIGHTS: '7d:1' },
      { ENTRY_STYLE: 'aggressive', SIGNAL_RANGE_WEIGHTS: '7d:1,30d:1' },
      { ENTRY_STYLE: 'conservative', SIGNAL_RANGE_WEIGHTS: '7d:1' },
      { ENTRY_STYLE: 'conservative', SIGNAL_RANGE_WEIGHTS: '7d:1,30d:1' },
    ]);
    expect(sweepSets([])).toEqual([{}]);
    expect(() => parseSweep(['TRADING_MODE=paper,live'])).toThrow(/cannot be swept/);
    expect(() => parseSweep(['LADDER_RUNGS'])).toThrow(/expected KEY=a,b,c/);
    expect(() => parseSweep(['LADDER_RUNGS=5,', 'X=1'])).toThrow(/an empty value/);
    expect(() => parseSweep(['LADDER_RUNGS=5', 'LADDER_RUNGS=6'])).toThrow(/swept twice/);
  });

  it('a sweep over 8 parameter sets on 2 worker threads equals 8 single runs, result for result', async () => {
    const env = { THRESHOLD_LEARNED_MODE: 'replace' };
    const sets = sweepSets(parseSweep(['ENTRY_STYLE=aggressive,conservative', 'TRIGGER_OI_15M_PCT=3,5', 'REVERSAL_ENABLED=true,false']));
    expect(sets).toHaveLength(8);
    const swept = await runSweep(sets.map((settings) => ({ source, env, configFile: '', settings })), { threads: 2, workerFile: WORKER });
    const single = [];
    for (const settings of sets) single.push(await runBacktest(source, loadConfig({ ...env, ...settings }, ''), settings));
    expect(swept.map((r) => r.settings)).toEqual(sets);
    for (let i = 0; i < 8; i++) {
      expect(swept[i]!.digest).toBe(single[i]!.digest);
      expect(JSON.stringify(swept[i])).toBe(JSON.stringify(single[i]));
    }
    // The sets decide differently: not eight copies of one run.
    expect(new Set(single.map((r) => r.digest)).size).toBeGreaterThan(2);
    expect(single.some((r) => r.metrics.trades > 0)).toBe(true);
    const byPnl = sortResults(swept, 'totalPnlUsd').map((r) => r.metrics.totalPnlUsd);
    expect(byPnl).toEqual([...byPnl].sort((a, b) => b - a));
    const byDd = sortResults(swept, 'maxDrawdownPct').map((r) => r.metrics.maxDrawdownPct);
    expect(byDd).toEqual([...byDd].sort((a, b) => a - b));
  }, 300_000);
});
