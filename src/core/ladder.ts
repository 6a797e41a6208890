import { roundPrice, roundQtyDown, type InstrumentRules } from './instrument-rounding.js';
import { refuse, type Refusal } from './refusal.js';
import { lossPerUnitAtStop } from './sizing.js';
import type { SignalDirection } from './trigger.js';

/**
 * The scaled entry (Strategy C, the founder's BTC trade 115k → 110k with the target at 116.5k): N limit orders
 * evenly spaced from the current price to a little beyond the nearest cluster on the losing side, sizes in a
 * geometric progression (the deepest rung the largest), the whole ladder normalised so that if every rung fills
 * and the black-swan stop beyond the last rung is hit, the loss with fees is one trade's risk budget.
 */
export interface LadderConfig {
  /** Number of rungs, 2–20 (default 10). */
  readonly rungs: number;
  /** Each rung is this multiple of the previous one, going away from the price (default 2). */
  readonly sizeRatio: number;
  /** The last rung sits this fraction beyond the nearest losing-side cluster's far edge (default 2 %). */
  readonly beyondClusterFraction: number;
  /** The black-swan stop sits this fraction beyond the last rung (bounded by the plan's 5–10 %; default 5 %). */
  readonly blackSwanStopFraction: number;
}

export const DEFAULT_LADDER_CONFIG: LadderConfig = { rungs: 10, sizeRatio: 2, beyondClusterFraction: 0.02, blackSwanStopFraction: 0.05 };

/** `rungs` prices evenly spaced from `fromPrice` to `toPrice`, both included, in that order. */
export function ladderPrices(fromPrice: number, toPrice: number, rungs: number): number[] {
  if (!(Number.isInteger(rungs) && rungs >= 2)) throw new Error(`ladder: rungs must be an integer >= 2, got ${rungs}`);
  const step = (toPrice - fromPrice) / (rungs - 1);
  const out: number[] = [];
  for (let i = 0; i < rungs; i++) out.push(i === rungs - 1 ? toPrice : fromPrice + i * step);
  return out;
}

/** Geometric weights ratio^0 … ratio^(n−1), normalised to sum 1. */
export function geometricWeights(n: number, ratio: number): number[] {
  const raw: number[] = [];
  for (let i = 0; i < n; i++) raw.push(ratio ** i);
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

export interface LadderRung {
  /** 0 = nearest the current price. */
  readonly rung: number;
  readonly priceUsd: number;
  readonly qty: number;
}

export interface SizedLadder {
  readonly rungs: readonly LadderRung[];
  readonly qty: number;
  /** Volume-weighted entry if every rung fills. */
  readonly avgEntryPrice: number;
  /** Loss with fees at the stop if every rung fills. */
  readonly lossAtStopUsd: number;
  readonly marginUsd: number;
  /** Rungs dropped because their rounded size fell below the instrument minimum. */
  readonly droppedRungs: number;
}

/**
 * Sizes a ladder whose rung prices are already on the tick grid. Quantities are scaled so the full-fill loss
 * at `stopPrice` (maker entry fees, taker stop fee) equals `budgetUsd`, or less when `freeMarginUsd` binds;
 * each is rounded down onto the lot grid, and rungs below `minOrderQty` are dropped (less risk, never more).
 */
export function sizeLadder(args: {
  readonly direction: SignalDirection;
  readonly prices: readonly number[];
  readonly stopPrice: number;
  readonly budgetUsd: number;
  readonly freeMarginUsd: number;
  readonly leverage: number;
  readonly sizeRatio: number;
  readonly makerFeeRate: number;
  readonly takerFeeRate: number;
  readonly rules: Pick<InstrumentRules, 'qtyStep' | 'minOrderQty'>;
}): SizedLadder | Refusal {
  const weights = geometricWeights(args.prices.length, args.sizeRatio);
  let lossPerWeight = 0;
  let marginPerWeight = 0;
  for (let i = 0; i < weights.length; i++) {
    const perUnit = lossPerUnitAtStop(args.direction, args.prices[i]!, args.stopPrice, args.makerFeeRate, args.takerFeeRate);
    if (!(perUnit > 0)) return refuse('STOP_NOT_BEYOND_ENTRY', `stop ${args.stopPrice} is not beyond rung ${i} at ${args.prices[i]}`);
    lossPerWeight += weights[i]! * perUnit;
    marginPerWeight += weights[i]! * args.prices[i]! * (1 / args.leverage + args.makerFeeRate);
  }
  const scale = Math.min(args.budgetUsd / lossPerWeight, args.freeMarginUsd / marginPerWeight);
  const rungs: LadderRung[] = [];
  let qty = 0;
  let notional = 0;
  let loss = 0;
  let dropped = 0;
  for (let i = 0; i < weights.length; i++) {
    const q = roundQtyDown(weights[i]! * scale, args.rules);
    if (q === 0) {
      dropped++;
      continue;
    }
    const price = args.prices[i]!;
    rungs.push({ rung: i, priceUsd: price, qty: q });
    qty += q;
    notional += q * price;
    loss += q * lossPerUnitAtStop(args.direction, price, args.stopPrice, args.makerFeeRate, args.takerFeeRate);
  }
  if (rungs.length === 0) return refuse('QTY_BELOW_MIN', `risk budget ${args.budgetUsd.toFixed(2)} USDT is too small for any rung above min order qty ${args.rules.minOrderQty}`);
  return { rungs, qty, avgEntryPrice: notional / qty, lossAtStopUsd: loss, marginUsd: notional / args.leverage, droppedRungs: dropped };
}

/**
 * Rung prices for a ladder from `currentPrice` to `beyondClusterFraction` past the far edge of `cluster`
 * (LONG: below its low; SHORT: above its high), on the tick grid (LONG rounded down, SHORT up: never a worse
 * fill). Refused with `NO_LADDER_CLUSTER` when the cluster is missing or not on the losing side of the price.
 */
export function ladderRungPrices(
  direction: SignalDirection,
  currentPrice: number,
  cluster: { readonly low: number; readonly high: number } | undefined,
  config: LadderConfig,
  rules: Pick<InstrumentRules, 'tickSize'>,
): number[] | Refusal {
  if (!(config.rungs >= 2 && config.rungs <= 20)) throw new Error(`ladder: rungs must be 2–20, got ${config.rungs}`);
  const long = direction === 'LONG';
  if (cluster === undefined || (long ? !(cluster.high < currentPrice) : !(cluster.low > currentPrice))) {
    return refuse('NO_LADDER_CLUSTER', `no ${long ? 'long cluster below' : 'short cluster above'} ${currentPrice} to ladder into`);
  }
  const last = long ? cluster.low * (1 - config.beyondClusterFraction) : cluster.high * (1 + config.beyondClusterFraction);
  return ladderPrices(currentPrice, last, config.rungs).map((p) => roundPrice(p, rules, long ? 'down' : 'up'));
}
