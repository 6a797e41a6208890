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

/**
 * Parses one Bybit decimal string. Returns NaN for `""` (no value) and undefined for anything that is not a
 * decimal number, so callers can reject the frame instead of storing garbage.
 */
export function parseDecimal(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0) return NaN;
  const n = Number(value);
  if (!Number.isFinite(n)) return undefined;
  // Number(" 1") and Number("0x10") are accepted by JS but are not Bybit decimals.
  const c = value.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 46)) return undefined;
  const last = value.charCodeAt(value.length - 1);
  if (!(last >= 48 && last <= 57) && last !== 46) return undefined;
  if (value.length > 2 && value.charCodeAt(1) === 120) return undefined;
  return n;
}
