import { runBacktest } from './backtest.js';
import type { BacktestResult } from './backtest-result.js';
import type { SweepJob } from './backtest-sweep.js';
import { loadConfig } from './config.js';

/**
 * A sweep worker (piscina): one parameter set's backtest in this thread. The configuration is loaded here from the
 * base environment plus the set's overrides, through the same zod schema as every command (the parent already
 * validated every set, so a refusal here would be a bug, and it rejects the task with the config's message).
 */
export default async function runSweepJob(job: SweepJob): Promise<BacktestResult> {
  const config = loadConfig({ ...job.env, ...job.settings }, job.configFile);
  return runBacktest(job.source, config, { ...job.settings });
}
