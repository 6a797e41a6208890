import type { ExecutionOutput, TradeRecord } from '../actors/execution-state.js';
import { backtestMetrics, drawdownSeriesPct, FOUNDER_TARGETS, type BacktestMetrics, type EquitySample } from '../core/backtest-metrics.js';
import type { BacktestBar, BacktestCluster, BacktestCoin, BacktestMetric, BacktestReportInput, BacktestTrade } from '../core/backtest-report-input.js';
import type { Broker } from '../core/broker.js';
import type { EngineOutput } from '../engine/engine.js';

/** Everything one backtest produced, as plain JSON-able data (`--json` prints it; sweeps compare it). */
export interface BacktestResult {
  /** `tapes: …` or `stored history: … (own liquidation estimate)`. */
  readonly source: string;
  /** The settings this run changed (a sweep's parameter set), as environment names and values. */
  readonly settings: Readonly<Record<string, string>>;
  readonly startMs: number;
  readonly endMs: number;
  /** Market events (tapes: frames) fed to the engine. */
  readonly events: number;
  readonly signals: number;
  readonly initialEquityUsd: number;
  readonly finalEquityUsd: number;
  readonly metrics: BacktestMetrics;
  /** Closed trades, then positions still open at the end marked to the last price (`end_of_data`). */
  readonly trades: readonly BacktestTrade[];
  readonly equity: readonly EquitySample[];
  readonly refusals: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** Traded coins with their bars (downsampled to at most {@link MAX_BARS_PER_COIN}) and significant clusters. */
  readonly coins: readonly BacktestCoin[];
  /** sha256 over every engine and execution output in order: equal digests, identical decisions. */
  readonly digest: string;
}

export const MAX_BARS_PER_COIN = 3000;
const MAX_EQUITY_POINTS = 3000;

/**
 * Collects a run's outputs into a {@link BacktestResult}: trades and refusals from the execution actor, minute bars
 * and significant clusters from the engine, and the paper account's mark-to-market equity once per minute of
 * market time and at every close. Bars are kept for every coin (halving their resolution past the cap) because
 * which coins trade is known only at the end.
 */
export class BacktestCollector {
  private readonly closed: TradeRecord[] = [];
  private readonly refused = new Map<string, number>();
  private readonly equity: EquitySample[] = [];
  private readonly bars = new Map<string, { stepMs: number; list: BacktestBar[] }>();
  private readonly clusters = new Map<string, Map<string, { -readonly [K in keyof BacktestCluster]: BacktestCluster[K] }>>();
  private lastMinute = -Infinity;
  broker: Broker | undefined;
  signals = 0;

  onEngineOutput(e: EngineOutput): void {
    if (e.kind === 'bar') {
      this.addBar(e.symbol, { tsMs: e.minuteMs, open: e.open, high: e.high, low: e.low, close: e.close });
      if (e.minuteMs > this.lastMinute && this.broker !== undefined) {
        this.lastMinute = e.minuteMs;
        this.equity.push({ tsMs: e.minuteMs + 60_000, equityUsd: this.broker.account().equityUsd });
      }
    } else if (e.kind === 'signal') this.signals++;
    else if (e.kind === 'evaluated') {
      let byKey = this.clusters.get(e.symbol);
      if (byKey === undefined) this.clusters.set(e.symbol, (byKey = new Map()));
      for (const r of e.assessment.ranges) {
        if (!(r.weight > 0)) continue;
        for (const c of r.clusters) {
          // One entry per side and 0.5 % price bucket: the same cluster re-evaluated every 5 minutes is one line.
          const key = `${c.side}|${Math.round(Math.log(c.centre) / 0.005)}`;
          const had = byKey.get(key);
          if (had === undefined) byKey.set(key, { side: c.side, priceLow: c.low, priceHigh: c.high, centerPrice: c.centre, totalUsd: c.usd, fromMs: e.atMs, toMs: e.atMs });
          else {
            had.toMs = e.atMs;
            if (c.usd > had.totalUsd) Object.assign(had, { priceLow: c.low, priceHigh: c.high, centerPrice: c.centre, totalUsd: c.usd });
          }
        }
      }
    }
  }

  onExecutionOutput(o: ExecutionOutput): void {
    if (o.kind === 'order-refused') this.refused.set(o.reason, (this.refused.get(o.reason) ?? 0) + 1);
    else if (o.kind === 'trade' && o.trade.status === 'closed') {
      this.closed.push(o.trade);
      if (this.broker !== undefined) this.equity.push({ tsMs: o.tsMs, equityUsd: this.broker.account().equityUsd });
    }
  }

  private addBar(symbol: string, bar: BacktestBar): void {
    let s = this.bars.get(symbol);
    if (s === undefined) this.bars.set(symbol, (s = { stepMs: 60_000, list: [] }));
    const bucket = Math.floor(bar.tsMs / s.stepMs) * s.stepMs;
    const last = s.list.at(-1);
    if (last !== undefined && last.tsMs === bucket) s.list[s.list.length - 1] = { ...last, high: Math.max(last.high, bar.high), low: Math.min(last.low, bar.low), close: bar.close };
    else s.list.push({ ...bar, tsMs: bucket });
    if (s.list.length > MAX_BARS_PER_COIN) {
      s.stepMs *= 2;
      const merged: BacktestBar[] = [];
      for (const b of s.list) {
        const t = Math.floor(b.tsMs / s.stepMs) * s.stepMs;
        const m = merged.at(-1);
        if (m !== undefined && m.tsMs === t) merged[merged.length - 1] = { ...m, high: Math.max(m.high, b.high), low: Math.min(m.low, b.low), close: b.close };
        else merged.push({ ...b, tsMs: t });
      }
      s.list = merged;
    }
  }

  /** The result once the run ended (the execution part stopped). */
  finish(run: { source: string; settings: Record<string, string>; startMs: number; endMs: number; events: number; initialEquityUsd: number; digest: string; openTrades: readonly TradeRecord[] }): BacktestResult {
    const broker = this.broker;
    const final = broker?.account().equityUsd ?? run.initialEquityUsd;
    const equity = [...this.equity, { tsMs: run.endMs, equityUsd: final }].filter((s) => s.tsMs <= run.endMs);
    const marks = new Map((broker?.positions() ?? []).map((p) => [p.symbol, p]));
    const trades: BacktestTrade[] = this.closed.map((t) => tradeRow(t, t.exitReason?.toLowerCase() ?? 'closed'));
    for (const t of run.openTrades) {
      const p = marks.get(t.symbol);
      if (t.status !== 'open' || p === undefined) continue;
      trades.push({ ...tradeRow(t, 'end_of_data'), closedAtMs: run.endMs, exitPrice: p.markPrice, pnlUsd: p.unrealizedPnlUsd - t.feesUsd, pnlPct: 0 });
    }
    const metrics = backtestMetrics({
      trades: trades.map((t) => ({ symbol: t.symbol, openedAtMs: t.openedAtMs, closedAtMs: t.closedAtMs, pnlUsd: t.pnlUsd })),
      equity,
      initialEquityUsd: run.initialEquityUsd,
      startMs: run.startMs,
      endMs: run.endMs,
      exposure: trades.map((t) => [t.openedAtMs, t.closedAtMs] as const),
    });
    const traded = [...new Set(trades.map((t) => t.symbol))].sort();
    const coins = traded.map((symbol) => ({
      symbol,
      bars: this.bars.get(symbol)?.list ?? [],
      clusters: [...(this.clusters.get(symbol)?.values() ?? [])].sort((a, b) => a.fromMs - b.fromMs || a.centerPrice - b.centerPrice),
    }));
    const refusals = [...this.refused].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    const { openTrades: _open, ...rest } = run;
    return { ...rest, signals: this.signals, finalEquityUsd: final, metrics, trades, equity: thin(equity), refusals, coins };
  }
}

function tradeRow(t: TradeRecord, reason: string): BacktestTrade {
  const avg = (fills: readonly { priceUsd: number; qty: number }[]): number => {
    const q = fills.reduce((a, f) => a + f.qty, 0);
    return q > 0 ? fills.reduce((a, f) => a + f.priceUsd * f.qty, 0) / q : Number.NaN;
  };
  return {
    tradeId: t.tradeId, symbol: t.symbol, side: t.direction === 'LONG' ? 'long' : 'short', openedAtMs: t.openedAtMs ?? t.createdAtMs, closedAtMs: t.closedAtMs ?? t.updatedAtMs,
    entryPrice: avg(t.entryFills), exitPrice: avg(t.exitFills), stopLossPrice: t.stopLossPrice, takeProfitPrice: t.takeProfitPrice,
    qty: t.entryFills.reduce((a, f) => a + f.qty, 0), pnlUsd: t.pnlUsd ?? 0, pnlPct: t.pnlPct ?? 0, feesUsd: t.feesUsd, reason,
  };
}

/** At most MAX_EQUITY_POINTS samples: each bucket keeps its lowest and highest point, so peaks and troughs survive. */
function thin(equity: readonly EquitySample[]): EquitySample[] {
  if (equity.length <= MAX_EQUITY_POINTS) return [...equity];
  const per = Math.ceil(equity.length / (MAX_EQUITY_POINTS / 2));
  const out: EquitySample[] = [];
  for (let i = 0; i < equity.length; i += per) {
    const bucket = equity.slice(i, i + per);
    const lo = bucket.reduce((a, s) => (s.equityUsd < a.equityUsd ? s : a));
    const hi = bucket.reduce((a, s) => (s.equityUsd > a.equityUsd ? s : a));
    if (lo === hi) out.push(lo);
    else out.push(...(lo.tsMs <= hi.tsMs ? [lo, hi] : [hi, lo]));
  }
  return out;
}

const metric = (key: string, label: string, value: number, unit: BacktestMetric['unit'], target?: { text: string; met: (v: number) => boolean }): BacktestMetric =>
  target === undefined ? { key, label, value, unit } : { key, label, value, unit, target: target.text, meetsTarget: target.met(value) };

/** The metrics table, in the order the report and the text summary show it, with the founder's targets. */
export function metricRows(m: BacktestMetrics): BacktestMetric[] {
  return [
    metric('trades', 'Trades', m.trades, 'count'),
    metric('winRatePct', 'Win rate', m.winRatePct, '%', FOUNDER_TARGETS.winRatePct),
    metric('avgWinUsd', 'Average win', m.avgWinUsd, 'USDT'),
    metric('avgLossUsd', 'Average loss', m.avgLossUsd, 'USDT'),
    metric('riskReward', 'Risk:reward (avg win ÷ avg loss)', m.riskReward, 'x', FOUNDER_TARGETS.riskReward),
    metric('totalPnlUsd', 'Total PnL (net of fees)', m.totalPnlUsd, 'USDT'),
    metric('returnPct', 'Return on initial equity', m.returnPct, '%'),
    metric('maxDrawdownPct', 'Max drawdown (mark-to-market)', m.maxDrawdownPct, '%', FOUNDER_TARGETS.maxDrawdownPct),
    metric('sharpe', 'Sharpe (daily returns, ×√365)', m.sharpe, ''),
    metric('sortino', 'Sortino (daily returns, ×√365)', m.sortino, ''),
    metric('exposurePct', 'Exposure (time in market)', m.exposurePct, '%'),
  ];
}

/** The report's input: the same numbers as `--json`, with the equity curve's drawdown and the traded coins' charts. */
export function toReportInput(result: BacktestResult, title = 'whalestack backtest'): BacktestReportInput {
  const dd = drawdownSeriesPct(result.equity.map((s) => s.equityUsd));
  return {
    title,
    source: result.source,
    metrics: metricRows(result.metrics),
    equity: result.equity.map((s, i) => ({ tsMs: s.tsMs, equity: s.equityUsd, drawdownPct: dd[i] ?? 0 })),
    trades: result.trades,
    coins: result.coins,
    refusals: result.refusals,
  };
}
