import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionOutput } from '../src/actors/execution-state.js';
import { loadConfig } from '../src/cli/config.js';
import { executionSettings, startExecution } from '../src/cli/execution.js';
import { loadCoinState } from '../src/cli/liquidity-state.js';
import { writeEngineOutput } from '../src/cli/storage.js';
import { WickStatsBook } from '../src/cli/wick-stats-part.js';
import { VirtualClock } from '../src/core/clock.js';
import type { ClusterOutcome } from '../src/core/cluster-outcomes.js';
import type { RangedCluster } from '../src/core/imbalance.js';
import type { Signal } from '../src/core/trigger.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { historySymbols, loadHourlyBars } from '../src/sinks/db/history-reads.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { STORAGE_MODES, pgAvailable } from './support/services.js';
import { createTestDatabase, recentBaseMs, type TestDatabase } from './support/storage-db.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Recent, whole UTC days: retention never touches the rows, and the 1d grid starts at the first bar. */
const END = Math.floor(recentBaseMs() / DAY) * DAY;
const DAYS = 40;
const START = END - DAYS * DAY;
/** The day with SOL's worst down wick: open 100, low 93, close 100.5 on the day → 7 % of the open. */
const WICK_DAY = START + 12 * DAY;

/** SOL: flat hourly bars at 100 with 0.5 % wicks, one hour dropping to 93 (1h down wick 7 %, 1d too). */
function solHour(ts: number): { open: number; high: number; low: number; close: number } {
  if (ts === WICK_DAY + 5 * HOUR) return { open: 100, high: 100.6, low: 93, close: 100.2 };
  return { open: 100, high: 100.5, low: 99.5, close: 100 };
}

describe.runIf(pgAvailable).each(STORAGE_MODES)('wick statistics and cluster outcomes through the store ($name)', (mode) => {
  let tdb: TestDatabase;
  let db: PgDatabase;
  let dir: string;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new PgDatabase({ connectionString: tdb.url });
    await migrate(db, { timescaledb: mode.timescaledb });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-wicks-'));
    const writer = new BatchWriter({ db, clock: new VirtualClock(END), journalDir: dir, maxBatchRows: 5000 });
    for (let ts = START; ts < END; ts += HOUR) {
      // One hour missing from the backfill: the daemon's own minute bars fill it.
      if (ts === START + 20 * DAY + 7 * HOUR) continue;
      writer.enqueue('history_klines', { symbol: 'SOLUSDT', interval: '60', tsMs: ts, ...solHour(ts), volume: 10, turnover: 1000 });
    }
    // The hour the backfill misses, from 45 minute bars; its 30th minute dips 2 % (a 1h down wick of 2 %).
    const gap = START + 20 * DAY + 7 * HOUR;
    for (let m = 0; m < 45; m++) {
      const low = m === 30 ? 98 : 99.9;
      writer.enqueue('market_bars_1m', {
        tsMs: gap + m * 60_000, symbol: 'SOLUSDT', open: m === 0 ? 100.1 : 100, high: 100.4, low, close: m === 44 ? 100.3 : 100,
        buyVolumeQty: 1, sellVolumeQty: 1, buyTurnoverUsd: 100, sellTurnoverUsd: 100, tradeCount: 2, openInterest: null, openInterestUsd: null, fundingRate: null,
      });
    }
    // A stub hour of the daemon (10 minute bars) is not an hour.
    for (let m = 0; m < 10; m++) {
      writer.enqueue('market_bars_1m', {
        tsMs: END + m * 60_000, symbol: 'SOLUSDT', open: 100, high: 100, low: 50, close: 100,
        buyVolumeQty: 1, sellVolumeQty: 1, buyTurnoverUsd: 100, sellTurnoverUsd: 100, tradeCount: 2, openInterest: null, openInterestUsd: null, fundingRate: null,
      });
    }
    // XRP: only a few minute bars of the daemon's own (no complete hour, no backfill).
    for (let m = 0; m < 5; m++) {
      writer.enqueue('market_bars_1m', {
        tsMs: END - HOUR + m * 60_000, symbol: 'XRPUSDT', open: 2, high: 2, low: 2, close: 2,
        buyVolumeQty: 1, sellVolumeQty: 1, buyTurnoverUsd: 2, sellTurnoverUsd: 2, tradeCount: 1, openInterest: null, openInterestUsd: null, fundingRate: null,
      });
    }
    // DOGE: only 10 days of history, below WICK_STATS_MIN_DAYS.
    for (let ts = END - 10 * DAY; ts < END; ts += HOUR) writer.enqueue('history_klines', { symbol: 'DOGEUSDT', interval: '60', tsMs: ts, open: 0.2, high: 0.21, low: 0.18, close: 0.2, volume: 1, turnover: 1 });
    await writer.close();
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hourly bars come back in order from history_klines, with a missing hour built from market_bars_1m', async () => {
    expect(await historySymbols(db)).toEqual(['DOGEUSDT', 'SOLUSDT', 'XRPUSDT']);
    const bars = await loadHourlyBars(db, 'SOLUSDT', START);
    expect(bars).toHaveLength(DAYS * 24);
    expect(bars.every((b, i) => i === 0 || b.tsMs - bars[i - 1]!.tsMs === HOUR)).toBe(true);
    const built = bars.find((b) => b.tsMs === START + 20 * DAY + 7 * HOUR);
    expect(built).toEqual({ tsMs: START + 20 * DAY + 7 * HOUR, open: 100.1, high: 100.4, low: 98, close: 100.3 });
    expect(await loadHourlyBars(db, 'SOLUSDT', END - DAY)).toHaveLength(24);
  });

  it('the wick book gives SOL its historical max wick (7 %) and DOGE nothing below 30 days', async () => {
    const config = loadConfig({}, '');
    const book = new WickStatsBook(config.historyStats);
    expect(await book.refresh(db, END)).toBe(3);
    expect(book.get('XRPUSDT')).toBeUndefined();
    const sol = book.get('SOLUSDT')!;
    expect(sol.timeframes['1h'].down.maxPct).toBeCloseTo(7, 9);
    expect(sol.timeframes['1d'].bars).toBe(DAYS);
    expect(sol.timeframes['1d'].down.maxPct).toBeCloseTo(7, 9);
    expect(sol.timeframes['1h'].up.p99Pct).toBeCloseTo(0.5, 9);
    expect(sol.excursion).toEqual({ hours: 24, longPct: expect.closeTo(7, 9), shortPct: expect.closeTo(0.6, 9) });
    expect(book.message('SOLUSDT')).toMatchObject({ kind: 'wick-stats', longFraction: expect.closeTo(0.07, 12), shortFraction: expect.closeTo(0.006, 12) });
    expect(book.message('DOGEUSDT')).toMatchObject({ longFraction: undefined, shortFraction: undefined });
    expect(book.describe('SOLUSDT')).toMatchObject({ hourlyBars: DAYS * 24, wickStop: { timeframe: '1d', minDays: 30, longPct: expect.closeTo(7, 9) } });
    expect(book.describe('BTCUSDT')).toBeNull();
  });

  it("the plan's wick stop is SOL's own 7 % with history, the 8 % default without", async () => {
    const config = loadConfig({ ENTRY_STYLE: 'aggressive' }, '');
    const book = new WickStatsBook(config.historyStats);
    await book.refresh(db, END);
    const stops: Record<string, { ratio: number; rule: string; notes: readonly string[] }> = {};
    for (const withHistory of [true, false]) {
      const clock = new VirtualClock(END);
      const outputs: ExecutionOutput[] = [];
      const { execution, paper } = executionSettings(config.trading, false);
      const part = await startExecution({ clock, engine: { marketTap: undefined, setSuccessRates: () => undefined } as never, execution, paper, onOutput: (o) => outputs.push(o) });
      if (withHistory) part.ref.tell(book.message('SOLUSDT')!);
      const target: RangedCluster = { low: 110, high: 112, centre: 111, usd: 5e7, side: 'short', levelCount: 3, range: '7d' };
      const signal: Signal = { symbol: 'SOLUSDT', direction: 'LONG', score: 100, imbalance: 0.7, features: { lastPrice: 100 } as Signal['features'], target, opposite: undefined, heatmapAgesMs: { '7d': 60_000 }, tsInit: END };
      part.onEngineOutput({ kind: 'signal', signal, emittedAt: END });
      const trade = outputs.find((o): o is Extract<ExecutionOutput, { kind: 'trade' }> => o.kind === 'trade')!.trade;
      const [pos] = part.broker.positions();
      stops[String(withHistory)] = { ratio: pos!.stopLossPrice! / trade.plannedEntryPrice, rule: trade.stopRule, notes: trade.notes };
      await part.stop();
    }
    expect(stops.true!.rule).toBe('wick');
    expect(stops.true!.ratio).toBeCloseTo(0.93, 3);
    expect(stops.true!.notes.join(' ')).toMatch(/wick stop 7\.00 %: historical max 1d wick against the trade over 40 days/);
    expect(stops.false!.rule).toBe('wick');
    expect(stops.false!.ratio).toBeCloseTo(0.92, 3);
    expect(stops.false!.notes.join(' ')).toMatch(/default 8 % wick stop/);
  });

  it('cluster outcomes are written once per cluster and come back as the hit-rate window at start', async () => {
    const writer = new BatchWriter({ db, clock: new VirtualClock(END), journalDir: dir, maxBatchRows: 100 });
    const base: Omit<ClusterOutcome, 'outcome' | 'resolvedAtMs' | 'priceLow'> = { kind: 'cluster-outcome', symbol: 'SOLUSDT', range: '7d', source: 'estimate', side: 'short', priceHigh: 106, centerPrice: 105, detectedAtMs: END - 10 * DAY, expiresAtMs: END - 3 * DAY };
    const hit: ClusterOutcome = { ...base, priceLow: 104, outcome: 'hit', resolvedAtMs: END - 5 * DAY };
    const expired: ClusterOutcome = { ...base, priceLow: 103, outcome: 'expired', resolvedAtMs: END - 3 * DAY };
    const old: ClusterOutcome = { ...base, priceLow: 102, outcome: 'hit', detectedAtMs: END - 60 * DAY, expiresAtMs: END - 53 * DAY, resolvedAtMs: END - 55 * DAY };
    for (const o of [hit, expired, old, hit]) writeEngineOutput(writer, o);
    await writer.close();
    const rows = await db.query<{ outcome: string; hit_at: Date | null; expired_at: Date | null }>('SELECT outcome, hit_at, expired_at FROM cluster_outcomes ORDER BY price_low DESC');
    expect(rows.rows.map((r) => [r.outcome, r.hit_at?.getTime() ?? null, r.expired_at?.getTime() ?? null])).toEqual([
      ['hit', END - 5 * DAY, null],
      ['expired', null, END - 3 * DAY],
      ['hit', END - 55 * DAY, null],
    ]);
    const state = await loadCoinState(db, true, END - 30 * DAY);
    expect(state.get('SOLUSDT')?.outcomes).toEqual([
      { range: '7d', resolvedAtMs: END - 5 * DAY, hit: true },
      { range: '7d', resolvedAtMs: END - 3 * DAY, hit: false },
    ]);
    await expect(db.query(`INSERT INTO cluster_outcomes VALUES (now(), 'X', '7d', 'estimate', 'long', 1, 2, 1.5, 'hit', NULL, now(), now())`)).rejects.toThrow(/check/);
  });
});
