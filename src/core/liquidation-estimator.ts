import type { RealizedLiquidation, TradesPrinted } from './events.js';
import {
  buildHeatmapSnapshot,
  HEATMAP_RANGE_MS,
  type HeatmapRange,
  type HeatmapSnapshot,
  type LiquidationSide,
  type RawHeatmapLevel,
} from './heatmap.js';

/**
 * Own liquidation-level estimate from free Bybit data, so the engine works without a CoinGlass plan.
 *
 * Model (assumptions, in order):
 * 1. New open interest (ΔOI in contracts × entry price) was opened at the VWAP of the trades since the previous
 *    OI reading (the OI reading's price if there were none). The aggressor is the leveraged party: the new
 *    notional is split long/short by the taker buy/sell turnover share over the same span (50/50 without
 *    trades, or an explicit share from a bootstrap source).
 * 2. Each side is spread over leverage tiers (default 5×, 10×, 25×, 50×, 100×, weighted) with a maintenance
 *    margin rate: long liquidation price p×(1 − 1/L + mm), short p×(1 + 1/L − mm).
 * 3. An OI decrease closes positions uniformly: all exposure scales by OI_new / OI_old.
 * 4. A level is consumed when the price reaches it (long levels at or above the price, short levels at or
 *    below) or when a realized liquidation of the same side within `realizedMatchFraction` of its price eats
 *    it (nearest first, up to the liquidated USD).
 * 5. Older exposure decays exponentially with `halfLifeMs` (positions get closed, rolled or re-margined in ways
 *    OI alone cannot show).
 * Levels are bucketed by relative price (`bucketFraction`, 0.1 % by default) and by opening time (`cohortMs`),
 * so memory is bounded by `maxCohorts`; past it, the smallest cohorts are evicted. `snapshot(range, …)` keeps
 * cohorts opened within the range (at cohort resolution).
 *
 * Time only comes from event timestamps and the `nowMs` passed to reads; the same inputs give the same output.
 */

export interface LeverageTier {
  readonly leverage: number;
  /** Relative share of new notional at this leverage; tiers are normalised to sum to 1. */
  readonly weight: number;
}

export interface LiquidationEstimatorConfig {
  readonly leverageTiers: readonly LeverageTier[];
  /** Maintenance margin rate as a fraction (0.005 = 0.5 %). */
  readonly maintenanceMarginRate: number;
  /** Relative width of a price bucket (0.001 = 0.1 %). */
  readonly bucketFraction: number;
  readonly halfLifeMs: number;
  /** Time resolution of exposure cohorts; range filters are exact only to this resolution. */
  readonly cohortMs: number;
  readonly maxCohorts: number;
  /** Cohorts whose current USD falls below this are dropped when memory is reclaimed. */
  readonly minCohortUsd: number;
  /** A realized liquidation consumes same-side levels within this fraction of its price. */
  readonly realizedMatchFraction: number;
  /** How many recent realized liquidations are kept for REALIZED levels in snapshots. */
  readonly maxRealized: number;
}

export const DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG: LiquidationEstimatorConfig = {
  leverageTiers: [
    { leverage: 5, weight: 0.3 },
    { leverage: 10, weight: 0.3 },
    { leverage: 25, weight: 0.2 },
    { leverage: 50, weight: 0.15 },
    { leverage: 100, weight: 0.05 },
  ],
  maintenanceMarginRate: 0.005,
  bucketFraction: 0.001,
  halfLifeMs: 7 * 24 * 3_600_000,
  cohortMs: 3_600_000,
  maxCohorts: 4096,
  minCohortUsd: 1,
  realizedMatchFraction: 0.005,
  maxRealized: 256,
};

/** Taker flow of one trades frame (a `TradesPrinted` event fits). */
export type TradeFlow = Pick<
  TradesPrinted,
  'tsEvent' | 'buyQty' | 'sellQty' | 'buyTurnoverUsd' | 'sellTurnoverUsd' | 'lastPrice'
>;

/** One realized liquidation (a `RealizedLiquidation` item fits); `price` is Bybit's bankruptcy price. */
export type RealizedFill = Pick<RealizedLiquidation, 'tsEvent' | 'side' | 'price' | 'usd'>;

/** One estimated level with its true side (before any reference-price inference). */
export interface EstimatedLevel {
  readonly priceUsd: number;
  readonly usd: number;
  readonly side: LiquidationSide;
}

const PRICE_IDX_OFFSET = 2 ** 19;
const PRICE_IDX_SPAN = 2 ** 20;
const RENORMALISE_EXPONENT = 64;
const NONE = -1;
/** Cohort doubles per slot: stored (USD in internal units: current USD = stored × unit(now)), openedAtMs, key. */
const CF = 3;
/** Cohort ints per slot: bucket slot, previous and next cohort of the same bucket (next doubles as free-list link). */
const CI = 3;
/** Bucket ints per slot: key (side offset + price index + offset), first and last cohort (first doubles as free link). */
const BI = 3;
const INITIAL_SLOTS = 32;
const SIDE_CODE = { long: 0, short: 1 } as const;
const SIDE_NAME: readonly LiquidationSide[] = ['long', 'short'];
const SIDES = [0, 1] as const;

/*
 * Sort scratch shared by every estimator: JS runs one estimator method at a time, so one buffer serves all
 * of them and none carries its own. `sortKeys` is indexed by cohort slot, `sortOrder` holds the slots sorted.
 */
let sortOrder = new Int32Array(INITIAL_SLOTS);
let sortKeys = new Float64Array(INITIAL_SLOTS);

function ensureSortScratch(slots: number): void {
  if (sortOrder.length >= slots) return;
  sortOrder = new Int32Array(slots);
  sortKeys = new Float64Array(slots);
}

/** Same order as the comparator `primary[a] − primary[b] || key[a] − key[b]` (NaN and 0 fall through to the key). */
function before(a: number, b: number, cf: Float64Array): boolean {
  const d = sortKeys[a]! - sortKeys[b]!;
  if (d !== 0 && d === d) return d < 0;
  return cf[a * CF + 2]! < cf[b * CF + 2]!;
}

function siftDown(root: number, end: number, cf: Float64Array): void {
  const item = sortOrder[root]!;
  let i = root;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= end) break;
    if (child + 1 < end && before(sortOrder[child]!, sortOrder[child + 1]!, cf)) child++;
    if (!before(item, sortOrder[child]!, cf)) break;
    sortOrder[i] = sortOrder[child]!;
    i = child;
  }
  sortOrder[i] = item;
}

/** In-place heapsort of `sortOrder[0, n)`; cohort keys are unique, so the order is total and the result unique. */
function sortScratch(n: number, cf: Float64Array): void {
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i, n, cf);
  for (let end = n - 1; end > 0; end--) {
    const top = sortOrder[0]!;
    sortOrder[0] = sortOrder[end]!;
    sortOrder[end] = top;
    siftDown(0, end, cf);
  }
}

/**
 * Own liquidation-level model of one symbol. Storage is struct-of-arrays in typed arrays (cohort and bucket
 * slots with free lists, an open-addressing bucket index, per-side sorted ladders of bucket slots) sized by
 * `maxCohorts` plus one OI reading's tiers, grown by half from a small start: about 70 bytes per cohort
 * and no allocation in steady state. Gotcha: behaviour is pinned bit for bit to the former object-based
 * model (the test keeps it as a reference), including the order of cohorts inside a bucket, which decides
 * float summation order: new cohorts are appended and a removed one is replaced by the bucket's last.
 */
export class LiquidationEstimator {
  private readonly tiers: Array<{ longFactor: number; shortFactor: number; share: number }>;
  private readonly logStep: number;
  private readonly maxSlots: number;
  private lastOiQty: number | undefined;
  private flowBuyUsd = 0;
  private flowSellUsd = 0;
  private flowQty = 0;
  /** Internal units: stored values are USD × 2^((t − epochMs)/halfLife) / scale at insertion time t. */
  private epochMs: number | undefined;
  private scale = 1;
  private lastEventMs = -Infinity;
  private slots = 0;
  private count = 0;
  private cf = new Float64Array(0);
  private ci = new Int32Array(0);
  private bucketPrice = new Float64Array(0);
  private bi = new Int32Array(0);
  private freeCohort = NONE;
  private freeBucket = NONE;
  private cohortHigh = 0;
  private bucketHigh = 0;
  /** Bucket key → bucket slot + 1 (0 = empty), linear probing with backward-shift deletion. */
  private table = new Int32Array(0);
  private tableShift = 32;
  /** Per side, bucket slots ordered so the next one the price can cross is last (longs ascending, shorts descending). */
  private readonly ladders: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];
  private readonly ladderLen: [number, number] = [0, 0];
  /** Ring of recent realized liquidations: [tsEvent, price, usd] per entry, side code apart. */
  private realizedF = new Float64Array(0);
  private realizedSide = new Uint8Array(0);
  private realizedStart = 0;
  private realizedLen = 0;
  private readonly maxRealized: number;

  constructor(
    readonly symbol: string,
    private readonly config: LiquidationEstimatorConfig = DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG,
  ) {
    const mm = config.maintenanceMarginRate;
    if (!(mm >= 0 && mm < 0.5)) throw new Error(`estimator: maintenanceMarginRate out of range: ${mm}`);
    const bucket = config.bucketFraction;
    if (!(bucket > 0 && bucket <= 0.1)) throw new Error(`estimator: bucketFraction out of range: ${bucket}`);
    if (!(config.halfLifeMs > 0)) throw new Error(`estimator: halfLifeMs must be > 0`);
    if (!(config.cohortMs >= 1000)) throw new Error(`estimator: cohortMs must be >= 1000`);
    if (!(config.maxCohorts >= 16)) throw new Error(`estimator: maxCohorts must be >= 16`);
    const match = config.realizedMatchFraction;
    if (!(match >= 0 && match < 0.5)) throw new Error(`estimator: realizedMatchFraction out of range: ${match}`);
    const weightSum = config.leverageTiers.reduce((s, t) => s + (t.weight > 0 ? t.weight : 0), 0);
    if (!(weightSum > 0)) throw new Error('estimator: leverage tiers need a positive total weight');
    this.tiers = config.leverageTiers
      .filter((t) => t.weight > 0)
      .map((t) => {
        if (!(1 / t.leverage > mm)) throw new Error(`estimator: leverage ${t.leverage}× is not liquidatable with mm ${mm}`);
        return { longFactor: 1 - 1 / t.leverage + mm, shortFactor: 1 + 1 / t.leverage - mm, share: t.weight / weightSum };
      });
    this.logStep = Math.log1p(config.bucketFraction);
    // One OI reading may add a cohort per tier before eviction runs.
    this.maxSlots = Math.ceil(config.maxCohorts) + this.tiers.length;
    this.maxRealized = Math.max(0, Math.ceil(config.maxRealized) || 0);
  }

  /** Accumulates taker flow until the next OI reading and consumes levels crossed by the trade price. */
  onTrades(flow: TradeFlow): void {
    if (Number.isFinite(flow.buyTurnoverUsd) && flow.buyTurnoverUsd > 0) this.flowBuyUsd += flow.buyTurnoverUsd;
    if (Number.isFinite(flow.sellTurnoverUsd) && flow.sellTurnoverUsd > 0) this.flowSellUsd += flow.sellTurnoverUsd;
    const qty = (flow.buyQty > 0 ? flow.buyQty : 0) + (flow.sellQty > 0 ? flow.sellQty : 0);
    if (Number.isFinite(qty)) this.flowQty += qty;
    this.touch(flow.tsEvent);
    this.onPrice(flow.lastPrice);
  }

  /**
   * Applies an OI reading (contracts, i.e. base coin, not USD: USD value moves with price alone). The first
   * reading is the baseline: positions opened before we started are unknown. Returns false for unusable
   * input (non-finite, negative, non-positive price) so the caller can count it.
   */
  onOpenInterest(tsMs: number, openInterestQty: number, priceUsd: number, takerBuyShare?: number): boolean {
    if (!Number.isFinite(tsMs) || !Number.isFinite(openInterestQty) || openInterestQty < 0) return false;
    if (!Number.isFinite(priceUsd) || priceUsd <= 0) return false;
    this.touch(tsMs);
    this.onPrice(priceUsd);
    const previous = this.lastOiQty;
    this.lastOiQty = openInterestQty;
    const flowUsd = this.flowBuyUsd + this.flowSellUsd;
    const entryPrice = this.flowQty > 0 && flowUsd > 0 ? flowUsd / this.flowQty : priceUsd;
    const flowShare = flowUsd > 0 ? this.flowBuyUsd / flowUsd : 0.5;
    const share = takerBuyShare !== undefined && takerBuyShare >= 0 && takerBuyShare <= 1 ? takerBuyShare : flowShare;
    this.flowBuyUsd = 0;
    this.flowSellUsd = 0;
    this.flowQty = 0;
    if (previous === undefined) return true;
    if (openInterestQty > previous) {
      const notionalUsd = (openInterestQty - previous) * entryPrice;
      this.addExposure('long', notionalUsd * share, entryPrice, tsMs);
      this.addExposure('short', notionalUsd * (1 - share), entryPrice, tsMs);
      // A high-leverage level of an entry away from the current price may already be on the wrong side of it.
      this.onPrice(priceUsd);
    } else if (openInterestQty < previous) {
      if (openInterestQty === 0 || this.count === 0) {
        this.clearExposure();
      } else {
        this.scale *= openInterestQty / previous;
        if (this.scale < 1e-12) this.renormalise(this.lastEventMs);
      }
    }
    return true;
  }

  /** Consumes every long level at or above `priceUsd` and every short level at or below it (O(levels removed)). */
  onPrice(priceUsd: number): void {
    if (!Number.isFinite(priceUsd) || priceUsd <= 0) return;
    const longs = this.ladders[0];
    while (this.ladderLen[0] > 0 && this.bucketPrice[longs[this.ladderLen[0] - 1]!]! >= priceUsd) {
      this.dropBucket(longs[--this.ladderLen[0]]!);
    }
    const shorts = this.ladders[1];
    while (this.ladderLen[1] > 0 && this.bucketPrice[shorts[this.ladderLen[1] - 1]!]! <= priceUsd) {
      this.dropBucket(shorts[--this.ladderLen[1]]!);
    }
  }

  /** Records a realized liquidation (kept for REALIZED levels) and consumes matching estimated exposure. */
  onRealizedLiquidation(fill: RealizedFill): boolean {
    if (!Number.isFinite(fill.price) || fill.price <= 0 || !Number.isFinite(fill.usd) || fill.usd <= 0) return false;
    if (!Number.isFinite(fill.tsEvent)) return false;
    this.touch(fill.tsEvent);
    this.recordRealized(fill);
    const tol = this.config.realizedMatchFraction * fill.price;
    const sideOffset = fill.side === 'long' ? 0 : PRICE_IDX_SPAN;
    ensureSortScratch(this.slots);
    const cf = this.cf;
    const ci = this.ci;
    let near = 0;
    for (let i = this.priceIndex(fill.price - tol); i <= this.priceIndex(fill.price + tol); i++) {
      const b = this.findBucket(sideOffset + i + PRICE_IDX_OFFSET);
      if (b === NONE) continue;
      const distance = Math.abs(this.bucketPrice[b]! - fill.price);
      if (!(distance <= tol)) continue;
      for (let c = this.bi[b * BI + 1]!; c !== NONE; c = ci[c * CI + 2]!) {
        sortOrder[near++] = c;
        sortKeys[c] = distance;
      }
    }
    sortScratch(near, cf);
    const unit = this.unitAt(this.lastEventMs);
    let remainingUsd = fill.usd;
    for (let k = 0; k < near; k++) {
      if (remainingUsd <= 0) break;
      const c = sortOrder[k]!;
      const usd = cf[c * CF]! * unit;
      if (usd <= remainingUsd) {
        remainingUsd -= usd;
        this.removeCohort(c);
      } else {
        cf[c * CF] = Math.max(0, cf[c * CF]! - remainingUsd / unit);
        remainingUsd = 0;
      }
    }
    return true;
  }

  /**
   * Current estimated levels with their true sides, summed per price bucket, ascending price. Only cohorts
   * opened within `maxAgeMs` of `nowMs` count. `nowMs` earlier than the last event is treated as that event's
   * time so decay never inflates exposure.
   */
  exposureLevels(nowMs: number, maxAgeMs = Infinity): EstimatedLevel[] {
    const now = Math.max(nowMs, this.lastEventMs);
    const unit = this.unitAt(now);
    const levels: EstimatedLevel[] = [];
    for (const side of SIDES) {
      const ladder = this.ladders[side];
      for (let k = 0; k < this.ladderLen[side]; k++) {
        const b = ladder[k]!;
        const usd = this.bucketUsd(b, now, maxAgeMs, unit);
        if (usd > 0) levels.push({ priceUsd: this.bucketPrice[b]!, usd, side: SIDE_NAME[side]! });
      }
    }
    return levels.sort((a, b) => a.priceUsd - b.priceUsd || (a.side < b.side ? -1 : 1));
  }

  /** Total current exposure per side in USD (never negative); sums buckets in ascending price like `exposureLevels`. */
  exposureUsd(nowMs: number): { longUsd: number; shortUsd: number } {
    const now = Math.max(nowMs, this.lastEventMs);
    const unit = this.unitAt(now);
    let longUsd = 0;
    for (let k = 0; k < this.ladderLen[0]; k++) {
      const usd = this.bucketUsd(this.ladders[0][k]!, now, Infinity, unit);
      if (usd > 0) longUsd += usd;
    }
    let shortUsd = 0;
    for (let k = this.ladderLen[1] - 1; k >= 0; k--) {
      const usd = this.bucketUsd(this.ladders[1][k]!, now, Infinity, unit);
      if (usd > 0) shortUsd += usd;
    }
    return { longUsd, shortUsd };
  }

  /** Bytes of typed arrays held (slots grow by half up to `maxCohorts` + tiers), for the memory breakdown. */
  get byteLength(): number {
    let n = this.realizedF.byteLength + this.realizedSide.byteLength + this.table.byteLength;
    for (const a of [this.cf, this.ci, this.bucketPrice, this.bi, this.ladders[0], this.ladders[1]]) n += a.byteLength;
    return n;
  }

  /** Number of cohorts held (bounded by `maxCohorts`). */
  get cohortCount(): number {
    return this.count;
  }

  /**
   * A heatmap snapshot like CoinGlass's, source `estimate`. Levels already crossed by `refPrice` are left out
   * (so the inferred side always equals the modelled side), and realized liquidations within the range are
   * added as REALIZED levels.
   */
  snapshot(range: HeatmapRange, nowMs: number, refPrice: number): HeatmapSnapshot {
    const maxAgeMs = HEATMAP_RANGE_MS[range];
    const levels: RawHeatmapLevel[] = [];
    for (const l of this.exposureLevels(nowMs, maxAgeMs)) {
      const uncrossed = l.side === 'long' ? l.priceUsd < refPrice : l.priceUsd > refPrice;
      if (uncrossed) levels.push({ priceUsd: l.priceUsd, usd: l.usd, label: 'ESTIMATED' });
    }
    const cap = this.realizedSide.length;
    for (let k = 0; k < this.realizedLen; k++) {
      const r = (this.realizedStart + k) % cap;
      const tsEvent = this.realizedF[r * 3]!;
      if (nowMs - tsEvent <= maxAgeMs) {
        const side = SIDE_NAME[this.realizedSide[r]!]!;
        levels.push({ priceUsd: this.realizedF[r * 3 + 1]!, usd: this.realizedF[r * 3 + 2]!, label: 'REALIZED', side });
      }
    }
    const input = { symbol: this.symbol, range, source: 'estimate' as const, refPrice, fetchedAt: nowMs, levels };
    return buildHeatmapSnapshot(input).snapshot;
  }

  private priceIndex(priceUsd: number): number {
    return Math.floor(Math.log(priceUsd) / this.logStep);
  }

  /** USD of bucket `b` at `now` from cohorts opened within `maxAgeMs`, summed in the bucket's cohort order. */
  private bucketUsd(b: number, now: number, maxAgeMs: number, unit: number): number {
    const cf = this.cf;
    const ci = this.ci;
    let usd = 0;
    for (let c = this.bi[b * BI + 1]!; c !== NONE; c = ci[c * CI + 2]!) {
      if (now - cf[c * CF + 1]! <= maxAgeMs) usd += cf[c * CF]! * unit;
    }
    return usd;
  }

  private recordRealized(fill: RealizedFill): void {
    if (this.maxRealized === 0) return;
    let cap = this.realizedSide.length;
    if (this.realizedLen === cap && cap < this.maxRealized) {
      const grown = Math.min(this.maxRealized, Math.max(8, cap * 2));
      const f = new Float64Array(grown * 3);
      const side = new Uint8Array(grown);
      for (let k = 0; k < this.realizedLen; k++) {
        const r = (this.realizedStart + k) % cap;
        for (let j = 0; j < 3; j++) f[k * 3 + j] = this.realizedF[r * 3 + j]!;
        side[k] = this.realizedSide[r]!;
      }
      this.realizedF = f;
      this.realizedSide = side;
      this.realizedStart = 0;
      cap = grown;
    }
    let r: number;
    if (this.realizedLen < cap) r = (this.realizedStart + this.realizedLen++) % cap;
    else {
      r = this.realizedStart;
      this.realizedStart = (this.realizedStart + 1) % cap;
    }
    this.realizedF[r * 3] = fill.tsEvent;
    this.realizedF[r * 3 + 1] = fill.price;
    this.realizedF[r * 3 + 2] = fill.usd;
    this.realizedSide[r] = SIDE_CODE[fill.side];
  }

  private addExposure(side: LiquidationSide, notionalUsd: number, entryPrice: number, tsMs: number): void {
    if (!(notionalUsd > 0)) return;
    if (this.epochMs === undefined) this.epochMs = tsMs;
    const weight = Math.pow(2, (tsMs - this.epochMs) / this.config.halfLifeMs) / this.scale;
    const timeIdx = Math.floor(tsMs / this.config.cohortMs);
    const code = SIDE_CODE[side];
    for (const tier of this.tiers) {
      const liqPrice = entryPrice * (side === 'long' ? tier.longFactor : tier.shortFactor);
      const idx = this.priceIndex(liqPrice);
      if (!(idx > -PRICE_IDX_OFFSET && idx < PRICE_IDX_OFFSET)) continue;
      const key = (timeIdx * 2 + code) * PRICE_IDX_SPAN + (idx + PRICE_IDX_OFFSET);
      const stored = notionalUsd * tier.share * weight;
      const bucketKey = code * PRICE_IDX_SPAN + idx + PRICE_IDX_OFFSET;
      const existing = this.findCohort(this.findBucket(bucketKey), key);
      if (existing !== NONE) {
        this.cf[existing * CF] = this.cf[existing * CF]! + stored;
        continue;
      }
      if (this.count >= this.slots) this.grow();
      const b = this.bucketFor(code, idx, bucketKey);
      this.appendCohort(b, stored, timeIdx * this.config.cohortMs, key);
    }
    if (this.count > this.config.maxCohorts) this.evict();
  }

  /** The cohort with `key` in bucket `b` (a bucket holds one cohort per opening hour: usually one or two). */
  private findCohort(b: number, key: number): number {
    if (b === NONE) return NONE;
    for (let c = this.bi[b * BI + 1]!; c !== NONE; c = this.ci[c * CI + 2]!) if (this.cf[c * CF + 2] === key) return c;
    return NONE;
  }

  /** Drops cohorts under `minCohortUsd`, then the smallest ones until 3/4 of capacity. */
  private evict(): void {
    const unit = this.unitAt(this.lastEventMs);
    const target = Math.floor(this.config.maxCohorts * 0.75);
    ensureSortScratch(this.slots);
    const cf = this.cf;
    let n = 0;
    for (const side of SIDES) {
      for (let k = 0; k < this.ladderLen[side]; k++) {
        for (let c = this.bi[this.ladders[side][k]! * BI + 1]!; c !== NONE; c = this.ci[c * CI + 2]!) {
          sortOrder[n++] = c;
          sortKeys[c] = cf[c * CF]!;
        }
      }
    }
    sortScratch(n, cf);
    for (let k = 0; k < n; k++) {
      const c = sortOrder[k]!;
      if (this.count <= target && cf[c * CF]! * unit >= this.config.minCohortUsd) break;
      this.removeCohort(c);
    }
  }

  private clearExposure(): void {
    this.count = 0;
    this.cohortHigh = 0;
    this.bucketHigh = 0;
    this.freeCohort = NONE;
    this.freeBucket = NONE;
    this.table.fill(0);
    this.ladderLen[0] = 0;
    this.ladderLen[1] = 0;
    this.scale = 1;
  }

  /**
   * Grows every slot array by half (up to `maxSlots`); only while an estimator fills up, never in steady state.
   * Half, not double: 500 coins carry the unused tail of every array, and a coin's cohort count settles (~730
   * after a 7-day bootstrap), so doubling left a quarter of the estimators' memory empty on average.
   */
  private grow(): void {
    const slots = Math.min(this.maxSlots, Math.max(INITIAL_SLOTS, Math.ceil(this.slots * 1.5)));
    const cf = new Float64Array(slots * CF);
    cf.set(this.cf);
    this.cf = cf;
    const ci = new Int32Array(slots * CI);
    ci.set(this.ci);
    this.ci = ci;
    const price = new Float64Array(slots);
    price.set(this.bucketPrice);
    this.bucketPrice = price;
    const bi = new Int32Array(slots * BI);
    bi.set(this.bi);
    this.bi = bi;
    for (const side of SIDES) {
      const ladder = new Int32Array(slots);
      ladder.set(this.ladders[side]);
      this.ladders[side] = ladder;
    }
    let bits = 4;
    while (1 << bits < slots * 1.5) bits++;
    this.table = new Int32Array(1 << bits);
    this.tableShift = 32 - bits;
    for (const side of SIDES) {
      for (let k = 0; k < this.ladderLen[side]; k++) this.indexBucket(this.ladders[side][k]!);
    }
    this.slots = slots;
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.tableShift;
  }

  /** Bucket slot of `key`, or NONE. */
  private findBucket(key: number): number {
    const table = this.table;
    if (table.length === 0) return NONE;
    const mask = table.length - 1;
    for (let i = this.home(key); ; i = (i + 1) & mask) {
      const entry = table[i]!;
      if (entry === 0) return NONE;
      if (this.bi[(entry - 1) * BI] === key) return entry - 1;
    }
  }

  private indexBucket(b: number): void {
    const mask = this.table.length - 1;
    let i = this.home(this.bi[b * BI]!);
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = b + 1;
  }

  /** Removes bucket `b` from the index, shifting later entries of its probe run back (no tombstones). */
  private unindexBucket(b: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let hole = this.home(this.bi[b * BI]!);
    while (table[hole] !== b + 1) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const entry = table[j]!;
      const h = this.home(this.bi[(entry - 1) * BI]!);
      const staysPut = hole <= j ? hole < h && h <= j : hole < h || h <= j;
      if (staysPut) continue;
      table[hole] = entry;
      hole = j;
    }
    table[hole] = 0;
  }

  /** The bucket of side `code` at price index `idx`, created and inserted into its ladder if new. */
  private bucketFor(code: 0 | 1, idx: number, key: number): number {
    const existing = this.findBucket(key);
    if (existing !== NONE) return existing;
    const priceUsd = Math.exp((idx + 0.5) * this.logStep);
    let b = this.freeBucket;
    if (b !== NONE) this.freeBucket = this.bi[b * BI + 1]!;
    else b = this.bucketHigh++;
    this.bucketPrice[b] = priceUsd;
    this.bi[b * BI] = key;
    this.bi[b * BI + 1] = NONE;
    this.bi[b * BI + 2] = NONE;
    this.indexBucket(b);
    const ladder = this.ladders[code];
    const len = this.ladderLen[code];
    const at = this.ladderPosition(code, priceUsd);
    ladder.copyWithin(at + 1, at, len);
    ladder[at] = b;
    this.ladderLen[code] = len + 1;
    return b;
  }

  /** First position in the ladder of `code` whose bucket comes after `priceUsd` in the ladder's order. */
  private ladderPosition(code: 0 | 1, priceUsd: number): number {
    const ladder = this.ladders[code];
    const dir = code === 0 ? 1 : -1;
    let lo = 0;
    let hi = this.ladderLen[code];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.bucketPrice[ladder[mid]!]! - priceUsd) * dir < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private appendCohort(b: number, stored: number, openedAtMs: number, key: number): void {
    let c = this.freeCohort;
    if (c !== NONE) this.freeCohort = this.ci[c * CI + 2]!;
    else c = this.cohortHigh++;
    this.cf[c * CF] = stored;
    this.cf[c * CF + 1] = openedAtMs;
    this.cf[c * CF + 2] = key;
    const tail = this.bi[b * BI + 2]!;
    this.ci[c * CI] = b;
    this.ci[c * CI + 1] = tail;
    this.ci[c * CI + 2] = NONE;
    if (tail === NONE) this.bi[b * BI + 1] = c;
    else this.ci[tail * CI + 2] = c;
    this.bi[b * BI + 2] = c;
    this.count++;
  }

  /** Removes cohort `c`; its bucket's last cohort takes its place (the order an array's swap-remove gives). */
  private removeCohort(c: number): void {
    const ci = this.ci;
    const bi = this.bi;
    const b = ci[c * CI]!;
    const last = bi[b * BI + 2]!;
    const beforeLast = ci[last * CI + 1]!;
    bi[b * BI + 2] = beforeLast;
    if (beforeLast === NONE) bi[b * BI + 1] = NONE;
    else ci[beforeLast * CI + 2] = NONE;
    if (last !== c) {
      const prev = ci[c * CI + 1]!;
      const next = ci[c * CI + 2]!;
      ci[last * CI + 1] = prev;
      ci[last * CI + 2] = next;
      if (prev === NONE) bi[b * BI + 1] = last;
      else ci[prev * CI + 2] = last;
      if (next === NONE) bi[b * BI + 2] = last;
      else ci[next * CI + 1] = last;
    }
    this.releaseCohort(c);
    if (bi[b * BI + 1] !== NONE) return;
    const code = bi[b * BI]! < PRICE_IDX_SPAN ? 0 : 1;
    const at = this.ladderPosition(code, this.bucketPrice[b]!);
    const ladder = this.ladders[code];
    if (ladder[at] === b) {
      ladder.copyWithin(at, at + 1, this.ladderLen[code]);
      this.ladderLen[code]--;
    }
    this.releaseBucket(b);
  }

  private releaseCohort(c: number): void {
    this.ci[c * CI + 2] = this.freeCohort;
    this.freeCohort = c;
    this.count--;
  }

  private releaseBucket(b: number): void {
    this.unindexBucket(b);
    this.bi[b * BI + 1] = this.freeBucket;
    this.freeBucket = b;
  }

  /** Removes a bucket already taken off its ladder, with all its cohorts. */
  private dropBucket(b: number): void {
    let c = this.bi[b * BI + 1]!;
    while (c !== NONE) {
      const next = this.ci[c * CI + 2]!;
      this.releaseCohort(c);
      c = next;
    }
    this.releaseBucket(b);
  }

  /** Multiplier from internal units to USD at time `t`. */
  private unitAt(t: number): number {
    if (this.epochMs === undefined || !Number.isFinite(t)) return this.scale;
    return this.scale * Math.pow(2, -(t - this.epochMs) / this.config.halfLifeMs);
  }

  private touch(tsMs: number): void {
    if (!Number.isFinite(tsMs)) return;
    if (tsMs > this.lastEventMs) this.lastEventMs = tsMs;
    const exponent = this.epochMs === undefined ? 0 : (tsMs - this.epochMs) / this.config.halfLifeMs;
    if (exponent > RENORMALISE_EXPONENT) this.renormalise(tsMs);
  }

  /** Folds decay and OI scaling into the stored values and restarts the epoch at `t` (keeps numbers finite). */
  private renormalise(t: number): void {
    if (this.epochMs === undefined || !Number.isFinite(t)) return;
    const unit = this.unitAt(t);
    for (const side of SIDES) {
      for (let k = 0; k < this.ladderLen[side]; k++) {
        for (let c = this.bi[this.ladders[side][k]! * BI + 1]!; c !== NONE; c = this.ci[c * CI + 2]!) {
          this.cf[c * CF] = this.cf[c * CF]! * unit;
        }
      }
    }
    this.epochMs = t;
    this.scale = 1;
  }
}
