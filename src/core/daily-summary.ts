import type { Notification } from './notification.js';
import { fmtUsd, fmtUtcMinute } from './notification-format.js';

const DAY_MS = 86_400_000;

/** The next `hourUtc`:00 strictly after `nowMs` (the daily summary's schedule). */
export function nextDailySummaryAtMs(nowMs: number, hourUtc: number): number {
  const dayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const today = dayStart + hourUtc * 3_600_000;
  return today > nowMs ? today : today + DAY_MS;
}

export interface SummaryTrade {
  readonly symbol: string;
  readonly status: string;
  readonly pnlUsd: number | undefined;
  readonly closedAtMs: number | undefined;
}

export interface SummaryInput {
  /** The summary covers the 24 h ending here. */
  readonly atMs: number;
  /** Recent trades (any window); only those closed in the 24 h count. */
  readonly trades: readonly SummaryTrade[];
  readonly signals: number | undefined;
  readonly equityUsd: number | undefined;
  readonly riskMode: string | undefined;
  readonly openPositions: number;
}

/**
 * The daily summary: trades closed in the last 24 h, wins, net PnL, best and worst coin, equity and risk state.
 * Pure; the daemon schedules it with `nextDailySummaryAtMs`.
 */
export function dailySummaryNotification(s: SummaryInput): Notification {
  const from = s.atMs - DAY_MS;
  const closed = s.trades.filter((t) => t.status === 'closed' && t.closedAtMs !== undefined && t.closedAtMs > from && t.closedAtMs <= s.atMs);
  const pnl = closed.reduce((a, t) => a + (t.pnlUsd ?? 0), 0);
  const wins = closed.filter((t) => (t.pnlUsd ?? 0) > 0).length;
  const byCoin = new Map<string, number>();
  for (const t of closed) byCoin.set(t.symbol, (byCoin.get(t.symbol) ?? 0) + (t.pnlUsd ?? 0));
  const sorted = [...byCoin].sort((a, b) => b[1] - a[1]);
  const fields: (readonly [string, string])[] = [
    ['Closed trades', String(closed.length)],
    ['Win rate', closed.length === 0 ? 'n/a' : `${((wins / closed.length) * 100).toFixed(0)} % (${wins}/${closed.length})`],
    ['Net PnL', `${fmtUsd(pnl)} USDT`],
  ];
  if (sorted.length > 0) fields.push(['Best', `${sorted[0]![0]} ${fmtUsd(sorted[0]![1])}`], ['Worst', `${sorted.at(-1)![0]} ${fmtUsd(sorted.at(-1)![1])}`]);
  fields.push(['Open positions', String(s.openPositions)]);
  if (s.equityUsd !== undefined) fields.push(['Equity', `${fmtUsd(s.equityUsd)} USDT`]);
  if (s.signals !== undefined) fields.push(['Signals (since start)', String(s.signals)]);
  fields.push(['Risk', s.riskMode ?? 'trading off']);
  return {
    id: `daily:${s.atMs}`,
    kind: 'daily_summary',
    tsMs: s.atMs,
    title: `Daily summary to ${fmtUtcMinute(s.atMs)}`,
    fields,
    sensitive: true,
  };
}
