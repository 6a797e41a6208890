import { detectClusters, type ClusterConfig } from './clusters.js';
import type { HeatmapRange, HeatmapSnapshot, HeatmapSource } from './heatmap.js';

/**
 * Coin significance thresholds and the learned "typical cluster size" per (coin, range).
 *
 * The founder's static tiers (BTC $100M, ETH $2B, market cap > $10B: $50M, > $1B: $20M, else $10M) are a
 * prior. Once a coin has cluster history, its own typical size takes over, because a fixed dollar figure is
 * far too big for a thin coin and too small for a deep one. A per-coin override (from the database) beats both.
 */

const STABLE_QUOTES = ['USDT', 'USDC', 'PERP', 'USD'] as const;

/**
 * Base coin of a Bybit linear symbol (`BTCUSDT` → `BTC`, `ETHPERP` → `ETH`). Multiplier prefixes such as
 * `1000PEPE` are kept: they are part of the coin's identity on Bybit and overrides are keyed by them.
 */
export function baseCoin(symbol: string): string {
  const s = symbol.toUpperCase();
  for (const quote of STABLE_QUOTES) {
    if (s.length > quote.length && s.endsWith(quote)) return s.slice(0, -quote.length);
  }
  return s;
}

/**
 * Static threshold in USD for a coin (`BTC` or `BTCUSDT`), with `overridesUsd` keyed by base coin.
 * Unknown market cap falls in the lowest tier.
 */
export function staticThresholdUsd(
  symbolOrCoin: string,
  marketCapUsd: number | undefined,
  overridesUsd: Readonly<Record<string, number>> = {},
): number {
  const coin = baseCoin(symbolOrCoin);
  const override = overridesUsd[coin];
  if (override !== undefined && Number.isFinite(override) && override > 0) return override;
  if (coin === 'BTC') return 100e6;
  if (coin === 'ETH') return 2e9;
  const cap = marketCapUsd ?? 0;
  if (cap > 10e9) return 50e6;
  if (cap > 1e9) return 20e6;
  return 10e6;
}

/**
 * How a learned typical size combines with the founder's floor. `max` (default): the higher of the floor and
 * `typicalFraction × typical`. A learned figure can then raise the bar for a deep coin but never drop it under
 * the founder's tier: the own estimate's dollars are a model, a thin coin's "typical" cluster may be pure
 * noise, and the tiers are what the founder trades on ($100M for BTC means a $60M BTC cluster does not move
 * price, however big it is by BTC's recent standards). `replace`: the learned figure replaces the floor once
 * learned (the earlier behaviour).
 */
export type LearnedThresholdMode = 'max' | 'replace';

export interface SignificanceConfig {
  /** A learned typical size is used once this many observations back it. */
  readonly minSamples: number;
  /** Significance threshold as a fraction of the typical cluster size (0.5 = half the usual biggest cluster). */
  readonly typicalFraction: number;
  readonly learned: LearnedThresholdMode;
}

export const DEFAULT_SIGNIFICANCE_CONFIG: SignificanceConfig = { minSamples: 12, typicalFraction: 0.5, learned: 'max' };

/**
 * The USD size a cluster must reach to count: the per-coin override if any; else, once the typical size is
 * learned, the higher of the static tier and `typicalFraction × typical` (`learned: 'max'`) or the learned
 * figure alone (`'replace'`); else the static tier.
 */
export function significanceThresholdUsd(
  symbolOrCoin: string,
  marketCapUsd: number | undefined,
  typical: TypicalSize | undefined,
  overridesUsd: Readonly<Record<string, number>> = {},
  config: SignificanceConfig = DEFAULT_SIGNIFICANCE_CONFIG,
): number {
  const override = overridesUsd[baseCoin(symbolOrCoin)];
  if (override !== undefined && Number.isFinite(override) && override > 0) return override;
  return thresholdFromFloorUsd(staticThresholdUsd(symbolOrCoin, marketCapUsd, overridesUsd), false, typical, config);
}

/** `significanceThresholdUsd` from a resolved floor: an exact (operator) floor is used as is. */
export function thresholdFromFloorUsd(floorUsd: number, exact: boolean, typical: TypicalSize | undefined, config: SignificanceConfig): number {
  if (exact || typical === undefined || typical.samples < config.minSamples || !(typical.usd > 0)) return floorUsd;
  const learned = config.typicalFraction * typical.usd;
  return config.learned === 'replace' ? learned : Math.max(floorUsd, learned);
}

/**
 * Cluster size as a percentage of the typical size (239M vs 150M → 159.33…). Scoring quantises it; this does
 * not. Returns 0 when the typical size is unknown or not positive.
 */
export function clusterPctOfTypical(clusterUsd: number, typicalUsd: number | undefined): number {
  if (typicalUsd === undefined || !(typicalUsd > 0) || !(clusterUsd > 0)) return 0;
  return (clusterUsd / typicalUsd) * 100;
}

export interface TypicalSize {
  /** Time-weighted EWMA of the observed cluster sizes, USD. */
  readonly usd: number;
  readonly samples: number;
  readonly lastObservedAtMs: number;
}

export interface TypicalSizeConfig {
  /** An observation this old has half the weight of a fresh one. */
  readonly halfLifeMs: number;
}

export const DEFAULT_TYPICAL_SIZE_CONFIG: TypicalSizeConfig = { halfLifeMs: 7 * 24 * 3_600_000 };

/**
 * Learns a typical cluster size per (coin, range, source) as a time-weighted EWMA. Sources are kept apart: a
 * CoinGlass map and the own estimate measure different things (CoinGlass's "liquidation leverage" vs modelled
 * notional), so one shared average would make the significance threshold jump whenever the source switches.
 * EWMA: the weight of a new observation is
 * `1 − 2^(−Δt / halfLife)`, so polling every minute or every hour gives the same curve and replay reproduces
 * it exactly (time comes from the observations, never from a clock). Callers feed one figure per snapshot —
 * the largest significant-candidate cluster — which is what "cluster % of typical" is compared with.
 */
export class TypicalClusterSizes {
  private readonly sizes = new Map<string, TypicalSize>();

  constructor(private readonly config: TypicalSizeConfig = DEFAULT_TYPICAL_SIZE_CONFIG) {
    if (!(config.halfLifeMs > 0)) throw new Error(`TypicalClusterSizes: halfLifeMs must be > 0, got ${config.halfLifeMs}`);
  }

  private static key(coin: string, range: HeatmapRange, source: HeatmapSource): string {
    return `${baseCoin(coin)}|${range}|${source}`;
  }

  /**
   * Folds in one cluster size. Non-finite or non-positive sizes are ignored and return false so the caller
   * can count them. An observation older than the last one counts as simultaneous (no negative weights).
   */
  observe(coin: string, range: HeatmapRange, source: HeatmapSource, clusterUsd: number, atMs: number): boolean {
    if (!Number.isFinite(clusterUsd) || clusterUsd <= 0 || !Number.isFinite(atMs)) return false;
    const key = TypicalClusterSizes.key(coin, range, source);
    const prev = this.sizes.get(key);
    if (prev === undefined) {
      this.sizes.set(key, { usd: clusterUsd, samples: 1, lastObservedAtMs: atMs });
      return true;
    }
    const dtMs = Math.max(0, atMs - prev.lastObservedAtMs);
    // A second sample at the same instant still moves the average a little (weight of a 1-sample mean).
    const alpha = dtMs > 0 ? 1 - Math.pow(2, -dtMs / this.config.halfLifeMs) : 1 / (prev.samples + 1);
    this.sizes.set(key, {
      usd: prev.usd + alpha * (clusterUsd - prev.usd),
      samples: prev.samples + 1,
      lastObservedAtMs: Math.max(prev.lastObservedAtMs, atMs),
    });
    return true;
  }

  /**
   * Learns from a fresh snapshot: feeds the largest cluster (any size, so the estimate is not circular with
   * significance). Returns false when the snapshot has no cluster. Call it once per fetched snapshot, not on
   * every ranking pass, or a stale snapshot would be counted many times.
   */
  observeSnapshot(snapshot: HeatmapSnapshot, clusterConfig: ClusterConfig): boolean {
    let largest = 0;
    for (const c of detectClusters(snapshot.levels, snapshot.refPrice, clusterConfig)) largest = Math.max(largest, c.usd);
    return this.observe(snapshot.symbol, snapshot.range, snapshot.source, largest, snapshot.fetchedAt);
  }

  get(coin: string, range: HeatmapRange, source: HeatmapSource): TypicalSize | undefined {
    return this.sizes.get(TypicalClusterSizes.key(coin, range, source));
  }

  /**
   * Restores a persisted value (from the database at start). Keeps whichever of the stored and the in-memory
   * value was observed last, so a late restore never rolls back what was learned since the start.
   */
  set(coin: string, range: HeatmapRange, source: HeatmapSource, size: TypicalSize): void {
    const key = TypicalClusterSizes.key(coin, range, source);
    const current = this.sizes.get(key);
    if (current === undefined || current.lastObservedAtMs < size.lastObservedAtMs) this.sizes.set(key, size);
  }

  /** All learned sizes as `[coin, range, source, size]`, sorted by key so persisted output is deterministic. */
  entries(): Array<[string, HeatmapRange, HeatmapSource, TypicalSize]> {
    return [...this.sizes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, size]) => {
        const [coin, range, source] = key.split('|') as [string, HeatmapRange, HeatmapSource];
        return [coin, range, source, size];
      });
  }
}
