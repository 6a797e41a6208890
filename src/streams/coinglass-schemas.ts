import { z } from 'zod';
import type { HeatmapRange, RawHeatmapLevel } from '../core/heatmap.js';

/**
 * The CoinGlass v4 payload contract in zod, plus the pure reductions from a validated `data` to our domain
 * values. No I/O here: `coinglass-client.ts` fetches and wraps problems into `CoinGlassError('shape')`, and
 * replay feeds recorded bodies through the same functions, so live and replay cannot disagree.
 *
 * Gotchas (see ../shared/reference/coinglass-v4.md): `code` is a string, numbers arrive as numbers or as
 * decimal strings depending on the endpoint, heatmap candle times are SECONDS while every other time is ms,
 * and no payload says which side a level is on.
 */

/** Heatmap ranges CoinGlass serves (no 14d: ask for 7d or 30d instead). */
export const COINGLASS_HEATMAP_RANGES = ['12h', '24h', '3d', '7d', '30d', '90d', '180d', '1y'] as const satisfies readonly HeatmapRange[];
export type CoinGlassHeatmapRange = (typeof COINGLASS_HEATMAP_RANGES)[number];

/** Liquidation map ranges (`1d`, not `24h`) and the heatmap range each one is filed under. */
export const LIQUIDATION_MAP_RANGES = { '1d': '24h', '7d': '7d', '30d': '30d' } as const satisfies Record<string, HeatmapRange>;
export type LiquidationMapRange = keyof typeof LIQUIDATION_MAP_RANGES;

/** CoinGlass's three undocumented heatmap models; poll one consistently (default 2). */
export type HeatmapModel = 1 | 2 | 3;

/**
 * How the heatmap's time axis becomes price levels. `latest-column` (default): the newest x column only,
 * i.e. what is still resting now. `sum-uncrossed`: sum every column per row, dropping cells whose price a
 * later candle traded through; only right if CoinGlass turns out to emit each level once, at creation.
 */
export type HeatmapReduction = 'latest-column' | 'sum-uncrossed';

export type ParseOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const NUMERIC_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A finite number, or a decimal string holding one (CoinGlass mixes both). */
const numeric = z.unknown().transform((v, ctx) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && NUMERIC_RE.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected a finite number or numeric string' });
    return z.NEVER;
  }
  return n;
});
const index = z.number().int('expected an integer index').nonnegative('expected an index >= 0');

/** `{code, msg?, data?}`; unknown top-level keys (e.g. `success`) are ignored. A numeric code is tolerated. */
export const envelopeSchema = z.object({
  code: z.union([z.string(), z.number()]).transform(String),
  msg: z.string().optional(),
  data: z.unknown().optional(),
});

export const heatmapDataSchema = z.object({
  y_axis: z.array(numeric),
  liquidation_leverage_data: z.array(z.tuple([index, index, numeric], z.unknown())),
  price_candlesticks: z.array(z.tuple([numeric, numeric, numeric, numeric, numeric], z.unknown())),
  update_time: numeric.optional(),
});

export const liquidationMapDataSchema = z.object({
  data: z.record(z.string(), z.array(z.tuple([numeric, numeric, numeric.nullable()], z.unknown()))),
});

export const openInterestHistorySchema = z.array(
  z.object({ time: numeric, open: numeric, high: numeric, low: numeric, close: numeric }),
);

export const supportedPairsSchema = z.record(
  z.string(),
  z.array(z.object({ instrument_id: z.string().min(1), base_asset: z.string(), quote_asset: z.string() })),
);

/**
 * `coins-markets` rows (Standard plan and up): only the fields whalestack reads. A row without a usable market
 * cap is kept with `undefined` (a new listing often has none); a row without a symbol is a shape error.
 */
export const coinsMarketsSchema = z.array(
  z.object({ symbol: z.string().min(1), market_cap_usd: numeric.nullable().optional(), open_interest_usd: numeric.nullable().optional() }),
);

/** `data.y_axis[3]: expected … (got "abc")` for the first few issues: names the path a real reply broke. */
export function describeZodIssues(error: z.ZodError, prefix: string, root: unknown): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      let path = prefix;
      let got: unknown = root;
      for (const key of issue.path) {
        path += typeof key === 'number' ? `[${key}]` : `${path ? '.' : ''}${String(key)}`;
        got = got !== null && typeof got === 'object' ? (got as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
      }
      const shown = got === undefined ? 'missing' : JSON.stringify(got)?.slice(0, 60);
      return `${path || '(root)'}: ${issue.message} (got ${shown})`;
    })
    .join('; ');
}

function validate<S extends z.ZodType>(schema: S, data: unknown): ParseOutcome<z.output<S>> {
  const r = schema.safeParse(data);
  return r.success ? { ok: true, value: r.data } : { ok: false, problem: describeZodIssues(r.error, 'data', data) };
}

/** What a heatmap payload looked like, so the latest-vs-sum assumption can be checked on live data. */
export interface HeatmapDiagnostics {
  readonly cellCount: number;
  /** Cells whose y index has no `y_axis` entry (counted, dropped). */
  readonly cellsOutsideYAxis: number;
  /** Cells whose x index has no candle (kept: x is only used for ordering). */
  readonly cellsBeyondCandles: number;
  readonly rowsWithData: number;
  /** Distinct x per non-empty row, averaged. ≫ 1 means bands (latest-column is right); ≈ 1 means events. */
  readonly meanColumnsPerRow: number;
  /** x of the newest column holding data; -1 when there is none. */
  readonly latestColumn: number;
}

export interface ReducedHeatmap {
  /** One level per price row (unsided: the core infers sides). */
  readonly levels: readonly RawHeatmapLevel[];
  /** Close of the newest candle: the price CoinGlass drew the map against. */
  readonly refPriceUsd: number;
  /** Open time of the newest candle, epoch ms (converted from seconds). */
  readonly lastCandleAtMs: number;
  readonly diagnostics: HeatmapDiagnostics;
}

/** Validates `data` of any of the six heatmap endpoints and reduces its time axis to price levels. */
export function reduceHeatmapData(data: unknown, reduction: HeatmapReduction): ParseOutcome<ReducedHeatmap> {
  const parsed = validate(heatmapDataSchema, data);
  if (!parsed.ok) return parsed;
  const d = parsed.value;
  let last: (typeof d.price_candlesticks)[number] | undefined;
  for (const c of d.price_candlesticks) if (last === undefined || c[0] >= last[0]) last = c;
  if (last === undefined) return { ok: false, problem: 'data.price_candlesticks: empty, so there is no reference price' };
  const refPriceUsd = last[4];
  if (!(refPriceUsd > 0)) return { ok: false, problem: `data.price_candlesticks: newest close is ${refPriceUsd}, not a price` };

  let cellsOutsideYAxis = 0;
  let cellsBeyondCandles = 0;
  let latestColumn = -1;
  const columnsPerRow = new Map<number, Set<number>>();
  const cells: [number, number, number][] = [];
  for (const [x, y, v] of d.liquidation_leverage_data) {
    if (y >= d.y_axis.length) {
      cellsOutsideYAxis++;
      continue;
    }
    if (x >= d.price_candlesticks.length) cellsBeyondCandles++;
    cells.push([x, y, v]);
    latestColumn = Math.max(latestColumn, x);
    let set = columnsPerRow.get(y);
    if (set === undefined) columnsPerRow.set(y, (set = new Set()));
    set.add(x);
  }

  const usdByRow = new Map<number, number>();
  for (const [x, y, v] of cells) {
    if (reduction === 'latest-column' ? x !== latestColumn : crossedAfter(d.price_candlesticks, x, d.y_axis[y]!)) continue;
    usdByRow.set(y, (usdByRow.get(y) ?? 0) + v);
  }
  const levels = [...usdByRow].map(([y, usd]) => ({ priceUsd: d.y_axis[y]!, usd }));
  let columnSum = 0;
  for (const s of columnsPerRow.values()) columnSum += s.size;
  return {
    ok: true,
    value: {
      levels,
      refPriceUsd,
      lastCandleAtMs: last[0] * 1000,
      diagnostics: {
        cellCount: d.liquidation_leverage_data.length,
        cellsOutsideYAxis,
        cellsBeyondCandles,
        rowsWithData: columnsPerRow.size,
        meanColumnsPerRow: columnsPerRow.size === 0 ? 0 : columnSum / columnsPerRow.size,
        latestColumn,
      },
    },
  };
}

/** Did any candle after column `x` trade through `priceUsd` (low ≤ price ≤ high)? */
function crossedAfter(candles: readonly (readonly [number, number, number, number, number, ...unknown[]])[], x: number, priceUsd: number): boolean {
  for (let i = x + 1; i < candles.length; i++) {
    const c = candles[i]!;
    if (c[3] <= priceUsd && priceUsd <= c[2]) return true;
  }
  return false;
}

/** One liquidation-map level: the USD of every leverage bucket at that price, summed. */
export interface LiquidationMapLevel {
  readonly priceUsd: number;
  readonly usd: number;
}

/** Validates a liquidation map and sums the rows (one per leverage bucket) that share a price. */
export function reduceLiquidationMapData(data: unknown): ParseOutcome<LiquidationMapLevel[]> {
  const parsed = validate(liquidationMapDataSchema, data);
  if (!parsed.ok) return parsed;
  const byPrice = new Map<number, number>();
  for (const rows of Object.values(parsed.value.data)) {
    for (const row of rows) byPrice.set(row[0], (byPrice.get(row[0]) ?? 0) + row[1]);
  }
  const levels = [...byPrice].map(([priceUsd, usd]) => ({ priceUsd, usd }));
  levels.sort((a, b) => a.priceUsd - b.priceUsd);
  return { ok: true, value: levels };
}

/** One open-interest OHLC bar; values are in the `unit` that was requested (USD by default). */
export interface OpenInterestBar {
  readonly timeMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

export function parseOpenInterestHistoryData(data: unknown): ParseOutcome<OpenInterestBar[]> {
  const parsed = validate(openInterestHistorySchema, data);
  if (!parsed.ok) return parsed;
  const bars = parsed.value.map((b) => ({ timeMs: b.time, open: b.open, high: b.high, low: b.low, close: b.close }));
  bars.sort((a, b) => a.timeMs - b.timeMs);
  return { ok: true, value: bars };
}

export interface SupportedPair {
  readonly instrumentId: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
}

/** Exchange name → its futures instruments (ids as CoinGlass wants them for pair endpoints). */
export function parseSupportedPairsData(data: unknown): ParseOutcome<Record<string, SupportedPair[]>> {
  const parsed = validate(supportedPairsSchema, data);
  if (!parsed.ok) return parsed;
  const out: Record<string, SupportedPair[]> = {};
  for (const [exchange, rows] of Object.entries(parsed.value)) {
    out[exchange] = rows.map((r) => ({ instrumentId: r.instrument_id, baseAsset: r.base_asset, quoteAsset: r.quote_asset }));
  }
  return { ok: true, value: out };
}

/** One coin's market figures from `coins-markets`. */
export interface CoinMarket {
  readonly coin: string;
  readonly marketCapUsd: number | undefined;
  readonly openInterestUsd: number | undefined;
}

export function parseCoinsMarketsData(data: unknown): ParseOutcome<CoinMarket[]> {
  const parsed = validate(coinsMarketsSchema, data);
  if (!parsed.ok) return parsed;
  const positive = (n: number | null | undefined) => (n !== null && n !== undefined && n > 0 ? n : undefined);
  return {
    ok: true,
    value: parsed.value.map((r) => ({ coin: r.symbol.toUpperCase(), marketCapUsd: positive(r.market_cap_usd), openInterestUsd: positive(r.open_interest_usd) })),
  };
}
