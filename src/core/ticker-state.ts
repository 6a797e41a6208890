/**
 * Full per-symbol ticker state merged from Bybit linear `tickers.*` frames: a snapshot replaces the state,
 * a delta overwrites only the fields it carries. Numbers are parsed once here; `""` (Bybit's "does not
 * apply") becomes NaN, never 0.
 */
export const TICKER_NUMERIC_FIELDS = [
  'lastPrice',
  'markPrice',
  'indexPrice',
  'openInterest',
  'openInterestValue',
  'fundingRate',
  'bid1Price',
  'bid1Size',
  'ask1Price',
  'ask1Size',
  'volume24h',
  'turnover24h',
  'price24hPcnt',
  'highPrice24h',
  'lowPrice24h',
  'prevPrice24h',
  'prevPrice1h',
  'nextFundingTime',
] as const;

export type TickerNumericField = (typeof TICKER_NUMERIC_FIELDS)[number];

export type TickerState = { symbol: string; tsEvent: number; cs: number; snapshots: number; deltas: number } & Record<TickerNumericField, number>;

export function emptyTickerState(symbol: string): TickerState {
  const s = { symbol, tsEvent: NaN, cs: NaN, snapshots: 0, deltas: 0 } as TickerState;
  for (const f of TICKER_NUMERIC_FIELDS) s[f] = NaN;
  return s;
}

/** Longest decimal string accepted (Bybit's longest, a 24 h turnover, is ~16 characters); caps magnitude at 1e32. */
export const MAX_DECIMAL_CHARS = 32;

/**
 * Parses one Bybit decimal string. Returns NaN for `""` (no value) and undefined for anything that is not a
 * plain decimal: an optional `-`, digits, optionally `.` and digits, at most {@link MAX_DECIMAL_CHARS} long.
 * `Number()` alone also reads `"0b1"`, `"0x10"`, `"1e3"`, `" 1"` and `"Infinity"`; none is a Bybit decimal, so
 * the frame carrying one is refused rather than stored as a number. A char-code scan, not a regex: this runs for
 * every number of every frame.
 */
export function parseDecimal(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const len = value.length;
  if (len === 0) return NaN;
  if (len > MAX_DECIMAL_CHARS) return undefined;
  let i = value.charCodeAt(0) === 45 ? 1 : 0;
  const intStart = i;
  let c = 0;
  while (i < len && (c = value.charCodeAt(i)) >= 48 && c <= 57) i++;
  if (i === intStart) return undefined;
  if (i < len) {
    if (c !== 46) return undefined;
    const fracStart = ++i;
    while (i < len && (c = value.charCodeAt(i)) >= 48 && c <= 57) i++;
    if (i === fracStart || i < len) return undefined;
  }
  return Number(value);
}
