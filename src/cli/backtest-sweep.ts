import os from 'node:os';
import { Piscina } from 'piscina';
import type { BacktestMetrics } from '../core/backtest-metrics.js';
import type { BacktestSource } from './backtest.js';
import type { BacktestResult } from './backtest-result.js';
import { CONFIG_KEYS, SECRET_KEYS } from './config.js';

/** One swept setting: an environment name (the same names as the configuration) and its values. */
export interface SweepAxis {
  readonly key: string;
  readonly values: readonly string[];
}

/** What one worker runs: the source, the base environment and config file, and this set's overrides. */
export interface SweepJob {
  readonly source: BacktestSource;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly configFile: string;
  readonly settings: Readonly<Record<string, string>>;
}

const NOT_SWEEPABLE = new Set<string>([...SECRET_KEYS, 'TRADING_MODE', 'LIVE_TRADING_CONFIRM']);

/**
 * Parses `--sweep KEY=a,b,c` options. Values are split on `|` when the list holds one (for settings whose value
 * itself has commas: `SIGNAL_RANGE_WEIGHTS=7d:1|7d:1,30d:1`), else on `,`. Throws with a line for the user.
 */
export function parseSweep(specs: readonly string[]): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    if (eq < 0 || eq === spec.length - 1) throw new Error(`--sweep '${spec}': expected KEY=a,b,c`);
    if (!(CONFIG_KEYS as string[]).includes(key)) throw new Error(`--sweep '${spec}': ${key} is not a setting (see the README's configuration table)`);
    if (NOT_SWEEPABLE.has(key)) throw new Error(`--sweep '${spec}': ${key} cannot be swept (backtests always trade on paper; secrets come from the environment)`);
    if (axes.some((a) => a.key === key)) throw new Error(`--sweep '${spec}': ${key} is swept twice`);
    const list = spec.slice(eq + 1);
    const values = list.split(list.includes('|') ? '|' : ',');
    if (values.some((v) => v === '')) throw new Error(`--sweep '${spec}': an empty value`);
    axes.push({ key, values });
  }
  return axes;
}

/** The cartesian product of the axes, first axis slowest; one empty set without axes. */
export function sweepSets(axes: readonly SweepAxis[]): Record<string, string>[] {
  let sets: Record<string, string>[] = [{}];
  for (const axis of axes) sets = sets.flatMap((s) => axis.values.map((v) => ({ ...s, [axis.key]: v })));
  return sets;
}

/** Where the worker module is: beside this file in the build (`dist/src/cli/backtest-worker.js`). */
export const DEFAULT_WORKER_FILE = new URL('./backtest-worker.js', import.meta.url).href;

/**
 * Runs every job on a pool of worker threads (piscina; `threads`, default all cores) and returns the results in
 * job order. Each run is the same deterministic backtest as a single run in its own thread: no shared state.
 */
export async function runSweep(jobs: readonly SweepJob[], opts: { threads?: number; workerFile?: string } = {}): Promise<BacktestResult[]> {
  const threads = Math.max(1, Math.min(opts.threads ?? os.availableParallelism(), jobs.length));
  const pool = new Piscina({ filename: opts.workerFile ?? DEFAULT_WORKER_FILE, minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
  try {
    return await Promise.all(jobs.map((job) => pool.run(job) as Promise<BacktestResult>));
  } finally {
    await pool.destroy();
  }
}

export type SortMetric = keyof Omit<BacktestMetrics, 'pnlBySymbol'>;
export const SORT_METRICS: readonly SortMetric[] = ['totalPnlUsd', 'returnPct', 'winRatePct', 'riskReward', 'maxDrawdownPct', 'sharpe', 'sortino', 'exposurePct', 'avgWinUsd', 'avgLossUsd', 'trades', 'wins', 'losses'];
const LOWER_IS_BETTER = new Set<SortMetric>(['maxDrawdownPct', 'avgLossUsd', 'losses']);

/** Best first by `metric` (highest, or lowest for drawdown and losses); NaN last; ties keep the sweep's order. */
export function sortResults(results: readonly BacktestResult[], metric: SortMetric): BacktestResult[] {
  const sign = LOWER_IS_BETTER.has(metric) ? 1 : -1;
  return results
    .map((r, i) => ({ r, i, v: r.metrics[metric] }))
    .sort((a, b) => (Number.isNaN(a.v) ? 1 : 0) - (Number.isNaN(b.v) ? 1 : 0) || sign * ((Number.isNaN(a.v) ? 0 : a.v) - (Number.isNaN(b.v) ? 0 : b.v)) || a.i - b.i)
    .map((x) => x.r);
}

const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** A fixed-width results table, one row per parameter set, in the given order. */
export function sweepTable(results: readonly BacktestResult[], metric: SortMetric): string {
  const head = ['#', 'settings', 'trades', 'win %', 'R:R', 'PnL USDT', 'max DD %', 'Sharpe', 'Sortino', 'exposure %'];
  const rows = results.map((r, i) => [
    String(i + 1), Object.entries(r.settings).map(([k, v]) => `${k}=${v}`).join(' ') || '(base)', String(r.metrics.trades), fmt(r.metrics.winRatePct, 1),
    fmt(r.metrics.riskReward), fmt(r.metrics.totalPnlUsd), fmt(r.metrics.maxDrawdownPct), fmt(r.metrics.sharpe), fmt(r.metrics.sortino), fmt(r.metrics.exposurePct, 1),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((x, c) => (c === 1 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [`sorted by ${metric}${LOWER_IS_BETTER.has(metric) ? ' (lowest first)' : ' (highest first)'}`, line(head), ...rows.map(line)].join('\n');
}
