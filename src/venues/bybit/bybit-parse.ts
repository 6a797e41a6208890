import type { OrderRecordStatus, Side, VenueExecution, VenueOrder, VenuePosition, VenueWallet } from './venue-types.js';

/**
 * Tolerant readers for Bybit's order, position and wallet rows (REST and private WS share them). Every number
 * is a string that may be "" for "not set"; a row that lacks what the venue needs comes back undefined and is
 * logged by the caller, never thrown, because nothing the exchange sends may crash the daemon.
 */
type Row = Record<string, unknown>;

export const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const side = (v: unknown): Side | undefined => (v === 'Buy' || v === 'Sell' ? v : undefined);

/** A Bybit decimal string for `value`, on `step` when given (rounded to the nearest step, trailing zeros dropped). */
export function dec(value: number, step?: number): string {
  const v = step === undefined ? value : Math.round(value / step) * step;
  const digits = step === undefined ? 10 : Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  return String(Number(v.toFixed(Math.min(digits, 12))));
}

export function parseOrder(r: unknown): VenueOrder | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const o = r as Row;
  const s = side(o.side);
  if (s === undefined || str(o.orderId) === '' || str(o.symbol) === '') return undefined;
  return {
    orderId: str(o.orderId), orderLinkId: str(o.orderLinkId), symbol: str(o.symbol), side: s, orderType: str(o.orderType),
    price: num(o.price), qty: num(o.qty), cumExecQty: num(o.cumExecQty), status: str(o.orderStatus), stopLoss: num(o.stopLoss),
    takeProfit: num(o.takeProfit), reduceOnly: o.reduceOnly === true,
  };
}

/** Only positions that exist (size > 0); a flat row is undefined. */
export function parsePosition(r: unknown): VenuePosition | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const p = r as Row;
  const s = side(p.side);
  const size = num(p.size);
  if (s === undefined || !(size > 0) || str(p.symbol) === '') return undefined;
  return {
    symbol: str(p.symbol), side: s, size, avgPrice: num(p.avgPrice ?? p.entryPrice) || num(p.entryPrice), stopLoss: num(p.stopLoss),
    takeProfit: num(p.takeProfit), leverage: num(p.leverage), unrealisedPnlUsd: num(p.unrealisedPnl),
    markPrice: num(p.markPrice), liquidationPrice: num(p.liqPrice),
  };
}

/** Trade and liquidation (`BustTrade`) executions only (funding, ADL and delivery rows carry no order of ours). */
export function parseExecution(r: unknown): VenueExecution | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const e = r as Row;
  const s = side(e.side);
  if (s === undefined || str(e.execId) === '' || str(e.symbol) === '' || (e.execType !== undefined && e.execType !== 'Trade' && e.execType !== 'BustTrade')) return undefined;
  const stop = str(e.stopOrderType);
  return {
    execId: str(e.execId), orderId: str(e.orderId), orderLinkId: str(e.orderLinkId), symbol: str(e.symbol), side: s, execPrice: num(e.execPrice),
    execQty: num(e.execQty), execFeeUsd: num(e.execFee), execPnlUsd: num(e.execPnl), stopOrderType: stop === 'UNKNOWN' ? '' : stop, execTimeMs: num(e.execTime),
    isMaker: e.isMaker === true || e.isMaker === 'true', liquidation: e.execType === 'BustTrade',
  };
}

export function parseWallet(r: unknown): VenueWallet | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const w = r as Row;
  return {
    equityUsd: num(w.totalEquity), walletBalanceUsd: num(w.totalWalletBalance), availableUsd: num(w.totalAvailableBalance),
    unrealisedPnlUsd: num(w.totalPerpUPL), initialMarginUsd: num(w.totalInitialMargin),
  };
}

/** Bybit's orderStatus → the venue's record status. */
export function recordStatusOf(orderStatus: string): OrderRecordStatus {
  switch (orderStatus) {
    case 'New':
    case 'Untriggered':
      return 'open';
    case 'PartiallyFilled':
      return 'partially_filled';
    case 'Filled':
      return 'filled';
    case 'Rejected':
      return 'rejected';
    default:
      return 'cancelled'; // Cancelled, PartiallyFilledCanceled, Deactivated
  }
}

export const isOpenStatus = (orderStatus: string): boolean => orderStatus === 'New' || orderStatus === 'PartiallyFilled' || orderStatus === 'Untriggered';

/** Instrument filters the venue rounds and checks against. */
export interface InstrumentFilter {
  readonly symbol: string;
  readonly tickSize: number;
  readonly qtyStep: number;
  readonly minOrderQty: number;
  readonly maxLeverage: number;
}

export function parseInstrument(r: unknown): InstrumentFilter | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const i = r as { symbol?: unknown; priceFilter?: Row; lotSizeFilter?: Row; leverageFilter?: Row };
  const f = { symbol: str(i.symbol), tickSize: num(i.priceFilter?.tickSize), qtyStep: num(i.lotSizeFilter?.qtyStep), minOrderQty: num(i.lotSizeFilter?.minOrderQty), maxLeverage: num(i.leverageFilter?.maxLeverage) };
  return f.symbol !== '' && f.tickSize > 0 && f.qtyStep > 0 ? f : undefined;
}
