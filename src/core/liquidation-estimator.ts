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

/** Mutable so removed cohorts and buckets can be pooled and reused (see `cohortPool`). */
interface Cohort {
  side: LiquidationSide;
  priceUsd: number;
  openedAtMs: number;
  key: number;
  bucket: Bucket;
  /** USD in internal units: current USD = stored × unit(now). */
  stored: number;
}

/** All cohorts of one side at one price bucket; crossing removes whole buckets. */
interface Bucket {
  priceUsd: number;
  key: number;
  /** Usually one or two (a bucket collects one tier's levels per hour): an array is far smaller than a Set. */
  readonly cohorts: Cohort[];
}

const PRICE_IDX_OFFSET = 2 ** 19;
const PRICE_IDX_SPAN = 2 ** 20;
const RENORMALISE_EXPONENT = 64;

export class LiquidationEstimator {
  private readonly tiers: Array<{ longFactor: number; shortFactor: number; share: number }>;
  private readonly logStep: number;
  private readonly cohorts = new Map<number, Cohort>();
  private readonly realized: RealizedFill[] = [];
  private lastOiQty: number | undefined;
  private flowBuyUsd = 0;
  private flowSellUsd = 0;
  private flowQty = 0;
  /** Internal units: stored values are USD × 2^((t − epochMs)/halfLife) / scale at insertion time t. */
  private epochMs: number | undefined;
  private scale = 1;
  private lastEventMs = -Infinity;
  private readonly buckets = new Map<number, Bucket>();
  private readonly cohortPool: Cohort[] = [];
  private readonly bucketPool: Bucket[] = [];
  /** Per side, buckets ordered so the next one the price can cross is last (longs ascending, shorts descending). */
  private readonly ladders: Record<LiquidationSide, Bucket[]> = { long: [], short: [] };

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
      if (openInterestQty === 0 || this.cohorts.size === 0) {
        this.clearExposure();
      } else {
        this.scale *= openInterestQty / previous;
        if (this.scale < 1e-12) this.renormalise(this.lastEventMs);
      }
    }
    return true;
  }

  /** Consumes every long level at or above `priceUsd` and every short level at or below it. */
  onPrice(priceUsd: number): void {
    if (!Number.isFinite(priceUsd) || priceUsd <= 0) return;
    const longs = this.ladders.long;
    while ((longs.at(-1)?.priceUsd ?? -Infinity) >= priceUsd) this.dropBucket(longs.pop() as Bucket);
    const shorts = this.ladders.short;
    while ((shorts.at(-1)?.priceUsd ?? Infinity) <= priceUsd) this.dropBucket(shorts.pop() as Bucket);
  }

  /** Records a realized liquidation (kept for REALIZED levels) and consumes matching estimated exposure. */
  onRealizedLiquidation(fill: RealizedFill): boolean {
    if (!Number.isFinite(fill.price) || fill.price <= 0 || !Number.isFinite(fill.usd) || fill.usd <= 0) return false;
    if (!Number.isFinite(fill.tsEvent)) return false;
    this.touch(fill.tsEvent);
    this.realized.push(fill);
    const excess = this.realized.length - this.config.maxRealized;
    if (excess > 0) this.realized.splice(0, excess);
    const tol = this.config.realizedMatchFraction * fill.price;
    const near: Cohort[] = [];
    const sideOffset = fill.side === 'long' ? 0 : PRICE_IDX_SPAN;
    for (let i = this.priceIndex(fill.price - tol); i <= this.priceIndex(fill.price + tol); i++) {
      const bucket = this.buckets.get(sideOffset + i + PRICE_IDX_OFFSET);
      if (bucket !== undefined && Math.abs(bucket.priceUsd - fill.price) <= tol) near.push(...bucket.cohorts);
    }
    near.sort((a, b) => Math.abs(a.priceUsd - fill.price) - Math.abs(b.priceUsd - fill.price) || a.key - b.key);
    const unit = this.unitAt(this.lastEventMs);
    let remainingUsd = fill.usd;
    for (const c of near) {
      if (remainingUsd <= 0) break;
      const usd = c.stored * unit;
      if (usd <= remainingUsd) {
        remainingUsd -= usd;
        this.removeCohort(c);
      } else {
        c.stored = Math.max(0, c.stored - remainingUsd / unit);
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
    for (const side of ['long', 'short'] as const) {
      for (const bucket of this.ladders[side]) {
        let usd = 0;
        for (const c of bucket.cohorts) if (now - c.openedAtMs <= maxAgeMs) usd += c.stored * unit;
        if (usd > 0) levels.push({ priceUsd: bucket.priceUsd, usd, side });
      }
    }
    return levels.sort((a, b) => a.priceUsd - b.priceUsd || (a.side < b.side ? -1 : 1));
  }

  /** Total current exposure per side in USD (never negative). */
  exposureUsd(nowMs: number): { longUsd: number; shortUsd: number } {
    let longUsd = 0;
    let shortUsd = 0;
    for (const l of this.exposureLevels(nowMs)) {
      if (l.side === 'long') longUsd += l.usd;
      else shortUsd += l.usd;
    }
    return { longUsd, shortUsd };
  }

  /** Number of cohorts held (bounded by `maxCohorts`). */
  get cohortCount(): number {
    return this.cohorts.size;
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
    for (const r of this.realized) {
      if (nowMs - r.tsEvent <= maxAgeMs) levels.push({ priceUsd: r.price, usd: r.usd, label: 'REALIZED', side: r.side });
    }
    const input = { symbol: this.symbol, range, source: 'estimate' as const, refPrice, fetchedAt: nowMs, levels };
    return buildHeatmapSnapshot(input).snapshot;
  }

  private priceIndex(priceUsd: number): number {
    return Math.floor(Math.log(priceUsd) / this.logStep);
  }

  private addExposure(side: LiquidationSide, notionalUsd: number, entryPrice: number, tsMs: number): void {
    if (!(notionalUsd > 0)) return;
    if (this.epochMs === undefined) this.epochMs = tsMs;
    const weight = Math.pow(2, (tsMs - this.epochMs) / this.config.halfLifeMs) / this.scale;
    const timeIdx = Math.floor(tsMs / this.config.cohortMs);
    for (const tier of this.tiers) {
      const liqPrice = entryPrice * (side === 'long' ? tier.longFactor : tier.shortFactor);
      const idx = this.priceIndex(liqPrice);
      if (!(idx > -PRICE_IDX_OFFSET && idx < PRICE_IDX_OFFSET)) continue;
      const key = (timeIdx * 2 + (side === 'long' ? 0 : 1)) * PRICE_IDX_SPAN + (idx + PRICE_IDX_OFFSET);
      const existing = this.cohorts.get(key);
      const stored = notionalUsd * tier.share * weight;
      if (existing !== undefined) {
        existing.stored += stored;
        continue;
      }
      const bucket = this.bucketFor(side, idx);
      const openedAtMs = timeIdx * this.config.cohortMs;
      let cohort = this.cohortPool.pop();
      if (cohort === undefined) cohort = { side, priceUsd: bucket.priceUsd, openedAtMs, key, bucket, stored };
      else {
        cohort.side = side;
        cohort.priceUsd = bucket.priceUsd;
        cohort.openedAtMs = openedAtMs;
        cohort.key = key;
        cohort.bucket = bucket;
        cohort.stored = stored;
      }
      this.cohorts.set(key, cohort);
      bucket.cohorts.push(cohort);
    }
    if (this.cohorts.size > this.config.maxCohorts) this.evict();
  }

  /** Drops cohorts under `minCohortUsd`, then the smallest ones until 3/4 of capacity. */
  private evict(): void {
    const unit = this.unitAt(this.lastEventMs);
    const target = Math.floor(this.config.maxCohorts * 0.75);
    for (const c of [...this.cohorts.values()].sort((a, b) => a.stored - b.stored || a.key - b.key)) {
      if (this.cohorts.size <= target && c.stored * unit >= this.config.minCohortUsd) break;
      this.removeCohort(c);
    }
  }

  private clearExposure(): void {
    this.cohorts.clear();
    this.buckets.clear();
    this.ladders.long.length = 0;
    this.ladders.short.length = 0;
    this.scale = 1;
  }

  /** The bucket of `side` at price index `idx`, created and inserted into its ladder if new. */
  private bucketFor(side: LiquidationSide, idx: number): Bucket {
    const key = (side === 'long' ? 0 : PRICE_IDX_SPAN) + idx + PRICE_IDX_OFFSET;
    const existing = this.buckets.get(key);
    if (existing !== undefined) return existing;
    const priceUsd = Math.exp((idx + 0.5) * this.logStep);
    let bucket = this.bucketPool.pop();
    if (bucket === undefined) bucket = { priceUsd, key, cohorts: [] };
    else {
      bucket.priceUsd = priceUsd;
      bucket.key = key;
    }
    this.buckets.set(key, bucket);
    const ladder = this.ladders[side];
    ladder.splice(this.ladderPosition(ladder, side, bucket.priceUsd), 0, bucket);
    return bucket;
  }

  /** First position in `ladder` whose bucket comes after `priceUsd` in the ladder's order (binary search). */
  private ladderPosition(ladder: readonly Bucket[], side: LiquidationSide, priceUsd: number): number {
    const dir = side === 'long' ? 1 : -1;
    let lo = 0;
    let hi = ladder.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((ladder[mid] as Bucket).priceUsd - priceUsd) * dir < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private removeCohort(c: Cohort): void {
    this.cohorts.delete(c.key);
    const siblings = c.bucket.cohorts;
    const slot = siblings.indexOf(c);
    if (slot >= 0) {
      siblings[slot] = siblings[siblings.length - 1] as Cohort;
      siblings.pop();
    }
    this.recycleCohort(c);
    if (siblings.length > 0) return;
    this.buckets.delete(c.bucket.key);
    const ladder = this.ladders[c.side];
    const at = this.ladderPosition(ladder, c.side, c.bucket.priceUsd);
    if (ladder[at] === c.bucket) ladder.splice(at, 1);
    this.recycleBucket(c.bucket);
  }

  /*
   * Cohorts and buckets churn as price wanders (new ones appear, the smallest are evicted, crossed ones are
   * consumed). Reusing the objects keeps that churn out of the old generation, which otherwise grows the
   * heap well past the live data across 500 coins.
   */
  private recycleCohort(c: Cohort): void {
    if (this.cohortPool.length < this.config.maxCohorts) this.cohortPool.push(c);
  }

  private recycleBucket(b: Bucket): void {
    b.cohorts.length = 0;
    if (this.bucketPool.length < this.config.maxCohorts) this.bucketPool.push(b);
  }

  /** Removes a bucket already taken off its ladder, with all its cohorts. */
  private dropBucket(bucket: Bucket): void {
    for (const c of bucket.cohorts) {
      this.cohorts.delete(c.key);
      this.recycleCohort(c);
    }
    this.buckets.delete(bucket.key);
    this.recycleBucket(bucket);
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
    for (const c of this.cohorts.values()) c.stored *= unit;
    this.epochMs = t;
    this.scale = 1;
  }
}
