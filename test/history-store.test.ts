import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDatabase } from '../src/sinks/db/database.js';
import { historyCoverage, historySymbols, loadKlines, loadOpenInterest, writeHistoryRows } from '../src/sinks/db/history-store.js';
import { migrate } from '../src/sinks/db/migrator.js';
import type { HistoryKlineRow } from '../src/sinks/db/row-types.js';

const H = 3_600_000;
const BASE = Math.floor(Date.now() / H) * H - 48 * H;

function bar(symbol: string, i: number): HistoryKlineRow {
  const open = 100 + i;
  return { symbol, interval: '60', tsMs: BASE + i * H, open, high: open + 2.5, low: open - 1.25, close: open + 1, volume: 10 + i, turnover: (10 + i) * open };
}

describe('history store (PGlite)', () => {
  let db: PgliteDatabase;
  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined);
    await migrate(db, {});
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it('writes idempotently, reads half-open ranges in order, and reports coverage and symbols', async () => {
    const rows = [5, 1, 3, 2, 4].map((i) => bar('ETHUSDT', i));
    expect(await writeHistoryRows(db, 'history_klines', rows)).toBe(5);
    expect(await writeHistoryRows(db, 'history_klines', [bar('ETHUSDT', 3), bar('ETHUSDT', 6)])).toBe(1);
    await writeHistoryRows(db, 'history_klines', [bar('BTCUSDT', 0)]);
    expect(await historyCoverage(db, 'history_klines', 'ETHUSDT', '60')).toEqual({ firstMs: BASE + H, lastMs: BASE + 6 * H });
    expect(await historyCoverage(db, 'history_klines', 'ETHUSDT', '1')).toBeUndefined();
    const got = await loadKlines(db, 'ETHUSDT', '60', BASE + 2 * H, BASE + 5 * H);
    expect(got).toEqual([2, 3, 4].map((i) => bar('ETHUSDT', i)));
    expect(await historySymbols(db)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(await writeHistoryRows(db, 'history_open_interest', [{ symbol: 'ETHUSDT', interval: '5min', tsMs: BASE, openInterest: 12.5 }])).toBe(1);
    expect(await loadOpenInterest(db, 'ETHUSDT', '5min', BASE, BASE + 1)).toEqual([{ symbol: 'ETHUSDT', interval: '5min', tsMs: BASE, openInterest: 12.5 }]);
    await expect(writeHistoryRows(db, 'history_klines', [{ ...bar('ETHUSDT', 9), high: Number.NaN }])).rejects.toThrow(/high/);
  });
});
