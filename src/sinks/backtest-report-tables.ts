import type { BacktestMetric, BacktestReportInput, BacktestTrade } from '../core/backtest-report-input.js';
import { formatFixed, formatMetric, formatPrice, formatQty, formatSigned, formatTime } from './backtest-report-format.js';
import { escapeHtml as esc } from './html-escape.js';

/**
 * The report's tables as HTML strings. Every number a script might check sits in a cell carrying
 * `data-key` (the field name) and `data-value` (the exact number as JavaScript prints it, so `Number(...)`
 * gives back the very same double); the text in the cell is only for people.
 */

/** `data-key`/`data-value` attributes for one exact number. */
function exact(key: string, value: number): string {
  return `data-key="${esc(key)}" data-value="${esc(String(value))}"`;
}

function pnlClass(value: number): string {
  return value > 0 ? 'pos' : value < 0 ? 'neg' : '';
}

function metricStatus(m: BacktestMetric): string {
  if (m.meetsTarget === undefined) return '<td class="status"></td>';
  return m.meetsTarget
    ? '<td class="status met" data-meets-target="true">met</td>'
    : '<td class="status unmet" data-meets-target="false">not met</td>';
}

/** Metrics with the founder's targets and whether each is met. */
export function metricsTable(metrics: BacktestReportInput['metrics']): string {
  if (metrics.length === 0) return '<p class="empty">No metrics.</p>';
  const rows = metrics.map(
    (m) =>
      `<tr data-metric="${esc(m.key)}"><th scope="row">${esc(m.label)}</th>` +
      `<td class="num" ${exact(m.key, m.value)} data-unit="${esc(m.unit)}">${esc(formatMetric(m))}</td>` +
      `<td class="target">${esc(m.target ?? '')}</td>${metricStatus(m)}</tr>`,
  );
  return `<table class="metrics" id="metrics"><thead><tr><th>Metric</th><th>Value</th><th>Target</th><th></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

const TRADE_COLUMNS = ['#', 'Trade', 'Coin', 'Side', 'Opened (UTC)', 'Closed (UTC)', 'Entry', 'Exit', 'Stop', 'Take profit', 'Qty', 'PnL USDT', 'PnL %', 'Fees', 'Close reason'];

function tradeRow(t: BacktestTrade, index: number, coinAnchor: string | undefined): string {
  const coin = coinAnchor === undefined ? esc(t.symbol) : `<a href="#${coinAnchor}">${esc(t.symbol)}</a>`;
  const cells = [
    `<td class="num">${index + 1}</td>`,
    `<td class="id">${esc(t.tradeId)}</td>`,
    `<td data-key="symbol">${coin}</td>`,
    `<td data-key="side" class="side ${t.side === 'long' ? 'long' : 'short'}">${esc(t.side)}</td>`,
    `<td ${exact('openedAtMs', t.openedAtMs)}>${esc(formatTime(t.openedAtMs))}</td>`,
    `<td ${exact('closedAtMs', t.closedAtMs)}>${esc(formatTime(t.closedAtMs))}</td>`,
    `<td class="num" ${exact('entryPrice', t.entryPrice)}>${esc(formatPrice(t.entryPrice))}</td>`,
    `<td class="num" ${exact('exitPrice', t.exitPrice)}>${esc(formatPrice(t.exitPrice))}</td>`,
    `<td class="num" ${exact('stopLossPrice', t.stopLossPrice)}>${esc(formatPrice(t.stopLossPrice))}</td>`,
    `<td class="num" ${exact('takeProfitPrice', t.takeProfitPrice)}>${esc(formatPrice(t.takeProfitPrice))}</td>`,
    `<td class="num" ${exact('qty', t.qty)}>${esc(formatQty(t.qty))}</td>`,
    `<td class="num ${pnlClass(t.pnlUsd)}" ${exact('pnlUsd', t.pnlUsd)}>${esc(formatSigned(t.pnlUsd))}</td>`,
    `<td class="num ${pnlClass(t.pnlPct)}" ${exact('pnlPct', t.pnlPct)}>${esc(formatSigned(t.pnlPct))} %</td>`,
    `<td class="num" ${exact('feesUsd', t.feesUsd)}>${esc(formatFixed(t.feesUsd, 2))}</td>`,
    `<td data-key="reason">${esc(t.reason)}</td>`,
  ];
  return `<tr data-trade-id="${esc(t.tradeId)}">${cells.join('')}</tr>`;
}

/** Every trade in opening order; the coin links to its chart when the report has one. */
export function tradesTable(trades: readonly BacktestTrade[], coinAnchors: ReadonlyMap<string, string>): string {
  const head = TRADE_COLUMNS.map((c) => `<th>${esc(c)}</th>`).join('');
  const sorted = [...trades].sort((a, b) => a.openedAtMs - b.openedAtMs);
  const body = sorted.length === 0 ? `<tr><td colspan="${TRADE_COLUMNS.length}" class="empty">No trades.</td></tr>` : sorted.map((t, i) => tradeRow(t, i, coinAnchors.get(t.symbol))).join('\n');
  return `<div class="scroll"><table class="trades" id="trades"><thead><tr>${head}</tr></thead>\n<tbody>${body}</tbody></table></div>`;
}

/** Signals the strategy refused, by reason, largest first, with each reason's share. */
export function refusalsTable(refusals: BacktestReportInput['refusals']): string {
  if (refusals.length === 0) return '<p class="empty">No signals were refused.</p>';
  const total = refusals.reduce((s, r) => s + r.count, 0);
  const sorted = [...refusals].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  const rows = sorted.map((r) => {
    const share = total > 0 ? (100 * r.count) / total : 0;
    return (
      `<tr data-refusal="${esc(r.reason)}"><td class="reason">${esc(r.reason)}</td>` +
      `<td class="num" ${exact('count', r.count)}>${esc(formatFixed(r.count, 0))}</td>` +
      `<td class="share"><span class="bar" style="width:${share.toFixed(1)}%"></span>${esc(formatFixed(share, 1))} %</td></tr>`
    );
  });
  return `<table class="refusals" id="refusals"><thead><tr><th>Reason</th><th>Signals</th><th>Share</th></tr></thead>
<tbody>${rows.join('\n')}</tbody><tfoot><tr><th scope="row">Total</th><td class="num" ${exact('total', total)}>${esc(formatFixed(total, 0))}</td><td></td></tr></tfoot></table>`;
}

/** One line under a coin's heading: its trades, wins and net PnL. */
export function coinSummary(symbol: string, trades: readonly BacktestTrade[]): string {
  const mine = trades.filter((t) => t.symbol === symbol);
  const pnl = mine.reduce((s, t) => s + t.pnlUsd, 0);
  const wins = mine.filter((t) => t.pnlUsd > 0).length;
  return `<p class="coin-summary">${mine.length} trade${mine.length === 1 ? '' : 's'}, ${wins} won, net <span class="${pnlClass(pnl)}" ${exact('coinPnlUsd', pnl)}>${esc(formatSigned(pnl))} USDT</span></p>`;
}
