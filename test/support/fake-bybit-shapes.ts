import type { FakeBybitBook, FakeExecution, FakeOrder, FakePosition } from './fake-bybit-book.js';

/** Bybit sends every number as a string; this keeps them short and exact enough for steps like 0.001. */
export const s = (n: number): string => String(Math.round(n * 1e8) / 1e8);

/** An order as `/v5/order/realtime` and the private `order` topic carry it. */
export function orderJson(o: FakeOrder): Record<string, unknown> {
  return {
    category: 'linear', symbol: o.symbol, orderId: o.orderId, orderLinkId: o.orderLinkId, side: o.side, orderType: o.orderType,
    price: o.orderType === 'Market' ? '0' : s(o.price), qty: s(o.qty), timeInForce: o.orderType === 'Market' ? 'IOC' : 'GTC',
    orderStatus: o.orderStatus, cumExecQty: s(o.cumExecQty), cumExecValue: s(o.cumExecValue), cumExecFee: s(o.cumExecFee),
    avgPrice: o.cumExecQty > 0 ? s(o.cumExecValue / o.cumExecQty) : '', leavesQty: s(o.qty - o.cumExecQty), leavesValue: '0',
    positionIdx: 0, stopOrderType: o.stopOrderType, triggerPrice: '', takeProfit: o.takeProfit > 0 ? s(o.takeProfit) : '',
    stopLoss: o.stopLoss > 0 ? s(o.stopLoss) : '', tpslMode: o.stopLoss > 0 || o.takeProfit > 0 ? 'Full' : '', tpTriggerBy: o.takeProfit > 0 ? o.triggerBy : '', slTriggerBy: o.stopLoss > 0 ? o.triggerBy : '',
    reduceOnly: o.reduceOnly, closeOnTrigger: o.reduceOnly, rejectReason: 'EC_NoError', cancelType: o.orderStatus === 'Cancelled' ? 'CancelByUser' : 'UNKNOWN',
    createType: o.stopOrderType === '' ? 'CreateByUser' : o.stopOrderType === 'StopLoss' ? 'CreateByStopLoss' : 'CreateByTakeProfit',
    createdTime: String(o.createdTime), updatedTime: String(o.updatedTime), smpType: 'None', smpGroup: 0, smpOrderId: '',
  };
}

/** A position row; REST calls the entry `avgPrice`, the WS topic `entryPrice` (both are sent on WS here). */
export function positionJson(book: FakeBybitBook, p: FakePosition, idx = 0): Record<string, unknown> {
  const mark = book.markPrice.get(p.symbol) ?? book.lastPrice.get(p.symbol) ?? 0;
  return {
    positionIdx: idx, riskId: 1, riskLimitValue: '2000000', symbol: p.symbol, side: p.side, size: s(p.size), avgPrice: s(p.avgPrice),
    entryPrice: s(p.avgPrice), positionValue: s(p.size * p.avgPrice), tradeMode: book.marginMode === 'ISOLATED_MARGIN' ? 1 : 0,
    autoAddMargin: 0, positionStatus: 'Normal', leverage: s(p.leverage), markPrice: s(mark), liqPrice: '', bustPrice: '',
    positionIM: s((p.size * p.avgPrice) / p.leverage), positionMM: '0', takeProfit: s(p.takeProfit), stopLoss: s(p.stopLoss),
    trailingStop: '0', tpslMode: 'Full', unrealisedPnl: s(book.unrealisedPnl(p)), curRealisedPnl: '0', cumRealisedPnl: s(p.cumRealisedPnl),
    adlRankIndicator: 0, isReduceOnly: false, createdTime: '1694402496913', updatedTime: String(p.updatedTime), seq: p.updatedTime,
    category: 'linear',
  };
}

export function executionJson(e: FakeExecution): Record<string, unknown> {
  return {
    category: 'linear', symbol: e.symbol, execId: e.execId, orderId: e.orderId, orderLinkId: e.orderLinkId, side: e.side,
    execPrice: s(e.execPrice), execQty: s(e.execQty), execValue: s(e.execPrice * e.execQty), execFee: s(e.execFee), feeRate: '0.00055',
    execType: 'Trade', execTime: String(e.execTime), isMaker: e.isMaker, closedSize: '0', execPnl: s(e.execPnl), orderType: 'Market',
    stopOrderType: e.stopOrderType === '' ? 'UNKNOWN' : e.stopOrderType, leavesQty: '0', markPrice: '', seq: e.execTime, feeCurrency: 'USDT',
  };
}

/** One UNIFIED account with a USDT coin row, as `wallet-balance` and the `wallet` topic carry it. */
export function walletJson(book: FakeBybitBook): Record<string, unknown> {
  const equity = book.equityUsd();
  const im = book.usedMarginUsd();
  let upl = 0;
  for (const p of book.positions.values()) upl += book.unrealisedPnl(p);
  return {
    accountType: 'UNIFIED', accountIMRate: '0', accountMMRate: '0', totalEquity: s(equity), totalWalletBalance: s(book.walletBalanceUsd),
    totalMarginBalance: s(equity), totalAvailableBalance: s(equity - im), totalPerpUPL: s(upl), totalInitialMargin: s(im),
    totalMaintenanceMargin: '0',
    coin: [{ coin: 'USDT', equity: s(equity), usdValue: s(equity), walletBalance: s(book.walletBalanceUsd), unrealisedPnl: s(upl),
      cumRealisedPnl: '0', totalPositionIM: s(im), totalOrderIM: '0', availableToWithdraw: s(equity - im), locked: '0', borrowAmount: '0' }],
  };
}
