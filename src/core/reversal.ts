import type { RangedCluster } from './imbalance.js';
import type { Refusal } from './refusal.js';
import { DEFAULT_PLAN_CONFIG, planTrade, type PlanConfig, type PlanInput, type TradePlan } from './trade-plan.js';
import type { SignalDirection } from './trigger.js';

/**
 * Both sides of a cluster (the founder goes long into a short cluster and shorts from it on the way back).
 * When a LONG's target cluster is reached, the reversal SHORT opens from that cluster with its own stop
 * (`reversalStopFraction` beyond the entry, 10 % by default, still bounded by the plan's 5–10 %) and its
 * take-profit at the next long cluster below (× 1.005 BTC/ETH, × 1.002 others); mirrored for a SHORT.
 *
 * Bybit one-way mode (positionIdx 0) nets buys and sells into one position, so "close the long and open the
 * short" could be a single sell of longQty + shortQty. whalestack sends **two orders** instead: the long's
 * reduce-only take-profit closes exactly longQty, and the reversal entry (a market sell of shortQty, or a
 * ladder for BTC/ETH) is sent only after the close has filled. Reasons: the short is sized from its own stop
 * and risk budget, so shortQty ≠ longQty in general; a reduce-only order can never flip the position by
 * accident if the TP partially fills or the stop fires first; and each leg has its own orderLinkId, fees and
 * trades row. `oneWayReversalOrders` gives the two legs and `netPositionAfter` checks the arithmetic.
 */
export interface ReversalConfig {
  /** Stop of the reversal trade, from its entry (default 10 %). */
  readonly reversalStopFraction: number;
}

export const DEFAULT_REVERSAL_CONFIG: ReversalConfig = { reversalStopFraction: 0.1 };

/**
 * The reversal plan once the closed trade's target cluster `reached` traded: direction flipped, entry at
 * `currentPrice` (market; BTC/ETH a ladder up to beyond the reached cluster), stop the wider of 10 % and 2 %
 * beyond the reached cluster, take-profit at the first significant cluster in the new direction.
 */
export function planReversal(
  closed: { readonly symbol: string; readonly direction: SignalDirection },
  reached: RangedCluster,
  clustersBeyond: readonly RangedCluster[],
  market: Pick<PlanInput, 'currentPrice' | 'volatilityFraction' | 'equityUsd' | 'freeMarginUsd' | 'rules'>,
  config: PlanConfig = DEFAULT_PLAN_CONFIG,
  reversal: ReversalConfig = DEFAULT_REVERSAL_CONFIG,
): TradePlan | Refusal {
  const direction: SignalDirection = closed.direction === 'LONG' ? 'SHORT' : 'LONG';
  return planTrade(
    {
      symbol: closed.symbol,
      direction,
      style: 'aggressive',
      currentPrice: market.currentPrice,
      clustersAhead: clustersBeyond,
      opposite: reached,
      maxWickFraction: reversal.reversalStopFraction,
      volatilityFraction: market.volatilityFraction,
      equityUsd: market.equityUsd,
      freeMarginUsd: market.freeMarginUsd,
      rules: market.rules,
    },
    config,
  );
}

export interface OneWayOrder {
  readonly side: 'Buy' | 'Sell';
  readonly qty: number;
  readonly reduceOnly: boolean;
  /** 'close' is the old position's reduce-only exit; 'open' the reversal entry, sent after the close fills. */
  readonly leg: 'close' | 'open';
}

/** The two one-way-mode orders that turn a `closedDirection` position of `closeQty` into the reversal of `openQty`. */
export function oneWayReversalOrders(closedDirection: SignalDirection, closeQty: number, openQty: number): [OneWayOrder, OneWayOrder] {
  const side = closedDirection === 'LONG' ? 'Sell' : 'Buy';
  return [
    { side, qty: closeQty, reduceOnly: true, leg: 'close' },
    { side, qty: openQty, reduceOnly: false, leg: 'open' },
  ];
}

/** Signed one-way position after applying orders to `startQty` (+ long, − short), reduce-only capped at flat. */
export function netPositionAfter(startQty: number, orders: readonly OneWayOrder[]): number {
  let pos = startQty;
  for (const o of orders) {
    const delta = o.side === 'Buy' ? o.qty : -o.qty;
    if (o.reduceOnly) {
      if (pos === 0 || Math.sign(delta) === Math.sign(pos)) continue;
      pos = Math.abs(delta) >= Math.abs(pos) ? 0 : pos + delta;
    } else pos += delta;
  }
  return pos;
}
