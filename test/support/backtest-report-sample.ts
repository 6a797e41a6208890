import type { BacktestBar, BacktestCluster, BacktestMetric, BacktestReportInput, BacktestTrade } from '../../src/core/backtest-report-input.js';
import { Prng } from '../../src/core/prng.js';

/**
 * A realistic backtest result for the report's tests and the README screenshot: hourly random-walk bars per
 * coin, liquidation clusters above and below price, and trades that really follow those bars (a trade closes
 * on the first bar whose range reaches its stop or take-profit, stop first when both are reached, else after
 * `maxHoldBars`). PnL, fees, the equity curve and every metric are computed from the trades, so the numbers
 * are consistent the way a backtester's are. Deterministic for a seed.
 */
export interface SampleOptions {
  readonly seed?: number;
  readonly bars?: number;
  readonly coins?: ReadonlyArray<{ readonly symbol: string; readonly price: number }>;
  readonly maxTradesPerCoin?: number;
}

const HOUR_MS = 3_600_000;
const START_MS = Date.UTC(2026, 9, 1);
const NOTIONAL_USD = 2_000;
const FEE_RATE = 0.00055;
const START_EQUITY_USD = 10_000;
const MAX_HOLD_BARS = 48;

const DEFAULT_COINS = [
  { symbol: 'BTCUSDT', price: 97_000 },
  { symbol: 'ETHUSDT', price: 3_400 },
  { symbol: 'SOLUSDT', price: 182 },
  { symbol: '1000PEPEUSDT', price: 0.01234 },
];

function walk(rng: Prng, startPrice: number, count: number): BacktestBar[] {
  const bars: BacktestBar[] = [];
  let price = startPrice;
  for (let i = 0; i < count; i++) {
    const open = price;
    const close = open * Math.exp(rng.normal(0, 0.009));
    const high = Math.max(open, close) * (1 + Math.abs(rng.normal(0, 0.004)));
    const low = Math.min(open, close) * (1 - Math.abs(rng.normal(0, 0.004)));
    bars.push({ tsMs: START_MS + i * HOUR_MS, open, high, low, close });
    price = close;
  }
  return bars;
}

function clustersFor(rng: Prng, bars: readonly BacktestBar[]): BacktestCluster[] {
  const out: BacktestCluster[] = [];
  for (let k = 0; k < 10; k++) {
    const i = rng.nextInt(0, bars.length - 24);
    const ref = bars[i]!.close;
    const side = rng.chance(0.5) ? 'long' : 'short';
    const center = ref * (side === 'long' ? 1 - 0.02 - 0.04 * rng.next() : 1 + 0.02 + 0.04 * rng.next());
    const halfWidth = center * (0.002 + 0.004 * rng.next());
    const hours = rng.nextInt(12, 96);
    out.push({
      side,
      priceLow: center - halfWidth,
      priceHigh: center + halfWidth,
      centerPrice: center,
      totalUsd: Math.round(1e6 + 3e7 * rng.next()),
      fromMs: bars[i]!.tsMs,
      toMs: bars[Math.min(bars.length - 1, i + hours)]!.tsMs,
    });
  }
  return out;
}

function tradesFor(rng: Prng, symbol: string, bars: readonly BacktestBar[], maxTrades: number, ids: { next: number }): BacktestTrade[] {
  const trades: BacktestTrade[] = [];
  let i = rng.nextInt(5, 30);
  while (trades.length < maxTrades && i < bars.length - 2) {
    const side = rng.chance(0.5) ? 'long' : 'short';
    const dir = side === 'long' ? 1 : -1;
    const entryPrice = bars[i]!.close;
    const stopLossPrice = entryPrice * (1 - dir * 0.015);
    const takeProfitPrice = entryPrice * (1 + dir * 0.03);
    let j = i + 1;
    let exitPrice = Number.NaN;
    let reason = 'time_stop';
    for (; j < bars.length && j <= i + MAX_HOLD_BARS; j++) {
      const bar = bars[j]!;
      const stopHit = side === 'long' ? bar.low <= stopLossPrice : bar.high >= stopLossPrice;
      const tpHit = side === 'long' ? bar.high >= takeProfitPrice : bar.low <= takeProfitPrice;
      if (stopHit || tpHit) {
        [exitPrice, reason] = stopHit ? [stopLossPrice, 'stop_loss'] : [takeProfitPrice, 'take_profit'];
        break;
      }
    }
    if (Number.isNaN(exitPrice)) {
      j = Math.min(j, bars.length - 1);
      exitPrice = bars[j]!.close;
      reason = j === bars.length - 1 ? 'end_of_data' : 'time_stop';
    }
    const qty = NOTIONAL_USD / entryPrice;
    const feesUsd = FEE_RATE * qty * (entryPrice + exitPrice);
    const pnlUsd = dir * (exitPrice - entryPrice) * qty - feesUsd;
    trades.push({
      tradeId: `bt-${String(ids.next++).padStart(4, '0')}`,
      symbol,
      side,
      openedAtMs: bars[i]!.tsMs + 59 * 60_000,
      closedAtMs: bars[j]!.tsMs + rng.nextInt(1, 59) * 60_000,
      entryPrice,
      exitPrice,
      stopLossPrice,
      takeProfitPrice,
      qty,
      pnlUsd,
      pnlPct: (100 * pnlUsd) / NOTIONAL_USD,
      feesUsd,
      reason,
    });
    i = j + rng.nextInt(5, 45);
  }
  return trades;
}

function metricsOf(trades: readonly BacktestTrade[], maxDrawdownPct: number, spanMs: number): BacktestMetric[] {
  const wins = trades.filter((t) => t.pnlUsd > 0);
  const losses = trades.filter((t) => t.pnlUsd <= 0);
  const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length);
  const avgWin = mean(wins.map((t) => t.pnlUsd));
  const avgLoss = mean(losses.map((t) => t.pnlUsd));
  const returns = trades.map((t) => t.pnlPct);
  const m = mean(returns);
  const sd = Math.sqrt(mean(returns.map((r) => (r - m) ** 2)));
  const downside = Math.sqrt(mean(returns.map((r) => Math.min(0, r) ** 2)));
  const winRatePct = trades.length === 0 ? 0 : (100 * wins.length) / trades.length;
  const riskReward = avgLoss === 0 ? 0 : avgWin / -avgLoss;
  const exposurePct = (100 * trades.reduce((s, t) => s + (t.closedAtMs - t.openedAtMs), 0)) / spanMs;
  return [
    { key: 'trades', label: 'Trades', value: trades.length, unit: 'count' },
    { key: 'winRatePct', label: 'Win rate', value: winRatePct, unit: '%', target: '65–80 %', meetsTarget: winRatePct >= 65 && winRatePct <= 80 },
    { key: 'avgWinUsd', label: 'Average win', value: avgWin, unit: 'USDT' },
    { key: 'avgLossUsd', label: 'Average loss', value: avgLoss, unit: 'USDT' },
    { key: 'riskReward', label: 'Risk : reward', value: riskReward, unit: 'x', target: '≥ 2', meetsTarget: riskReward >= 2 },
    { key: 'totalPnlUsd', label: 'Total PnL', value: trades.reduce((s, t) => s + t.pnlUsd, 0), unit: 'USDT' },
    { key: 'maxDrawdownPct', label: 'Max drawdown', value: maxDrawdownPct, unit: '%', target: '< 20 %', meetsTarget: maxDrawdownPct < 20 },
    { key: 'sharpe', label: 'Sharpe (per trade)', value: sd === 0 ? 0 : (m / sd) * Math.sqrt(trades.length), unit: '' },
    { key: 'sortino', label: 'Sortino (per trade)', value: downside === 0 ? 0 : (m / downside) * Math.sqrt(trades.length), unit: '' },
    { key: 'exposurePct', label: 'Exposure', value: exposurePct, unit: '%' },
  ];
}

/** Builds the sample: by default 4 coins × 500 hourly bars and 8 trades per coin at most (about 30). */
export function sampleBacktestReport(options: SampleOptions = {}): BacktestReportInput {
  const rng = new Prng(options.seed ?? 7);
  const barCount = options.bars ?? 500;
  const ids = { next: 1 };
  const coins = (options.coins ?? DEFAULT_COINS).map((c) => {
    const coinRng = rng.fork(c.symbol);
    const bars = walk(coinRng, c.price, barCount);
    return { symbol: c.symbol, bars, clusters: clustersFor(coinRng, bars), trades: tradesFor(coinRng, c.symbol, bars, options.maxTradesPerCoin ?? 8, ids) };
  });
  const trades = coins.flatMap((c) => c.trades).sort((a, b) => a.closedAtMs - b.closedAtMs);
  let equity = START_EQUITY_USD;
  let peak = equity;
  let maxDrawdownPct = 0;
  const points = [{ tsMs: START_MS, equity, drawdownPct: 0 }];
  for (const t of trades) {
    equity += t.pnlUsd;
    peak = Math.max(peak, equity);
    const drawdownPct = (100 * (peak - equity)) / peak;
    maxDrawdownPct = Math.max(maxDrawdownPct, drawdownPct);
    points.push({ tsMs: t.closedAtMs, equity, drawdownPct });
  }
  return {
    title: `Backtest: ${coins.length} coins, ${Math.round(barCount / 24)} days (sample)`,
    source: `simulated sample (seed ${options.seed ?? 7}), hourly bars`,
    metrics: metricsOf(trades, maxDrawdownPct, barCount * HOUR_MS * coins.length),
    equity: points,
    trades: [...trades].sort((a, b) => a.openedAtMs - b.openedAtMs),
    coins: coins.map(({ symbol, bars, clusters }) => ({ symbol, bars, clusters })),
    refusals: [
      { reason: 'RISK_MAX_OPEN_POSITIONS', count: 41 },
      { reason: 'SIGNAL_STALE', count: 17 },
      { reason: 'IMBALANCE_BELOW_THRESHOLD', count: 64 },
      { reason: 'DAILY_LOSS_LIMIT', count: 3 },
    ],
  };
}
