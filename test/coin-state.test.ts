import { beforeAll, describe, expect, it } from 'vitest';
import type { CoinEvaluated } from '../src/actors/messages.js';
import { loadCoinState } from '../src/cli/liquidity-state.js';
import { writeEngineOutput } from '../src/cli/storage.js';
import { VirtualClock } from '../src/core/clock.js';
import { CoinLiquidity, DEFAULT_COIN_LIQUIDITY_CONFIG } from '../src/core/coin-liquidity.js';
import { buildHeatmapSnapshot } from '../src/core/heatmap.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { pgAvailable } from './support/services.js';
import { useMigratedDatabase } from './support/storage-db.js';

const T0 = Date.UTC(2026, 10, 1);

/** A coin with a Bybit OI value of $300M (proxy tier > $10B) that has seen a CoinGlass map and its own estimate. */
function coinAt(atMs: number): { coin: CoinLiquidity; event: CoinEvaluated } {
  const coin = new CoinLiquidity('SOLUSDT');
  coin.onTicker({ kind: 'ticker', symbol: 'SOLUSDT', tsEvent: atMs, tsInit: atMs, lastPrice: 100, markPrice: 100, openInterest: 3e6, openInterestValue: 300e6, fundingRate: 0 });
  const { snapshot } = buildHeatmapSnapshot({
    symbol: 'SOLUSDT', range: '30d', source: 'coinglass', refPrice: 100, fetchedAt: atMs,
    levels: [{ priceUsd: 103, usd: 40e6 }, { priceUsd: 95, usd: 20e6 }],
  });
  coin.onExternalSnapshot(snapshot);
  const result = coin.evaluate(atMs)!;
  return { coin, event: { kind: 'evaluated', symbol: 'SOLUSDT', atMs, snapshots: result.snapshots, assessment: result.assessment, typical: coin.typicalEntries() } };
}

describe.runIf(pgAvailable)('coin thresholds and typical sizes survive a restart (PostgreSQL)', () => {
  const store = useMigratedDatabase('ws-coin-state-');
  let db: PgDatabase;
  let dir: string;
  beforeAll(() => {
    ({ db, dir } = store);
  });

  it('stores the floor with its source, keeps an operator override through later writes, and restores both', async () => {
    const first = coinAt(T0);
    expect(first.event.assessment.threshold).toMatchObject({ floorUsd: 50e6, source: 'bybit-oi-proxy' });
    const writer = new BatchWriter({ db, clock: new VirtualClock(T0), journalDir: dir });
    writeEngineOutput(writer, first.event);
    await writer.flush();
    const stored = await db.query<{ threshold_usd: number; source: string; market_cap_usd: number }>('SELECT threshold_usd, source, market_cap_usd FROM coin_thresholds');
    expect(stored.rows).toEqual([{ threshold_usd: 50e6, source: 'bybit-oi-proxy', market_cap_usd: 15e9 }]);

    // The operator lowers SOL's floor in the table; the daemon's next (newer) write must not undo it.
    await db.query(`UPDATE coin_thresholds SET override_usd = 30000000 WHERE symbol = 'SOLUSDT'`);
    writeEngineOutput(writer, coinAt(T0 + 300_000).event);
    await writer.close();
    const after = await db.query<{ override_usd: number; updated_at: Date }>('SELECT override_usd, updated_at FROM coin_thresholds');
    expect(after.rows).toEqual([{ override_usd: 30e6, updated_at: new Date(T0 + 300_000) }]);

    const state = await loadCoinState(db, true);
    const inputs = state.get('SOLUSDT')!;
    expect(inputs.dbOverrideUsd).toBe(30e6);
    // Kept per source: the CoinGlass 30d map and the own estimate's ranges are separate entries.
    expect(inputs.typical!.map((t) => `${t.range}|${t.source}`).sort()).toEqual(first.coin.typicalEntries().map((t) => `${t.range}|${t.source}`).sort());
    const cg = inputs.typical!.find((t) => t.range === '30d' && t.source === 'coinglass')!;
    expect(cg.size).toEqual({ usd: 40e6, samples: 1, lastObservedAtMs: T0 + 300_000 });

    // A restarted coin takes them: the table override is now its floor and the learned sizes continue.
    const restarted = new CoinLiquidity('SOLUSDT');
    restarted.setInputs(inputs);
    restarted.onTicker({ kind: 'ticker', symbol: 'SOLUSDT', tsEvent: T0 + 600_000, tsInit: T0 + 600_000, lastPrice: 100, markPrice: 100, openInterest: 3e6, openInterestValue: 300e6, fundingRate: 0 });
    const a = restarted.evaluate(T0 + 600_000)!.assessment;
    expect(a.threshold).toMatchObject({ floorUsd: 30e6, source: 'override-db', exact: true });
    expect(restarted.typicalEntries().find((t) => t.range === '30d' && t.source === 'coinglass')?.size.samples).toBe(1);
    // The environment wins over the table.
    const envCoin = new CoinLiquidity('SOLUSDT', { ...DEFAULT_COIN_LIQUIDITY_CONFIG, evaluation: { ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation, overridesUsd: { SOL: 12e6 } } });
    envCoin.setInputs(inputs);
    envCoin.onTicker({ kind: 'ticker', symbol: 'SOLUSDT', tsEvent: T0, tsInit: T0, lastPrice: 100, markPrice: 100, openInterest: 3e6, openInterestValue: 300e6, fundingRate: 0 });
    expect(envCoin.evaluate(T0)!.assessment.threshold).toMatchObject({ floorUsd: 12e6, source: 'override-env' });
  });
});
