import { writeFileSync } from 'node:fs';
import type { BacktestReportInput } from '../core/backtest-report-input.js';

/**
 * TEMPORARY MERGE SEAM (issue 12): the one place `backtest --report <out.html>` reaches the HTML renderer.
 * `renderBacktestReport(input): string` (src/sinks/backtest-report.ts) is written on another branch in parallel;
 * when the branches merge, this function writes `renderBacktestReport(input)` to `htmlPath` and returns no note.
 * Until then it writes the report's input as JSON next to the requested file (`<name>.report-input.json`) and says
 * so, so the flag is wired end to end and its data is testable now.
 */
export function writeBacktestReport(htmlPath: string, input: BacktestReportInput): { readonly path: string; readonly note?: string } {
  const jsonPath = htmlPath.replace(/\.html?$/i, '') + '.report-input.json';
  writeFileSync(jsonPath, `${JSON.stringify(input)}\n`);
  return { path: jsonPath, note: `the HTML renderer is not in this build: wrote the report's input to ${jsonPath} instead of ${htmlPath}` };
}
