/**
 * Liquidation heatmap model shared by every source (CoinGlass v4 heatmaps, the own estimator, tapes).
 *
 * A snapshot is a list of price levels with the USD notional that would be liquidated there. No source tells
 * us which side a level belongs to, so the side is inferred from the level's price against the reference price
 * of the snapshot: above it shorts get liquidated, below it longs. Levels are ESTIMATED (a model's guess about
 * open positions) unless they come from realized liquidations (`allLiquidation`), which are REALIZED and carry
 * their true side.
 */

/** Ranges a heatmap can cover, shortest first. `2w` is accepted on input as an alias of `14d`. */
export const HEATMAP_RANGES = ['12h', '24h', '3d', '7d', '14d', '30d', '90d', '180d', '1y'] as const;

export type HeatmapRange = (typeof HEATMAP_RANGES)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Length of each range in milliseconds (`1y` = 365 days). The estimator uses it as the maximum exposure age. */
export const HEATMAP_RANGE_MS: Readonly<Record<HeatmapRange, number>> = {
  '12h': 12 * HOUR_MS,
  '24h': DAY_MS,
  '3d': 3 * DAY_MS,
  '7d': 7 * DAY_MS,
  '14d': 14 * DAY_MS,
  '30d': 30 * DAY_MS,
  '90d': 90 * DAY_MS,
  '180d': 180 * DAY_MS,
  '1y': 365 * DAY_MS,
};

const RANGE_ALIASES: Readonly<Record<string, HeatmapRange>> = { '2w': '14d' };

/**
 * Parses a range name as found in config, URLs or tapes. Returns undefined for anything unknown so the edge
 * can count and report it instead of throwing. `2w` maps to `14d`.
 */
export function parseHeatmapRange(text: string): HeatmapRange | undefined {
  const t = text.trim().toLowerCase();
  const alias = RANGE_ALIASES[t];
  if (alias !== undefined) return alias;
  return (HEATMAP_RANGES as readonly string[]).includes(t) ? (t as HeatmapRange) : undefined;
}

/** Side of the positions liquidated at a level: `short` above the reference price, `long` below it. */
export type LiquidationSide = 'long' | 'short';

/** ESTIMATED: modelled outstanding positions. REALIZED: liquidations that actually happened. */
export type LevelLabel = 'ESTIMATED' | 'REALIZED';

/** Where a snapshot came from. CoinGlass snapshots are polled; `estimate` is the own model on Bybit data. */
export type HeatmapSource = 'coinglass' | 'estimate';

export interface HeatmapLevel {
  readonly priceUsd: number;
  /** Notional in USD liquidated at this level (always > 0 in a built snapshot). */
  readonly usd: number;
  readonly side: LiquidationSide;
  readonly label: LevelLabel;
}

export interface HeatmapSnapshot {
  readonly symbol: string;
  readonly range: HeatmapRange;
  readonly source: HeatmapSource;
  /** Levels sorted by ascending price (ties keep input order). */
  readonly levels: readonly HeatmapLevel[];
  /** Price the sides were inferred against (mark or last price at fetch time). */
  readonly refPrice: number;
  /** Epoch ms when the data was fetched or computed; the heatmap's age is measured from it. */
  readonly fetchedAt: number;
}

/** One raw level as a source delivers it. `side` is only honoured for REALIZED levels. */
export interface RawHeatmapLevel {
  readonly priceUsd: number;
  readonly usd: number;
  readonly label?: LevelLabel;
  readonly side?: LiquidationSide;
}

export interface HeatmapSnapshotInput {
  readonly symbol: string;
  readonly range: HeatmapRange;
  readonly source: HeatmapSource;
  readonly refPrice: number;
  readonly fetchedAt: number;
  readonly levels: readonly RawHeatmapLevel[];
}

export interface BuiltHeatmapSnapshot {
  readonly snapshot: HeatmapSnapshot;
  /** Levels left out: non-finite or non-positive price or USD, or an ESTIMATED level exactly at `refPrice`. */
  readonly droppedLevelCount: number;
}

/**
 * Side of an ESTIMATED level by price against the reference. A level exactly at the reference price has no
 * side (it is being liquidated now) and yields undefined; dropping it keeps mirror symmetry exact.
 */
export function inferSide(priceUsd: number, refPrice: number): LiquidationSide | undefined {
  if (priceUsd > refPrice) return 'short';
  if (priceUsd < refPrice) return 'long';
  return undefined;
}

/**
 * Builds a validated snapshot: sides inferred for ESTIMATED levels, bad levels counted and dropped, levels
 * sorted by price. Throws only on a broken invariant of the caller (non-finite or non-positive `refPrice`,
 * non-finite `fetchedAt`): the edge must reject such a payload before it reaches the core.
 */
export function buildHeatmapSnapshot(input: HeatmapSnapshotInput): BuiltHeatmapSnapshot {
  const { refPrice, fetchedAt } = input;
  if (!Number.isFinite(refPrice) || refPrice <= 0) {
    throw new Error(`heatmap ${input.symbol} ${input.range}: refPrice must be a positive number, got ${refPrice}`);
  }
  if (!Number.isFinite(fetchedAt)) {
    throw new Error(`heatmap ${input.symbol} ${input.range}: fetchedAt must be finite, got ${fetchedAt}`);
  }
  const levels: HeatmapLevel[] = [];
  let dropped = 0;
  for (const raw of input.levels) {
    const { priceUsd, usd } = raw;
    if (!Number.isFinite(priceUsd) || priceUsd <= 0 || !Number.isFinite(usd) || usd <= 0) {
      dropped++;
      continue;
    }
    const label: LevelLabel = raw.label ?? 'ESTIMATED';
    const side = label === 'REALIZED' && raw.side !== undefined ? raw.side : inferSide(priceUsd, refPrice);
    if (side === undefined) {
      dropped++;
      continue;
    }
    levels.push({ priceUsd, usd, side, label });
  }
  levels.sort((a, b) => a.priceUsd - b.priceUsd);
  return {
    snapshot: {
      symbol: input.symbol,
      range: input.range,
      source: input.source,
      levels,
      refPrice,
      fetchedAt,
    },
    droppedLevelCount: dropped,
  };
}

/**
 * The snapshot's levels with ESTIMATED sides re-inferred against `priceUsd`, the price now. A snapshot's sides
 * were inferred against its own `refPrice`, which can be minutes old: a level the price has since passed
 * through is on the other side now (a short-liquidation level the price rose above holds longs' stops below it,
 * as far as what pulls the price goes). REALIZED levels keep their true side; an ESTIMATED level exactly at
 * `priceUsd` is dropped (no side). Returns the input array itself when nothing changes, so the common case
 * (price unchanged, or no level in between) allocates nothing.
 */
export function levelsAtPrice(levels: readonly HeatmapLevel[], priceUsd: number): readonly HeatmapLevel[] {
  let changed = false;
  for (const l of levels) {
    if (l.label === 'ESTIMATED' && inferSide(l.priceUsd, priceUsd) !== l.side) {
      changed = true;
      break;
    }
  }
  if (!changed) return levels;
  const out: HeatmapLevel[] = [];
  for (const l of levels) {
    if (l.label !== 'ESTIMATED') {
      out.push(l);
      continue;
    }
    const side = inferSide(l.priceUsd, priceUsd);
    if (side === undefined) continue;
    out.push(side === l.side ? l : { ...l, side });
  }
  return out;
}

/** Age of a snapshot at `nowMs`, never negative (a snapshot stamped slightly in the future is age 0). */
export function heatmapAgeMs(snapshot: HeatmapSnapshot, nowMs: number): number {
  return Math.max(0, nowMs - snapshot.fetchedAt);
}
