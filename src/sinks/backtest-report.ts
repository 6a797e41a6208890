import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BacktestReportInput } from '../core/backtest-report-input.js';
import { CHART_SCRIPT } from './backtest-report-chart-script.js';
import { REPORT_CSS } from './backtest-report-style.js';
import { coinSummary, metricsTable, refusalsTable, tradesTable } from './backtest-report-tables.js';
import { escapeHtml as esc, jsonForScript } from './html-escape.js';

let chartLibrary: string | undefined;

/**
 * TradingView's lightweight-charts, standalone production build (defines `window.LightweightCharts`), read
 * once from the installed package. The package's `exports` map does not list `dist/`, so the file is found
 * next to its exported package.json.
 */
function lightweightCharts(): string {
  if (chartLibrary === undefined) {
    const pkg = createRequire(import.meta.url).resolve('lightweight-charts/package.json');
    chartLibrary = readFileSync(path.join(path.dirname(pkg), 'dist', 'lightweight-charts.standalone.production.js'), 'utf8');
  }
  return chartLibrary;
}

/** An inline script, refusing any text the HTML parser would end early or read as a comment opener. */
function inlineScript(source: string): string {
  if (/<\/script|<!--/i.test(source)) throw new Error('inline script contains </script or <!--; it cannot be inlined safely');
  return `<script>${source}</script>`;
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * Content-Security-Policy for the page: nothing may be fetched (`default-src 'none'`), and only the two
 * scripts written here may run (by hash), so even a string that slipped past escaping could not execute.
 * Inline styles are allowed because the chart library sizes its canvases through them.
 */
function contentSecurityPolicy(scripts: readonly string[]): string {
  return [`default-src 'none'`, `script-src ${scripts.map(sha256).join(' ')}`, `style-src 'unsafe-inline'`, `img-src data:`, `base-uri 'none'`, `form-action 'none'`].join('; ');
}

function coinSection(input: BacktestReportInput, index: number): string {
  const coin = input.coins[index]!;
  return `<section class="card coin" id="coin-${index}" data-symbol="${esc(coin.symbol)}">
<div class="coin-head"><h3>${esc(coin.symbol)}</h3>${coinSummary(coin.symbol, input.trades)}</div>
${coin.bars.length === 0 ? '<p class="empty">No price bars for this coin.</p>' : `<div class="chart" data-chart="price" data-coin-index="${index}"></div>`}
<p class="legend"><span><i class="k-long"></i>long-liquidation cluster</span><span><i class="k-short"></i>short-liquidation cluster</span><span><i class="k-stop"></i>stop</span><span><i class="k-tp"></i>take profit</span><span>▲/▼ entry · ● exit with PnL (USDT)</span></p>
</section>`;
}

/**
 * The backtest as one self-contained HTML page that opens offline: the lightweight-charts build, the chart
 * code and the data are all inlined, and the page's CSP forbids every network request. The tables are
 * rendered here (readable without JavaScript); the charts are drawn in the browser from the embedded JSON
 * (`#report-data`, the whole input). Every number a script may want to check carries `data-key` and
 * `data-value` (see backtest-report-tables.ts). Pure apart from reading the chart library once.
 */
export function renderBacktestReport(input: BacktestReportInput): string {
  const library = lightweightCharts();
  const anchors = new Map(input.coins.map((c, i) => [c.symbol, `coin-${i}`] as const));
  const equity =
    input.equity.length === 0
      ? '<p class="empty">No equity points.</p>'
      : '<div class="chart equity" data-chart="equity"></div><p class="legend"><span>equity (USDT, top) and drawdown from the running peak (%, below)</span></p>';
  const coins = input.coins.length === 0 ? '<p class="empty">No traded coins.</p>' : input.coins.map((_, i) => coinSection(input, i)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy([library, CHART_SCRIPT]))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="whalestack">
<link rel="icon" href="data:,">
<title>${esc(input.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<header><h1>${esc(input.title)}</h1><p>Source: <span id="source">${esc(input.source)}</span> · ${input.trades.length} trades on ${input.coins.length} coins</p></header>
<div class="overview">
<section class="card"><h2>Metrics</h2>${metricsTable(input.metrics)}</section>
<section class="card"><h2>Equity and drawdown</h2>${equity}</section>
</div>
<h2>Coins</h2>
${coins}
<section class="card"><h2>Trades</h2>${tradesTable(input.trades, anchors)}</section>
<section class="card"><h2>Refused signals by reason</h2>${refusalsTable(input.refusals)}</section>
<footer>Generated by whalestack. Times in UTC. Charts: TradingView Lightweight Charts™ (Apache-2.0), inlined.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript(input)}</script>
${inlineScript(library)}
${inlineScript(CHART_SCRIPT)}
</body>
</html>
`;
}
