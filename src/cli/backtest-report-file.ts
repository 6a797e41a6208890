import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { BacktestReportInput } from '../core/backtest-report-input.js';
import { renderBacktestReport } from '../sinks/backtest-report.js';

/**
 * `backtest --report <out.html>`: the run's self-contained HTML report. Written beside the target and renamed over
 * it, so an interrupted run never leaves half a page where an earlier report was.
 */
export function writeBacktestReport(htmlPath: string, input: BacktestReportInput): { readonly path: string } {
  const tmp = `${htmlPath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, renderBacktestReport(input));
    renameSync(tmp, htmlPath);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { path: htmlPath };
}
