import type { LiquidationsOccurred, TickerUpdated, TradesPrinted } from './events.js';
import { HEATMAP_RANGES, heatmapAgeMs, type HeatmapRange, type HeatmapSnapshot, type HeatmapSource } from './heatmap.js';
import { DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, LiquidationEstimator, type LiquidationEstimatorConfig } from './liquidation-estimator.js';
import { DEFAULT_EVALUATION_CONFIG, evaluateCoin, type CoinAssessment, type EvaluationConfig } from './ranking.js';
import { resolveCoinThreshold } from './coin-thresholds.js';
import { compareSources, type SourceDistance } from './source-distance.js';
import { baseCoin, TypicalClusterSizes, type TypicalSize } from './thresholds.js';

export interface CoinLiquidityConfig {
  /** Ranges evaluated (snapshots kept and scored); signal weights live in `evaluation.imbalance.weights`. */
  readonly ranges: readonly HeatmapRange[];
  /**
   * Ranges the own estimate stands in for when no fresh external snapshot exists. Longer ones (90d, 180d, 1y)
   * are shown only from CoinGlass: the estimate is bootstrapped from days of history, not months.
   */
  readonly estimateRanges: readonly HeatmapRange[];
  /** A CoinGlass snapshot older than this loses to the own estimate for its range. */
  readonly maxExternalAgeMs: number;
  /** Prior success rate of the setup per coin until pattern statistics exist. */
  readonly successRatePrior: number;
  readonly evaluation: EvaluationConfig;
  readonly estimator: LiquidationEstimatorConfig;
}

export const DEFAULT_COIN_LIQUIDITY_CONFIG: CoinLiquidityConfig = {
  ranges: HEATMAP_RANGES,
  estimateRanges: ['12h', '24h', '3d', '7d', '14d', '30d'],
  maxExternalAgeMs: 10 * 60_000,
  successRatePrior: 0.5,
  evaluation: DEFAULT_EVALUATION_CONFIG,
  // A cohort is side × 0.1 % bucket × opening hour, about 86 bytes with its indexes. After a 30-day bootstrap a
  // coin holds ~1.5–1.8k of them; 2048 keeps its 30d view within 0.5 % of a brute-force estimate (128 kept a
  // third of the dollars and nothing older than 7 days: test/estimator-quality.test.ts). ESTIMATOR_MAX_COHORTS.
  estimator: { ...DEFAULT_LIQUIDATION_ESTIMATOR_CONFIG, maxCohorts: 2048 },
};

/** Minimum spacing of OI readings fed to the estimator, exchange time. */
export const OI_SAMPLE_MS = 1000;

/** The part of the estimator a history feed drives. */
export type EstimatorFeed = Pick<LiquidationEstimator, 'symbol' | 'onPrice' | 'onOpenInterest'>;

/** One recorded estimator input from REST history: a price move, or an OI reading at a price. */
export type HistoryStep = { readonly priceUsd: number } | { readonly tsMs: number; readonly openInterestQty: number; readonly priceUsd: number };

/**
 * Records what a history feed would tell an estimator, as plain data an actor can receive and a tape can hold,
 * so the bootstrap is applied inside the coin's actor and replays exactly.
 */
export class HistoryRecorder implements EstimatorFeed {
  readonly steps: HistoryStep[] = [];
  constructor(readonly symbol: string) {}
  onPrice(priceUsd: number): void {
    this.steps.push({ priceUsd });
  }
  onOpenInterest(tsMs: number, openInterestQty: number, priceUsd: number): boolean {
    this.steps.push({ tsMs, openInterestQty, priceUsd });
    return true;
  }
}

/** A learned typical cluster size with its key, as persisted and restored. */
export interface TypicalSizeEntry {
  readonly range: HeatmapRange;
  readonly source: HeatmapSource;
  readonly size: TypicalSize;
}

/** Per-coin facts from outside the market stream: the operator's table override and CoinGlass market cap. */
export interface CoinInputs {
  readonly dbOverrideUsd?: number | undefined;
  readonly marketCapUsd?: number | undefined;
  /** Typical sizes persisted by an earlier run. */
  readonly typical?: readonly TypicalSizeEntry[];
  /** Cluster outcomes of an earlier run still inside the hit-rate window (`cluster_outcomes`), for the coin's hit rates. */
  readonly outcomes?: readonly RestoredOutcome[];
}

/** One stored cluster outcome, as much of it as a hit rate needs. */
export interface RestoredOutcome {
  readonly range: HeatmapRange;
  readonly resolvedAtMs: number;
  readonly hit: boolean;
}

/** What one evaluation produced: the snapshots it used (per range) and the assessment. */
export interface CoinEvaluation {
  readonly snapshots: readonly HeatmapSnapshot[];
  readonly assessment: CoinAssessment;
}

/**
 * Everything one coin knows about its liquidation levels: the own estimate fed from its market events, the
 * latest external (CoinGlass) snapshot per range, and the learned typical cluster size per range. Pure: time
 * comes from event timestamps and the `nowMs` passed to `evaluate`.
 */
export class CoinLiquidity {
  private model: LiquidationEstimator;
  private readonly external = new Map<HeatmapRange, HeatmapSnapshot>();
  private readonly typical = new TypicalClusterSizes();
  private lastOi = NaN;
  private lastOiAt = -Infinity;
  private lastPrice = NaN;
  private oiValueUsd = NaN;
  private dbOverrideUsd: number | undefined;
  private marketCapUsd: number | undefined;
  private rangeWeights: Readonly<Partial<Record<HeatmapRange, number>>> | undefined;

  constructor(
    readonly symbol: string,
    private readonly config: CoinLiquidityConfig = DEFAULT_COIN_LIQUIDITY_CONFIG,
  ) {
    this.model = new LiquidationEstimator(symbol, config.estimator);
  }

  get estimator(): LiquidationEstimator {
    return this.model;
  }

  /**
   * Replaces the estimate with one rebuilt from REST history (oldest first), then lets the next live OI reading
   * continue from the history's last reading. Exposure the live stream added before the history arrived is
   * dropped: history covers it, and replaying old prices over it would consume live levels wrongly.
   */
  applyHistory(steps: readonly HistoryStep[]): void {
    const fresh = new LiquidationEstimator(this.symbol, this.config.estimator);
    for (const step of steps) {
      if ('tsMs' in step) fresh.onOpenInterest(step.tsMs, step.openInterestQty, step.priceUsd);
      else fresh.onPrice(step.priceUsd);
    }
    if (this.lastPrice > 0) fresh.onPrice(this.lastPrice);
    this.model = fresh;
    this.lastOi = NaN;
    this.lastOiAt = -Infinity;
  }

  get refPrice(): number {
    return this.lastPrice;
  }

  /**
   * Takes the operator's override and the market cap (each replaces the previous value when present in
   * `inputs`, `undefined` clears it) and restores persisted typical sizes.
   */
  setInputs(inputs: CoinInputs): void {
    if ('dbOverrideUsd' in inputs) this.dbOverrideUsd = inputs.dbOverrideUsd;
    if ('marketCapUsd' in inputs) this.marketCapUsd = inputs.marketCapUsd;
    for (const t of inputs.typical ?? []) this.typical.set(this.symbol, t.range, t.source, t.size);
  }

  /** Range weights of the next evaluations (learned ones); undefined returns to the configured static weights. */
  setRangeWeights(weights: Readonly<Partial<Record<HeatmapRange, number>>> | undefined): void {
    this.rangeWeights = weights;
  }

  /** Learned typical sizes of this coin, for persistence. */
  typicalEntries(): TypicalSizeEntry[] {
    return this.typical.entries().map(([, range, source, size]) => ({ range, source, size }));
  }

  onTicker(ev: TickerUpdated): void {
    if (ev.openInterestValue > 0) this.oiValueUsd = ev.openInterestValue;
    if (ev.lastPrice > 0 && ev.lastPrice !== this.lastPrice) {
      this.lastPrice = ev.lastPrice;
      this.model.onPrice(ev.lastPrice);
    }
    // OI readings reach the model at most once a second per coin: the change in between is opened at the
    // flow's VWAP either way, and Bybit pushes tickers every 100 ms.
    if (ev.openInterest > 0 && ev.openInterest !== this.lastOi && this.lastPrice > 0 && ev.tsEvent - this.lastOiAt >= OI_SAMPLE_MS) {
      this.lastOi = ev.openInterest;
      this.lastOiAt = ev.tsEvent;
      this.model.onOpenInterest(ev.tsEvent, ev.openInterest, this.lastPrice);
    }
  }

  onTrades(ev: TradesPrinted): void {
    this.model.onTrades(ev);
  }

  onLiquidations(ev: LiquidationsOccurred): void {
    for (const item of ev.items) this.model.onRealizedLiquidation(item);
  }

  /**
   * Takes an external snapshot (CoinGlass); it feeds the typical-size learner once, as it arrives. Where the own
   * estimate covers the same range, returns how far apart the two are (cluster prices and sizes).
   */
  onExternalSnapshot(snapshot: HeatmapSnapshot): SourceDistance | undefined {
    const previous = this.external.get(snapshot.range);
    if (previous !== undefined && previous.fetchedAt >= snapshot.fetchedAt) return undefined;
    this.external.set(snapshot.range, snapshot);
    this.typical.observeSnapshot(snapshot, this.config.evaluation.cluster);
    if (!this.config.estimateRanges.includes(snapshot.range)) return undefined;
    const price = this.lastPrice > 0 ? this.lastPrice : snapshot.refPrice;
    const estimate = this.estimator.snapshot(snapshot.range, snapshot.fetchedAt, price);
    return compareSources(snapshot, estimate, price, this.config.evaluation.cluster);
  }

  /**
   * Scores the coin now: per range the external snapshot when fresh, else the own estimate (which also teaches
   * the typical sizes, once per evaluation). Undefined until a price is known.
   */
  evaluate(nowMs: number): CoinEvaluation | undefined {
    if (!(this.lastPrice > 0)) return undefined;
    const snapshots: HeatmapSnapshot[] = [];
    for (const range of this.config.ranges) {
      const ext = this.external.get(range);
      if (ext !== undefined && heatmapAgeMs(ext, nowMs) <= this.config.maxExternalAgeMs) {
        snapshots.push(ext);
        continue;
      }
      if (!this.config.estimateRanges.includes(range)) continue;
      const est = this.estimator.snapshot(range, nowMs, this.lastPrice);
      this.typical.observeSnapshot(est, this.config.evaluation.cluster);
      snapshots.push(est);
    }
    const assessment = evaluateCoin(
      {
        symbol: this.symbol,
        snapshots,
        refPrice: this.lastPrice,
        nowMs,
        marketCapUsd: this.marketCapUsd,
        threshold: resolveCoinThreshold(this.symbol, {
          envOverrideUsd: this.config.evaluation.overridesUsd[baseCoin(this.symbol)],
          dbOverrideUsd: this.dbOverrideUsd,
          marketCapUsd: this.marketCapUsd,
          oiValueUsd: this.oiValueUsd,
        }),
        typicalSize: (range, source) => this.typical.get(this.symbol, range, source),
        successRate: this.config.successRatePrior,
        ...(this.rangeWeights === undefined ? {} : { rangeWeights: this.rangeWeights }),
      },
      this.config.evaluation,
    );
    return { snapshots, assessment };
  }
}
