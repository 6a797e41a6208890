import type { DbSession } from '../../src/sinks/db/database.js';
import type { FakeBybitRest, OpenInterestRow } from './fake-bybit-rest.js';

/** Bybit codes and bar lengths of the four history series. */
export const SERIES = [
  { table: 'history_klines', interval: '60', stepMs: 3_600_000 },
  { table: 'history_klines', interval: '1', stepMs: 60_000 },
  { table: 'history_open_interest', interval: '1h', stepMs: 3_600_000 },
  { table: 'history_open_interest', interval: '5min', stepMs: 300_000 },
] as const;

export type SeriesSpec = (typeof SERIES)[number];

/** Small deterministic hash so every symbol and time gets its own prices. */
function wobble(symbol: string, t: number): number {
  let h = 2166136261;
  for (const ch of `${symbol}:${t}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return ((h >>> 0) % 10_000) / 10_000;
}

/**
 * Gives `rest` a full history for `symbol` from `launchMs` to `untilMs` in all four series, with holes Bybit
 * has too (no trading for a while): `holes` are [fromMs, toMs) ranges left out of every series.
 */
export function seedHistory(rest: FakeBybitRest, symbol: string, launchMs: number, untilMs: number, holes: readonly (readonly [number, number])[] = []): void {
  const inHole = (t: number) => holes.some(([a, b]) => t >= a && t < b);
  for (const s of SERIES) {
    const rows: string[][] = [];
    const oi: OpenInterestRow[] = [];
    for (let t = Math.ceil(launchMs / s.stepMs) * s.stepMs; t <= untilMs; t += s.stepMs) {
      if (inHole(t)) continue;
      const w = wobble(symbol, t);
      if (s.table === 'history_klines') {
        const open = 100 + 10 * w;
        const close = open * (1 + (w - 0.5) / 50);
        rows.push([String(t), open.toFixed(4), (Math.max(open, close) * 1.003).toFixed(4), (Math.min(open, close) * 0.997).toFixed(4), close.toFixed(4), (1000 * w).toFixed(3), (100_000 * w).toFixed(2)]);
      } else {
        oi.push({ openInterest: (50_000 + 5_000 * w).toFixed(3), singleOpenInterest: (25_000 + 2_500 * w).toFixed(3), timestamp: String(t) });
      }
    }
    if (s.table === 'history_klines') rest.klineRows.set(`${symbol}:${s.interval}`, rows);
    else rest.openInterestRows.set(`${symbol}:${s.interval}`, oi);
  }
}

/** What the server holds for one series, as `ts → values` (numbers), between fromMs and toMs inclusive. */
export function serverSeries(rest: FakeBybitRest, symbol: string, s: SeriesSpec, fromMs: number, toMs: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (s.table === 'history_klines') {
    for (const r of rest.klineRows.get(`${symbol}:${s.interval}`) ?? []) {
      const t = Number(r[0]);
      if (t >= fromMs && t <= toMs) out.set(t, r.slice(1).map(Number));
    }
  } else {
    for (const r of rest.openInterestRows.get(`${symbol}:${s.interval}`) ?? []) {
      const t = Number(r.timestamp);
      if (t >= fromMs && t <= toMs) out.set(t, [Number(r.openInterest)]);
    }
  }
  return out;
}

/** Every stored row of one series, as `ts → values`, plus the raw row count (to see duplicates). */
export async function storedSeries(db: DbSession, symbol: string, s: SeriesSpec): Promise<{ rows: Map<number, number[]>; count: number }> {
  const cols = s.table === 'history_klines' ? 'open, high, low, close, volume, turnover' : 'open_interest';
  const r = await db.query<Record<string, number>>(
    `SELECT (extract(epoch FROM ts) * 1000)::float8 AS t, ${cols} FROM ${s.table} WHERE symbol = $1 AND interval = $2 ORDER BY ts`,
    [symbol, s.interval],
  );
  const rows = new Map<number, number[]>();
  for (const row of r.rows) {
    const { t, ...rest } = row;
    rows.set(Math.round(Number(t)), Object.values(rest).map(Number));
  }
  return { rows, count: r.rows.length };
}

/** The request window of a recorded history request (kline start/end, open-interest startTime/endTime). */
export function requestWindow(q: Readonly<Record<string, string>>): { symbol: string; interval: string; fromMs: number; toMs: number } {
  return { symbol: q.symbol ?? '', interval: q.interval ?? q.intervalTime ?? '', fromMs: Number(q.start ?? q.startTime), toMs: Number(q.end ?? q.endTime) };
}

export const HISTORY_PATHS = new Set(['/v5/market/kline', '/v5/market/open-interest']);
