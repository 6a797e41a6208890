import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { toReportInput, type BacktestResult } from './backtest-result.js';
import path from 'node:path';
import { renderBacktestReport } from '../sinks/backtest-report.js';
import { parseBacktestReportInput } from '../sinks/backtest-report-schema.js';
import { prepareDir } from './prepare-dir.js';

export const REPORT_USAGE = `usage: whalestack report --input <result.json> --out <report.html>

Renders a saved backtest result (the JSON 'backtest' writes) as one self-contained HTML page that opens
offline: equity and drawdown curves, a price chart per traded coin with entries, exits, stops, take-profits
and the liquidation clusters, the metrics against the founder's targets, every trade, and refused signals by
reason. The input is checked first; each problem is printed as one line and nothing is written.`;

export const REPORT_OPTIONS = {
  input: { type: 'string' as const },
  out: { type: 'string' as const },
};

/** Problems shown before "… and N more": a wrong file can have one per trade. */
const MAX_PROBLEM_LINES = 20;

/** `whalestack report`: returns the exit code (2 for bad arguments or input, 1 when the page cannot be written). */
export function reportCommand(values: Record<string, string | boolean | string[] | undefined>): number {
  const fail = (msg: string, code = 2) => {
    process.stderr.write(`whalestack report: ${msg}\n`);
    return code;
  };
  const input = values.input;
  const out = values.out;
  if (typeof input !== 'string' || input === '') return fail('--input <result.json> is required');
  if (typeof out !== 'string' || out === '') return fail('--out <report.html> is required');

  let text: string;
  try {
    text = readFileSync(input, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(`cannot read --input ${input}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(err))}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`--input ${input} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = parseBacktestReportInput(fromBacktestResult(json));
  if (!parsed.ok) {
    const shown = parsed.problems.slice(0, MAX_PROBLEM_LINES).map((p) => `--input ${input}: ${p}`);
    const more = parsed.problems.length - shown.length;
    return fail(`${shown.join('\nwhalestack report: ')}${more > 0 ? `\nwhalestack report: … and ${more} more problem(s)` : ''}`);
  }

  const dirProblem = prepareDir(path.dirname(path.resolve(out)), '--out');
  if (dirProblem !== undefined) return fail(dirProblem);
  // Written beside the target and renamed over it, so an interrupted run never leaves half a page (or
  // clobbers the previous report with one).
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, renderBacktestReport(parsed.input));
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    return fail(`cannot write --out ${out}: ${code ?? (err instanceof Error ? err.message : String(err))}`, 1);
  }
  const { trades, coins } = parsed.input;
  process.stdout.write(`wrote ${out}: ${trades.length} trades on ${coins.length} coins\n`);
  return 0;
}

/**
 * `backtest --out`/`--json` writes the whole result (metrics as an object, NaN as null, equity in USDT); the report
 * draws a `BacktestReportInput`. A single backtest result is turned into one here (the same `toReportInput` the
 * backtest's own `--report` uses); anything else is handed to the schema as it is.
 */
function fromBacktestResult(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const r = json as Record<string, unknown>;
  const metrics = r.metrics;
  if (typeof r.digest !== 'string' || typeof metrics !== 'object' || metrics === null || Array.isArray(metrics) || !Array.isArray(r.equity)) return json;
  // JSON cannot carry NaN (a Sharpe ratio under two days): the writer turned it into null.
  const restored = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v === null ? Number.NaN : v]));
  return toReportInput({ ...(r as unknown as BacktestResult), metrics: restored as unknown as BacktestResult['metrics'] });
}
