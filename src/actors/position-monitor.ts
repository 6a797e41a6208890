import type { BrokerEvent } from '../core/broker.js';
import { fallbackInstrumentRules } from '../core/execution-ids.js';
import { recordOutcome, successRate, successRatesBySymbol } from '../core/pattern-stats.js';
import { closeTrade, type ExitReason } from '../core/trade-close.js';
import { trailStop } from '../core/trailing-stop.js';
import type { ExecutionConfig, ExecutionCtx, ExecutionDeps } from './execution-actor.js';
import { patternKey, retireTrade, tradeSnapshot, type ExecutionState, type TradeRecord } from './execution-state.js';

/**
 * The position monitor (Process H) and trade close (Process I), run inside the ExecutionActor so a stop move
 * and a fill can never race. On every mark-price update of a coin with an open trade: the founder's trailing
 * ladder, the stop moved on the venue when it tightens, and a `position_monitor_logs` row for every move.
 */
export function onMark(s: ExecutionState, symbol: string, lastPrice: number, markPrice: number, ctx: ExecutionCtx, config: ExecutionConfig, deps: ExecutionDeps): void {
  const id = s.activeBySymbol.get(symbol);
  const t = id === undefined ? undefined : s.trades.get(id);
  if (t === undefined || t.status !== 'open') return;
  const pos = deps.broker.positions().find((p) => p.symbol === symbol);
  if (pos === undefined) return;
  const mark = markPrice > 0 ? markPrice : lastPrice;
  if (!(mark > 0)) return;
  const tick = (deps.instruments(symbol) ?? fallbackInstrumentRules(symbol, pos.avgEntryPrice)).tickSize;
  const d = trailStop({ direction: t.direction, avgEntryPrice: pos.avgEntryPrice, leverage: pos.leverage, entryFeeRate: t.entryFeeRate, stopLossPrice: t.stopLossPrice }, mark, config.trailing, tick);
  if (!d.moved) return;
  const before = t.stopLossPrice;
  t.stopLossPrice = d.stopLossPrice;
  t.trailingStep = Math.max(t.trailingStep, d.step);
  t.updatedAtMs = ctx.clock.now();
  deps.broker.submit({ kind: 'set-trading-stop', symbol, stopLossPrice: d.stopLossPrice });
  const lock = config.trailing.steps[d.step]!.lockFraction;
  const basis = config.trailing.basis === 'roe' ? 'ROE' : 'price move';
  ctx.emit({
    kind: 'monitor', tradeId: t.tradeId, symbol, priceUsd: mark, pnlPct: d.profitFraction * 100, stopLossPrice: d.stopLossPrice, takeProfitPrice: t.takeProfitPrice,
    action: 'move_sl',
    message: `${basis} ${(d.profitFraction * 100).toFixed(2)} % > ${config.trailing.steps[d.step]!.triggerFraction * 100} %: stop ${before} → ${d.stopLossPrice} (${lock === 0 ? 'breakeven with fees' : `locks +${lock * 100} %`})`,
    tsMs: t.updatedAtMs,
  });
  ctx.emit({ kind: 'trade', trade: tradeSnapshot(t), tsMs: t.updatedAtMs });
}

/** Books the close: PnL with fees, the trades row, the monitor log, pattern learning and the ranker's rate. */
export function onPositionClosed(s: ExecutionState, t: TradeRecord, event: Extract<BrokerEvent, { kind: 'position-closed' }>, ctx: ExecutionCtx, config: ExecutionConfig): void {
  t.exitFills.push({ priceUsd: event.fill.priceUsd, qty: event.fill.qty, feeUsd: event.fill.feeUsd });
  const r = closeTrade(t.direction, t.entryFills, t.exitFills, t.leverage);
  const reason: ExitReason =
    event.cause === 'STOP_LOSS' ? (t.trailingStep >= 0 ? 'TRAILING_STOP' : 'STOP_LOSS') : event.cause === 'TAKE_PROFIT' ? 'TAKE_PROFIT' : event.cause === 'LIQUIDATION' ? 'LIQUIDATION' : 'MANUAL';
  t.status = 'closed';
  t.closedAtMs = event.tsMs;
  t.exitReason = reason;
  t.pnlUsd = r.pnlUsd;
  t.pnlPct = r.pnlPct;
  t.feesUsd = r.feesUsd;
  t.updatedAtMs = event.tsMs;
  retireTrade(s, t);
  ctx.emit({ kind: 'trade', trade: tradeSnapshot(t), tsMs: event.tsMs });
  ctx.emit({
    kind: 'monitor', tradeId: t.tradeId, symbol: t.symbol, priceUsd: event.fill.priceUsd, pnlPct: r.roePct, stopLossPrice: t.stopLossPrice, takeProfitPrice: t.takeProfitPrice,
    action: 'close', message: `${reason} at ${event.fill.priceUsd}: ${r.pnlUsd.toFixed(2)} USDT (${r.pnlPct.toFixed(3)} % of notional, ${r.roePct.toFixed(2)} % ROE) after ${r.feesUsd.toFixed(2)} USDT fees`,
    tsMs: event.tsMs,
  });
  const key = patternKey(t.symbol, t.range);
  const stats = recordOutcome(t.symbol, t.range, s.patterns.get(key), { success: r.success, clusterUsd: t.targetClusterUsd, durationSec: ((t.closedAtMs ?? 0) - (t.openedAtMs ?? 0)) / 1000 });
  s.patterns.set(key, stats);
  ctx.emit({ kind: 'pattern', stats, successRate: successRate(stats, config.successPrior), tsMs: event.tsMs });
  const pooled = successRatesBySymbol([...s.patterns.values()].filter((p) => p.symbol === t.symbol), config.successPrior);
  ctx.emit({ kind: 'success-rates', rates: [...pooled] });
}
