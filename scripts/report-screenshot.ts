import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderBacktestReport } from '../src/sinks/backtest-report.js';
import { sampleBacktestReport } from '../test/support/backtest-report-sample.js';
import { launchChromium } from '../test/support/headless-chromium.js';

/**
 * Regenerates docs/backtest-report.png, the README's picture of the report: the seeded sample backtest
 * (4 coins, 500 hourly bars, ~30 trades) rendered by the real renderer and photographed in headless Chromium
 * (top of the page: metrics, equity and drawdown, the first coin's chart). Run with
 * `npm run build && node dist/scripts/report-screenshot.js [out.png]`. The sample page is kept beside the PNG's
 * temporary copy so it can be opened by hand.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, path.basename(path.dirname(HERE)) === 'dist' ? '../..' : '..'); // built: dist/scripts
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'backtest-report.png'));
const html = path.join(tmpdir(), 'whalestack-sample-report.html');
writeFileSync(html, renderBacktestReport(sampleBacktestReport()));

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1120 }, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('html[data-charts-ready]', { timeout: 15_000 });
  mkdirSync(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1200, height: 1120 } });
} finally {
  await browser.close();
}
console.log(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KB); the page is ${html}`);
