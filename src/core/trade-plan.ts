import type { RangedCluster } from './imbalance.js';
import { roundPrice, type InstrumentRules } from './instrument-rounding.js';
import { DEFAULT_LADDER_CONFIG, ladderRungPrices, sizeLadder, type LadderConfig } from './ladder.js';
import { isRefusal, refuse, type Refusal } from './refusal.js';
import { BYBIT_MAKER_FEE_RATE, BYBIT_TAKER_FEE_RATE, DEFAULT_SIZING_CONFIG, leverageFor, riskBudgetUsd, sizeSingleEntry, type SizingConfig } from './sizing.js';
import { baseCoin } from './thresholds.js';
import type { Signal, SignalDirection } from './trigger.js';

/** Entry, stop-loss and take-profit for a signal, in USD prices. */
export interface TradePlanPrices {
  readonly entryPrice: number;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  /** The heatmap range the target cluster came from. */
  readonly range: string;
}

/** How far beyond the opposite cluster the stop sits (DESIGN: 2 %), and the fallback stop without one. */
export const STOP_BEYOND_OPPOSITE = 0.02;

/**
 * The founder's plan for a signal, prices only (sizing and ladders belong to execution): take profit just short
 * of the target cluster's centre (× 0.995 for BTC/ETH, × 0.998 for others, mirrored for shorts) to front-run
 * the whales; stop 2 % beyond the next opposite cluster, or 2 % from entry when there is none. Undefined when
 * the signal has no target or the levels sit on the wrong side of entry (a plan that cannot be traded).
 */
export function planSignalPrices(signal: Pick<Signal, 'symbol' | 'direction' | 'features' | 'target' | 'opposite'>): TradePlanPrices | undefined {
  const entry = signal.features.lastPrice;
  const target = signal.target;
  if (!(entry > 0) || target === undefined) return undefined;
  const major = baseCoin(signal.symbol) === 'BTC' || baseCoin(signal.symbol) === 'ETH';
  const frontRun = major ? 0.005 : 0.002;
  const long = signal.direction === 'LONG';
  const takeProfitPrice = long ? target.centre * (1 - frontRun) : target.centre * (1 + frontRun);
  const opposite = signal.opposite;
  const stopLossPrice = long
    ? (opposite !== undefined ? opposite.low : entry) * (1 - STOP_BEYOND_OPPOSITE)
    : (opposite !== undefined ? opposite.high : entry) * (1 + STOP_BEYOND_OPPOSITE);
  const sane = long ? stopLossPrice < entry && takeProfitPrice > entry : stopLossPrice > entry && takeProfitPrice < entry;
  if (!sane) return undefined;
  return { entryPrice: entry, stopLossPrice, takeProfitPrice, range: target.range };
}

// ---------------------------------------------------------------------------------------------------------------
// The founder's full plan: entry style, stop, target, size. `planSignalPrices` above stays the quick view stored
// with each signal row; `planTrade` is what execution sends.
// ---------------------------------------------------------------------------------------------------------------

/** Conservative: limit on the pullback; aggressive: market on the trigger; scaled: a ladder of limits. */
export type EntryStyle = 'conservative' | 'aggressive' | 'scaled';
/** Which cluster in the trade's direction is the target: the nearest significant one (founder) or the largest. */
export type TargetChoice = 'first' | 'largest';

export interface PlanConfig {
  readonly targetChoice: TargetChoice;
  /** Conservative LONG entry = target cluster low × (1 − this); SHORT: high × (1 + this). Founder: 2 %. */
  readonly conservativeOffsetFraction: number;
  /** Wick stop when the coin has no wick history yet (founder: 8 %). */
  readonly defaultWickStopFraction: number;
  /** Cluster stop sits this far beyond the next opposite cluster (founder: 2 %). */
  readonly clusterStopBeyondFraction: number;
  /** The stop is bounded to [min, max] from the average entry (founder's rule 3: 5–10 %). */
  readonly minStopFraction: number;
  readonly maxStopFraction: number;
  readonly takerFeeRate: number;
  readonly makerFeeRate: number;
  /**
   * Adverse slippage budgeted for market fills (the aggressive entry, and the stop, which fills at market): the
   * size is computed as if the entry filled this much worse and the stop too, so a real fill stays in budget.
   */
  readonly slippageFraction: number;
  readonly ladder: LadderConfig;
  readonly sizing: SizingConfig;
  /** Base coins traded with scaled ladders only, whatever their configured style (founder's rule 6: BTC, ETH). */
  readonly scaledOnlyCoins: readonly string[];
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = {
  targetChoice: 'first',
  conservativeOffsetFraction: 0.02,
  defaultWickStopFraction: 0.08,
  clusterStopBeyondFraction: STOP_BEYOND_OPPOSITE,
  minStopFraction: 0.05,
  maxStopFraction: 0.1,
  takerFeeRate: BYBIT_TAKER_FEE_RATE,
  makerFeeRate: BYBIT_MAKER_FEE_RATE,
  slippageFraction: 0.0005,
  ladder: DEFAULT_LADDER_CONFIG,
  sizing: DEFAULT_SIZING_CONFIG,
  scaledOnlyCoins: ['BTC', 'ETH'],
};

/** BTC and ETH: the larger front-run (0.5 % instead of 0.2 %). */
export function isMajorCoin(symbol: string): boolean {
  const coin = baseCoin(symbol);
  return coin === 'BTC' || coin === 'ETH';
}

/** Take-profit from a target cluster's centre: LONG × 0.995 (BTC/ETH) or × 0.998; SHORT × 1.005 / × 1.002. */
export function takeProfitFromCluster(symbol: string, direction: SignalDirection, centre: number): number {
  const frontRun = isMajorCoin(symbol) ? 0.005 : 0.002;
  return direction === 'LONG' ? centre * (1 - frontRun) : centre * (1 + frontRun);
}

/** Conservative entry: 2 % short of the cluster the price heads to (LONG: low × 0.98; SHORT: high × 1.02). */
export function conservativeEntryPrice(direction: SignalDirection, target: { readonly low: number; readonly high: number }, offsetFraction: number): number {
  return direction === 'LONG' ? target.low * (1 - offsetFraction) : target.high * (1 + offsetFraction);
}

/** Wick stop: the coin's worst historical wick against the trade, from the entry. */
export function wickStopPrice(direction: SignalDirection, entryPrice: number, wickFraction: number): number {
  return direction === 'LONG' ? entryPrice * (1 - wickFraction) : entryPrice * (1 + wickFraction);
}

/** Cluster stop: `beyondFraction` past the opposite cluster's far edge (LONG: low × 0.98; SHORT: high × 1.02). */
export function clusterStopPrice(direction: SignalDirection, opposite: { readonly low: number; readonly high: number }, beyondFraction: number): number {
  return direction === 'LONG' ? opposite.low * (1 - beyondFraction) : opposite.high * (1 + beyondFraction);
}

export type StopRule = 'wick' | 'cluster' | 'min-bound' | 'max-bound' | 'black-swan';

/**
 * The founder's stop: the wider of the wick stop and the cluster stop (the cluster stop counts only when it is
 * on the losing side of entry), then bounded to [minStopFraction, maxStopFraction] from `entryPrice`.
 */
export function chooseStop(
  direction: SignalDirection,
  entryPrice: number,
  wickFraction: number,
  opposite: { readonly low: number; readonly high: number } | undefined,
  config: Pick<PlanConfig, 'clusterStopBeyondFraction' | 'minStopFraction' | 'maxStopFraction'>,
): { readonly stopPrice: number; readonly rule: StopRule; readonly wickStopPrice: number; readonly clusterStopPrice: number | undefined } {
  const long = direction === 'LONG';
  const wick = wickStopPrice(direction, entryPrice, wickFraction);
  const clusterRaw = opposite === undefined ? undefined : clusterStopPrice(direction, opposite, config.clusterStopBeyondFraction);
  const cluster = clusterRaw !== undefined && (long ? clusterRaw < entryPrice : clusterRaw > entryPrice) ? clusterRaw : undefined;
  let stop = wick;
  let rule: StopRule = 'wick';
  if (cluster !== undefined && (long ? cluster < wick : cluster > wick)) {
    stop = cluster;
    rule = 'cluster';
  }
  const distance = Math.abs(entryPrice - stop) / entryPrice;
  if (distance < config.minStopFraction) return { stopPrice: wickStopPrice(direction, entryPrice, config.minStopFraction), rule: 'min-bound', wickStopPrice: wick, clusterStopPrice: cluster };
  if (distance > config.maxStopFraction) return { stopPrice: wickStopPrice(direction, entryPrice, config.maxStopFraction), rule: 'max-bound', wickStopPrice: wick, clusterStopPrice: cluster };
  return { stopPrice: stop, rule, wickStopPrice: wick, clusterStopPrice: cluster };
}

/**
 * The target among significant clusters in the trade's direction that lie wholly beyond `price`: the first
 * (nearest) one as the founder trades it, or the largest (ties: the nearer).
 */
export function selectTargetCluster<C extends { readonly low: number; readonly high: number; readonly usd: number }>(
  direction: SignalDirection,
  price: number,
  clusters: readonly C[],
  choice: TargetChoice,
): C | undefined {
  const long = direction === 'LONG';
  const ahead = clusters.filter((c) => (long ? c.low > price : c.high < price));
  const dist = (c: C): number => (long ? c.low - price : price - c.high);
  let best: C | undefined;
  for (const c of ahead) {
    if (best === undefined) best = c;
    else if (choice === 'first' ? dist(c) < dist(best) || (dist(c) === dist(best) && c.usd > best.usd) : c.usd > best.usd || (c.usd === best.usd && dist(c) < dist(best))) best = c;
  }
  return best;
}

/** A market fill `fraction` worse than `price`: a LONG buys higher and sells lower; mirrored for SHORT. */
function slipped(direction: SignalDirection, price: number, fraction: number, leg: 'entry' | 'exit'): number {
  const up = (direction === 'LONG') === (leg === 'entry');
  return up ? price * (1 + fraction) : price * (1 - fraction);
}

export interface PlanInput {
  readonly symbol: string;
  readonly direction: SignalDirection;
  /** Requested style for this coin; coins in `scaledOnlyCoins` are always planned as scaled. */
  readonly style: EntryStyle;
  readonly currentPrice: number;
  /** Significant clusters on the trade's side (LONG: short clusters above), any order. */
  readonly clustersAhead: readonly RangedCluster[];
  /** Nearest significant cluster on the other side (LONG: the long cluster below). */
  readonly opposite: RangedCluster | undefined;
  /** Historical max wick against the trade as a fraction; undefined until the coin has enough minute bars. */
  readonly maxWickFraction: number | undefined;
  /** Typical daily range as a fraction, for the leverage cap; undefined skips that cap. */
  readonly volatilityFraction: number | undefined;
  readonly equityUsd: number;
  readonly freeMarginUsd: number;
  readonly rules: InstrumentRules;
}

export interface PlannedEntry {
  readonly rung: number;
  readonly orderType: 'Market' | 'Limit';
  /** Limit price, or the expected fill of a market order. */
  readonly priceUsd: number;
  readonly qty: number;
}

export interface TradePlan {
  readonly refused: false;
  readonly symbol: string;
  readonly direction: SignalDirection;
  readonly style: EntryStyle;
  readonly entries: readonly PlannedEntry[];
  readonly qty: number;
  /** Volume-weighted entry if every entry fills. */
  readonly avgEntryPrice: number;
  readonly stopLossPrice: number;
  readonly stopRule: StopRule;
  readonly takeProfitPrice: number;
  readonly target: RangedCluster;
  readonly leverage: number;
  readonly riskBudgetUsd: number;
  /** Loss with fees if every entry fills and the stop is hit; never above `riskBudgetUsd`. */
  readonly lossAtStopUsd: number;
  readonly marginUsd: number;
  readonly notes: readonly string[];
}

/**
 * Plans one trade the founder's way: target cluster (first or largest), entry by style, stop (wider of wick and
 * cluster stop, bounded 5–10 %; for ladders a black-swan stop beyond the last rung), take-profit front-running
 * the target's centre, leverage from the stop and volatility, size from the 1 % risk budget with fees, all
 * rounded onto the instrument's grid. A plan whose take-profit is not beyond its (worst) entry is refused with
 * `TP_NOT_BEYOND_ENTRY` — the seed's "enter at the cluster edge 116,000" example is exactly that case.
 */
export function planTrade(input: PlanInput, config: PlanConfig = DEFAULT_PLAN_CONFIG): TradePlan | Refusal {
  const { direction, rules } = input;
  const long = direction === 'LONG';
  if (!(input.currentPrice > 0) || !Number.isFinite(input.currentPrice)) return refuse('INVALID_PRICE', `current price ${input.currentPrice}`);
  const style: EntryStyle = config.scaledOnlyCoins.includes(baseCoin(input.symbol)) ? 'scaled' : input.style;
  const notes: string[] = style !== input.style ? [`${input.symbol} is traded with scaled ladders only`] : [];
  const target = selectTargetCluster(direction, input.currentPrice, input.clustersAhead, config.targetChoice);
  if (target === undefined) return refuse('NO_TARGET_CLUSTER', `no significant ${long ? 'short cluster above' : 'long cluster below'} ${input.currentPrice}`);
  const takeProfitPrice = roundPrice(takeProfitFromCluster(input.symbol, direction, target.centre), rules, long ? 'down' : 'up');
  const budgetUsd = riskBudgetUsd(input.equityUsd, config.sizing);
  const beyond = (tp: number, entry: number): boolean => (long ? tp > entry : tp < entry);

  if (style === 'scaled') {
    const prices = ladderRungPrices(direction, input.currentPrice, input.opposite, config.ladder, rules);
    if (isRefusal(prices)) return prices;
    const first = prices[0]!;
    if (!beyond(takeProfitPrice, first)) return refuse('TP_NOT_BEYOND_ENTRY', `take-profit ${takeProfitPrice} is not beyond the first rung ${first}`);
    const last = prices[prices.length - 1]!;
    const swan = Math.min(config.maxStopFraction, Math.max(config.minStopFraction, config.ladder.blackSwanStopFraction));
    const stopLossPrice = roundPrice(wickStopPrice(direction, last, swan), rules, long ? 'down' : 'up');
    const leverage = leverageFor(Math.abs(first - stopLossPrice) / first, input.volatilityFraction, rules, config.sizing);
    const sized = sizeLadder({ direction, prices, stopPrice: slipped(direction, stopLossPrice, config.slippageFraction, 'exit'), budgetUsd, freeMarginUsd: input.freeMarginUsd, leverage, sizeRatio: config.ladder.sizeRatio, makerFeeRate: config.makerFeeRate, takerFeeRate: config.takerFeeRate, rules });
    if (isRefusal(sized)) return sized;
    if (sized.droppedRungs > 0) notes.push(`${sized.droppedRungs} rung(s) below min order qty dropped`);
    return {
      refused: false, symbol: input.symbol, direction, style, qty: sized.qty, avgEntryPrice: sized.avgEntryPrice,
      entries: sized.rungs.map((r) => ({ rung: r.rung, orderType: 'Limit' as const, priceUsd: r.priceUsd, qty: r.qty })),
      stopLossPrice, stopRule: 'black-swan', takeProfitPrice, target, leverage, riskBudgetUsd: budgetUsd,
      lossAtStopUsd: sized.lossAtStopUsd, marginUsd: sized.marginUsd, notes,
    };
  }

  const aggressive = style === 'aggressive';
  const entryPrice = aggressive ? input.currentPrice : roundPrice(conservativeEntryPrice(direction, target, config.conservativeOffsetFraction), rules, long ? 'down' : 'up');
  if (!beyond(takeProfitPrice, entryPrice)) return refuse('TP_NOT_BEYOND_ENTRY', `take-profit ${takeProfitPrice} is not beyond entry ${entryPrice}`);
  if (input.maxWickFraction === undefined) notes.push(`no wick history: default ${config.defaultWickStopFraction * 100} % wick stop`);
  const stop = chooseStop(direction, entryPrice, input.maxWickFraction ?? config.defaultWickStopFraction, input.opposite, config);
  // Rounded away from the entry so a coarse tick can never put the stop on (or past) the entry; the size is
  // computed from the rounded stop, so the risk budget still holds.
  const stopLossPrice = roundPrice(stop.stopPrice, rules, long ? 'down' : 'up');
  const leverage = leverageFor(Math.abs(entryPrice - stopLossPrice) / entryPrice, input.volatilityFraction, rules, config.sizing);
  const entryFeeRate = aggressive ? config.takerFeeRate : config.makerFeeRate;
  const expectedEntry = aggressive ? slipped(direction, entryPrice, config.slippageFraction, 'entry') : entryPrice;
  const stopFill = slipped(direction, stopLossPrice, config.slippageFraction, 'exit');
  const sized = sizeSingleEntry({ direction, entryPrice: expectedEntry, stopPrice: stopFill, budgetUsd, freeMarginUsd: input.freeMarginUsd, leverage, entryFeeRate, exitFeeRate: config.takerFeeRate, rules });
  if (isRefusal(sized)) return sized;
  if (sized.marginLimited) notes.push('size limited by free margin, not by the risk budget');
  return {
    refused: false, symbol: input.symbol, direction, style, qty: sized.qty, avgEntryPrice: entryPrice,
    entries: [{ rung: 0, orderType: aggressive ? 'Market' : 'Limit', priceUsd: entryPrice, qty: sized.qty }],
    stopLossPrice, stopRule: stop.rule, takeProfitPrice, target, leverage, riskBudgetUsd: budgetUsd,
    lossAtStopUsd: sized.lossAtStopUsd, marginUsd: sized.marginUsd, notes,
  };
}
