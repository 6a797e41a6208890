/**
 * Pure backtest statistics: what a trader reads before risking money (win rate, payoff, drawdown, Sharpe and
 * Sortino, exposure), computed from closed trades and an equity curve. No I/O, no clock: the backtester hands in
 * plain numbers, the same numbers the JSON output and the HTML report show.
 */

/** One closed trade as the metrics see it. */
export interface TradeOutcome {
  readonly symbol: string;
  readonly openedAtMs: number;
  readonly closedAtMs: number;
  /** Net of fees, USDT. */
  readonly pnlUsd: number;
}

export interface EquitySample {
  readonly tsMs: number;
  readonly equityUsd: number;
}

export interface BacktestMetrics {
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  /** Share of closed trades with net PnL > 0, in % (0 with no trades). */
  readonly winRatePct: number;
  /** Mean net PnL of the winners, USDT (0 with none). */
  readonly avgWinUsd: number;
  /** Mean net loss of the losers as a positive number, USDT (0 with none). */
  readonly avgLossUsd: number;
  /** Payoff ratio avgWin ÷ avgLoss (the realized risk:reward); NaN without both a win and a loss. */
  readonly riskReward: number;
  readonly totalPnlUsd: number;
  /** totalPnl ÷ initial equity, in %. */
  readonly returnPct: number;
  readonly pnlBySymbol: Readonly<Record<string, number>>;
  /** Largest fall from a running peak of the equity curve, in % of that peak. */
  readonly maxDrawdownPct: number;
  /** Annualized with √365 from daily returns (UTC days, risk-free 0); NaN with fewer than 2 daily returns. */
  readonly sharpe: number;
  /** As `sharpe`, with the downside deviation (root mean square of the negative daily returns) as the risk. */
  readonly sortino: number;
  /** Share of the run's time with at least one position open, in %. */
  readonly exposurePct: number;
}

const DAY_MS = 86_400_000;

/** Largest peak-to-trough fall in % of the peak; 0 for a curve that never falls. One pass. */
export function maxDrawdownPct(equity: readonly number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const e of equity) {
    if (e > peak) peak = e;
    else if (peak > 0) worst = Math.max(worst, ((peak - e) / peak) * 100);
  }
  return worst;
}

/** Drawdown from the running peak at each point, in % (0 at a new high). */
export function drawdownSeriesPct(equity: readonly number[]): number[] {
  let peak = -Infinity;
  return equity.map((e) => {
    peak = Math.max(peak, e);
    return peak > 0 ? ((peak - e) / peak) * 100 : 0;
  });
}

/**
 * Daily returns from an equity curve: the last equity of each UTC day against the previous day's last (the first
 * day against `initialEquityUsd`). Days without a sample carry the previous equity (a 0 % return), so calendar
 * time, not activity, sets the count.
 */
export function dailyReturns(samples: readonly EquitySample[], initialEquityUsd: number, startMs: number, endMs: number): number[] {
  if (!(endMs > startMs)) return [];
  const firstDay = Math.floor(startMs / DAY_MS);
  const lastDay = Math.floor((endMs - 1) / DAY_MS);
  const closeOfDay = new Array<number>(lastDay - firstDay + 1).fill(Number.NaN);
  for (const s of samples) {
    const d = Math.floor(s.tsMs / DAY_MS) - firstDay;
    if (d >= 0 && d < closeOfDay.length) closeOfDay[d] = s.equityUsd;
  }
  const out: number[] = [];
  let prev = initialEquityUsd;
  for (const c of closeOfDay) {
    const close = Number.isNaN(c) ? prev : c;
    out.push(prev > 0 ? close / prev - 1 : 0);
    prev = close;
  }
  return out;
}

/** Annualized Sharpe (risk-free 0) of periodic returns, `periodsPerYear` periods a year; NaN under 2 returns or no spread. */
export function sharpeRatio(returns: readonly number[], periodsPerYear: number): number {
  if (returns.length < 2) return Number.NaN;
  const mean = returns.reduce((a, r) => a + r, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  return variance > 0 ? (mean / Math.sqrt(variance)) * Math.sqrt(periodsPerYear) : Number.NaN;
}

/** Annualized Sortino (target 0): mean over the root mean square of min(r, 0); NaN under 2 returns or no losing period. */
export function sortinoRatio(returns: readonly number[], periodsPerYear: number): number {
  if (returns.length < 2) return Number.NaN;
  const mean = returns.reduce((a, r) => a + r, 0) / returns.length;
  const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(r, 0) ** 2, 0) / returns.length);
  return downside > 0 ? (mean / downside) * Math.sqrt(periodsPerYear) : Number.NaN;
}

/** Length of the union of [from, to) intervals clipped to [startMs, endMs). */
export function unionLengthMs(intervals: ReadonlyArray<readonly [number, number]>, startMs: number, endMs: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, startMs), Math.min(b, endMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curA = Number.NaN;
  let curB = Number.NaN;
  for (const [a, b] of clipped) {
    if (Number.isNaN(curA) || a > curB) {
      if (!Number.isNaN(curA)) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (!Number.isNaN(curA)) total += curB - curA;
  return total;
}

export interface MetricsInput {
  readonly trades: readonly TradeOutcome[];
  /** Mark-to-market equity over the run, oldest first. */
  readonly equity: readonly EquitySample[];
  readonly initialEquityUsd: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Intervals with a position open (trades still open at the end run to `endMs`). */
  readonly exposure: ReadonlyArray<readonly [number, number]>;
}

/** Every backtest statistic from one run's trades and equity curve. */
export function backtestMetrics(input: MetricsInput): BacktestMetrics {
  const pnl = input.trades.map((t) => t.pnlUsd);
  const winners = pnl.filter((p) => p > 0);
  const losers = pnl.filter((p) => p <= 0);
  const sum = (xs: readonly number[]): number => xs.reduce((a, x) => a + x, 0);
  const avgWinUsd = winners.length > 0 ? sum(winners) / winners.length : 0;
  const avgLossUsd = losers.length > 0 ? -sum(losers) / losers.length : 0;
  const pnlBySymbol: Record<string, number> = {};
  for (const t of input.trades) pnlBySymbol[t.symbol] = (pnlBySymbol[t.symbol] ?? 0) + t.pnlUsd;
  const totalPnlUsd = sum(pnl);
  const curve = [input.initialEquityUsd, ...input.equity.map((s) => s.equityUsd)];
  const daily = dailyReturns(input.equity, input.initialEquityUsd, input.startMs, input.endMs);
  const span = input.endMs - input.startMs;
  return {
    trades: pnl.length,
    wins: winners.length,
    losses: losers.length,
    winRatePct: pnl.length > 0 ? (winners.length / pnl.length) * 100 : 0,
    avgWinUsd,
    avgLossUsd,
    riskReward: winners.length > 0 && losers.length > 0 && avgLossUsd > 0 ? avgWinUsd / avgLossUsd : Number.NaN,
    totalPnlUsd,
    returnPct: input.initialEquityUsd > 0 ? (totalPnlUsd / input.initialEquityUsd) * 100 : 0,
    pnlBySymbol,
    maxDrawdownPct: maxDrawdownPct(curve),
    sharpe: sharpeRatio(daily, 365),
    sortino: sortinoRatio(daily, 365),
    exposurePct: span > 0 ? (unionLengthMs(input.exposure, input.startMs, input.endMs) / span) * 100 : 0,
  };
}

/** The founder's targets: win rate 65–80 %, risk:reward ≥ 2, max drawdown < 20 %. */
export const FOUNDER_TARGETS = {
  winRatePct: { text: '65–80 %', met: (v: number) => v >= 65 && v <= 80 },
  riskReward: { text: '≥ 2', met: (v: number) => v >= 2 },
  maxDrawdownPct: { text: '< 20 %', met: (v: number) => v < 20 },
} as const;
