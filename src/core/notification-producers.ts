import type { Notification } from './notification.js';
import { fmtCompactUsd, fmtDuration, fmtPct, fmtPrice, fmtUsd, fmtUtcMinute } from './notification-format.js';
import type { RiskMode, RiskTransition } from './risk-state.js';
import type { Signal } from './trigger.js';

/**
 * Pure producers: one engine or execution event in, the `Notification` an operator should see out (or none).
 * Inputs are the structural parts of the actors' outputs that a message needs, so this file stays in core and
 * the wiring passes the outputs as they are.
 */

/** The liquidation data a signal's target came from: `coinglass` or the own `estimate`, and how old it was. */
export interface LiquiditySource {
  readonly source: string;
  readonly ageMs: number | undefined;
}

export function signalNotification(signal: Signal, emittedAtMs: number, liquidity: LiquiditySource | undefined): Notification {
  const t = signal.target;
  const o = signal.opposite;
  const range = t?.range;
  const ageMs = liquidity?.ageMs ?? (range === undefined ? undefined : signal.heatmapAgesMs[range]);
  return {
    id: `signal:${signal.symbol}:${signal.tsInit}`,
    kind: 'signal',
    tsMs: emittedAtMs,
    symbol: signal.symbol,
    title: `Signal ${signal.direction} ${signal.symbol}`,
    fields: [
      ['Score', signal.score.toFixed(1)],
      ['Imbalance', signal.imbalance.toFixed(3)],
      ['Price', fmtPrice(signal.features.lastPrice)],
      ['Target', t === undefined ? 'none' : `${fmtPrice(t.low)}–${fmtPrice(t.high)} (${fmtCompactUsd(t.usd)} USD, ${t.range})`],
      ['Stop side', o === undefined ? 'none' : `${fmtPrice(o.low)}–${fmtPrice(o.high)} (${fmtCompactUsd(o.usd)} USD, ${o.range})`],
      ['Liquidation data', `${liquidity?.source ?? 'estimate'}${ageMs === undefined ? '' : `, ${fmtDuration(ageMs)} old`}`],
    ],
    sensitive: false,
  };
}

/** The parts of a `TradeRecord` the messages show. */
export interface TradeFacts {
  readonly tradeId: string;
  readonly symbol: string;
  readonly direction: string;
  readonly style: string;
  readonly status: string;
  readonly plannedEntryPrice: number;
  readonly plannedQty: number;
  readonly leverage: number;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  readonly entryLinkIds: readonly string[];
  readonly liquidationSource: string;
  readonly range: string;
  readonly exitReason: string | undefined;
  readonly pnlUsd: number | undefined;
  readonly pnlPct: number | undefined;
  readonly feesUsd: number;
  readonly openedAtMs: number | undefined;
  readonly closedAtMs: number | undefined;
}

/** A new trade (status pending): one message for all its ladder rungs, not one per order. */
export function orderPlacedNotification(t: TradeFacts, tsMs: number): Notification {
  return {
    id: `placed:${t.tradeId}`,
    kind: 'order_placed',
    tsMs,
    symbol: t.symbol,
    title: `Orders placed ${t.direction} ${t.symbol}`,
    fields: [
      ['Style', `${t.style}, ${t.entryLinkIds.length} order(s), ${t.leverage}×`],
      ['Entry', fmtPrice(t.plannedEntryPrice)],
      ['Qty', fmtPrice(t.plannedQty)],
      ['Stop', fmtPrice(t.stopLossPrice)],
      ['Target', fmtPrice(t.takeProfitPrice)],
      ['Data', `${t.liquidationSource}, ${t.range}`],
    ],
    sensitive: true,
  };
}

export function orderRefusedNotification(r: { readonly signalId: string; readonly symbol: string; readonly reason: string; readonly message: string; readonly tsMs: number }): Notification {
  return {
    id: `refused:${r.signalId}:${r.reason}`,
    kind: 'order_refused',
    tsMs: r.tsMs,
    symbol: r.symbol,
    title: `Refused ${r.symbol}: ${r.reason}`,
    fields: [['Why', r.message]],
    sensitive: false,
  };
}

export function fillNotification(f: { readonly tradeId: string; readonly symbol: string; readonly orderLinkId: string; readonly priceUsd: number; readonly qty: number; readonly feeUsd: number; readonly tsMs: number }): Notification {
  return {
    id: `fill:${f.orderLinkId}:${f.tsMs}`,
    kind: 'fill',
    tsMs: f.tsMs,
    symbol: f.symbol,
    title: `Filled ${f.symbol}`,
    fields: [
      ['Price', fmtPrice(f.priceUsd)],
      ['Qty', fmtPrice(f.qty)],
      ['Fee', `${fmtUsd(f.feeUsd)} USDT`],
      ['Order', f.orderLinkId],
    ],
    sensitive: true,
  };
}

export function trailingMoveNotification(m: { readonly tradeId: string; readonly symbol: string; readonly priceUsd: number; readonly stopLossPrice: number; readonly message: string; readonly tsMs: number }): Notification {
  return {
    id: `trail:${m.tradeId}:${m.stopLossPrice}`,
    kind: 'trailing_move',
    tsMs: m.tsMs,
    symbol: m.symbol,
    title: `Stop moved ${m.symbol} → ${fmtPrice(m.stopLossPrice)}`,
    fields: [
      ['Price', fmtPrice(m.priceUsd)],
      ['Why', m.message],
    ],
    sensitive: false,
  };
}

/** A finished trade: closed with its PnL, or cancelled before any fill. */
export function tradeClosedNotification(t: TradeFacts, tsMs: number): Notification {
  if (t.status === 'cancelled') {
    return { id: `closed:${t.tradeId}`, kind: 'trade_closed', tsMs, symbol: t.symbol, title: `Entries cancelled ${t.symbol}, no fill`, fields: [['Trade', t.tradeId]], sensitive: false };
  }
  const held = t.openedAtMs !== undefined && t.closedAtMs !== undefined ? fmtDuration(t.closedAtMs - t.openedAtMs) : 'n/a';
  return {
    id: `closed:${t.tradeId}`,
    kind: 'trade_closed',
    tsMs,
    symbol: t.symbol,
    title: `Closed ${t.direction} ${t.symbol}: ${t.exitReason ?? 'closed'}`,
    fields: [
      ['PnL', `${fmtUsd(t.pnlUsd ?? 0)} USDT (${fmtPct(t.pnlPct ?? 0)})`],
      ['Fees', `${fmtUsd(t.feesUsd)} USDT`],
      ['Held', held],
      ['Range', `${t.range}, ${t.liquidationSource}`],
    ],
    sensitive: true,
    // Public channels (X) get the trade without account currency: the move in %, how long, which range.
    publicFields: [
      ['PnL', fmtPct(t.pnlPct ?? 0)],
      ['Held', held],
      ['Range', `${t.range}, ${t.liquidationSource}`],
    ],
  };
}

export function riskStateNotification(tr: RiskTransition): Notification {
  return {
    id: `risk:${tr.atMs}:${tr.to}`,
    kind: 'risk_state',
    tsMs: tr.atMs,
    title: `Risk ${tr.from} → ${tr.to}`,
    fields: [['Why', tr.reason]],
    sensitive: false,
  };
}

/** An operator's command applied (or refused) by the execution actor, with who sent it. */
export function controlNotification(c: { readonly requestId: string; readonly command: string; readonly symbol: string | undefined; readonly by: string; readonly ok: boolean; readonly message: string; readonly tsMs: number }, mode: RiskMode | undefined): Notification {
  return {
    id: `control:${c.requestId}`,
    kind: 'risk_state',
    tsMs: c.tsMs,
    ...(c.symbol === undefined || c.symbol.toUpperCase() === 'ALL' ? {} : { symbol: c.symbol.toUpperCase() }),
    title: `${c.ok ? 'Operator' : 'Refused'}: ${c.command}${c.symbol === undefined ? '' : ` ${c.symbol}`}`,
    fields: [
      ['Result', c.message],
      ['By', c.by],
      ['Risk', mode ?? 'unknown'],
    ],
    sensitive: false,
  };
}

export function outageNotification(o: { readonly source: string; readonly reason: string; readonly downSinceMs: number; readonly nowMs: number; readonly recovered: boolean }): Notification {
  return {
    id: `outage:${o.source}:${o.downSinceMs}:${o.recovered ? 'up' : 'down'}`,
    kind: 'source_outage',
    tsMs: o.nowMs,
    title: o.recovered ? `${o.source} back after ${fmtDuration(o.nowMs - o.downSinceMs)}` : `${o.source} down for ${fmtDuration(o.nowMs - o.downSinceMs)}`,
    fields: [
      ['Since', fmtUtcMinute(o.downSinceMs)],
      ['Reason', o.reason],
    ],
    sensitive: false,
  };
}

/** `n` notifications were dropped from a full queue: the operator learns how many and of which kinds. */
export function overflowNotification(channel: string, dropped: ReadonlyMap<string, number>, nowMs: number): Notification {
  const total = [...dropped.values()].reduce((a, b) => a + b, 0);
  return {
    id: `overflow:${channel}:${nowMs}`,
    kind: 'overflow',
    tsMs: nowMs,
    title: `${total} notification(s) dropped on ${channel}: the queue was full`,
    fields: [...dropped.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n)] as const),
    sensitive: false,
  };
}
