/**
 * Everything the self-contained HTML backtest report draws, as plain data: the backtester produces it (and the
 * same numbers as `--json`), the report renders it. Times are epoch ms; money in USDT.
 */

export interface BacktestMetric {
  /** Stable key, also the key in the JSON output (e.g. `winRatePct`, `maxDrawdownPct`, `sharpe`). */
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: '%' | 'USDT' | 'x' | 'count' | '';
  /** The founder's target when there is one, as text (e.g. `65–80 %`, `≥ 2`, `< 20 %`). */
  readonly target?: string;
  readonly meetsTarget?: boolean;
}

export interface BacktestEquityPoint {
  readonly tsMs: number;
  readonly equity: number;
  /** Drawdown from the running peak, in % (0 or positive). */
  readonly drawdownPct: number;
}

export interface BacktestTrade {
  readonly tradeId: string;
  readonly symbol: string;
  readonly side: 'long' | 'short';
  readonly openedAtMs: number;
  readonly closedAtMs: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  readonly qty: number;
  readonly pnlUsd: number;
  readonly pnlPct: number;
  readonly feesUsd: number;
  /** Why it closed: take_profit, stop_loss, trailing_stop, liquidation, end_of_data, … */
  readonly reason: string;
}

export interface BacktestBar {
  readonly tsMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export interface BacktestCluster {
  readonly side: 'long' | 'short';
  readonly priceLow: number;
  readonly priceHigh: number;
  readonly centerPrice: number;
  readonly totalUsd: number;
  /** When the cluster was first and last seen significant. */
  readonly fromMs: number;
  readonly toMs: number;
}

export interface BacktestCoin {
  readonly symbol: string;
  readonly bars: readonly BacktestBar[];
  readonly clusters: readonly BacktestCluster[];
}

export interface BacktestReportInput {
  readonly title: string;
  /** Where the events came from, in words: `tapes: …` or `stored history: … (own liquidation estimate)`. */
  readonly source: string;
  readonly metrics: readonly BacktestMetric[];
  readonly equity: readonly BacktestEquityPoint[];
  readonly trades: readonly BacktestTrade[];
  /** Traded coins only, each with its price bars and the clusters drawn on its chart. */
  readonly coins: readonly BacktestCoin[];
  readonly refusals: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
}
