import { beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase, useMigratedDatabase } from './support/storage-db.js';
import { LADDER_ENV, LADDER_SCENARIOS, MIN, outputsOf, runTrading, SIM_START } from './support/trading-sim.js';

const KILL_AT = SIM_START + 44.8 * MIN;

describe.runIf(pgAvailable)('restart with open paper positions and pending ladder orders', () => {
  const store = useMigratedDatabase('ws-restart-');
  let db: PgDatabase;
  let dir: string;
  beforeAll(() => {
    ({ db, dir } = store);
  });

  it('comes back with the same position, the same resting rungs and the stop in place; sends nothing twice; the close and the learned rate reach the store', async () => {
    const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir });
    const store = { db, writer };
    // Run until some rungs filled, then "kill": no clean stop, only what the per-change saves already wrote.
    const first = await runTrading({ durationMs: 58 * MIN, env: LADDER_ENV, scenarios: LADDER_SCENARIOS, stopAtMs: KILL_AT, store });
    await new Promise((r) => setTimeout(r, 200));
    const positions = first.part.broker.positions();
    expect(positions).toHaveLength(1);
    const resting = first.part.broker.openOrders().map((o) => o.orderLinkId);
    expect(resting.length).toBeGreaterThan(0);
    const tradeId = outputsOf(first.outputs, 'trade')[0]!.trade.tradeId;
    const sentBefore = outputsOf(first.outputs, 'order-sent').length;
    expect(sentBefore).toBe(10);

    const second = await runTrading({ durationMs: 58 * MIN, env: LADDER_ENV, scenarios: LADDER_SCENARIOS, fromMs: KILL_AT, store });
    // Nothing was sent again for the restored trade and no duplicate reached the broker.
    expect(outputsOf(second.outputs, 'order-sent').filter((o) => o.tradeId === tradeId)).toHaveLength(0);
    expect(outputsOf(second.outputs, 'order-refused').filter((o) => o.reason === 'BROKER_DUPLICATE_ORDER_LINK_ID')).toHaveLength(0);
    // The restored trade kept running: later rungs or the stop acted on the restored orders and position.
    const trades = outputsOf(second.outputs, 'trade').map((t) => t.trade).filter((t) => t.tradeId === tradeId);
    const closed = trades.at(-1)!;
    expect(closed.status).toBe('closed');
    expect(closed.entryFills.length).toBeGreaterThanOrEqual(positions.length);
    // The restored position is watched again: the monitor trails its stop on the mark prices after the restart
    // (the ticker snapshot a fresh subscription brings, then deltas) and the trailed stop closes it, as in the run
    // that was never killed (test/trading-scenarios.test.ts).
    const moves = outputsOf(second.outputs, 'monitor').filter((m) => m.tradeId === tradeId && m.action === 'move_sl');
    expect(moves.map((m) => m.message.match(/\((.*)\)$/)![1])).toEqual(['breakeven with fees', 'locks +10 %']);
    expect(closed.exitReason).toBe('TRAILING_STOP');
    await second.part.stop();
    await writer.close();

    // What the restarted broker saw first: the same position and stop, the same resting rungs.
    const restoredDoc = (await db.query<{ state: { positions: Array<{ symbol: string }> } }>(`SELECT state FROM execution_state WHERE name = 'paper-broker'`)).rows[0]!;
    expect(restoredDoc.state.positions).toHaveLength(0); // closed by now

    const row = (await db.query<Record<string, unknown>>('SELECT * FROM trades WHERE trade_id = $1', [tradeId])).rows[0]!;
    expect(row).toMatchObject({ status: 'closed', signal_id: tradeId, side: 'long', liquidation_source: 'estimate', exit_reason: closed.exitReason });
    expect(Number(row.pnl_usd)).toBeCloseTo(closed.pnlUsd!, 6);
    expect(Number(row.fees_usd)).toBeGreaterThan(0);
    const orders = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders WHERE trade_id = $1', [tradeId])).rows[0]!.n;
    expect(orders).toBe(10);
    const logs = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM position_monitor_logs WHERE trade_id = $1 AND action = 'close'`, [tradeId])).rows[0]!.n;
    expect(logs).toBe(1);
    const pattern = (await db.query<Record<string, unknown>>(`SELECT * FROM coin_liquidation_patterns WHERE symbol = 'SYM007USDT'`)).rows[0]!;
    expect(Number(pattern.success_count) + Number(pattern.failure_count)).toBe(1);

    // A third start loads the learned rate from the store and hands it to the ranker.
    const third = await runTrading({ durationMs: 1 * MIN, scenarios: [], store: { db, writer: new BatchWriter({ db, clock: new VirtualClock(0), journalDir: dir }) } });
    const rates = outputsOf(third.outputs, 'success-rates')[0]!.rates;
    expect(rates).toEqual([['SYM007USDT', closed.pnlUsd! > 0 ? 2 / 3 : 1 / 3]]);
  }, 180_000);

  it('the restored broker and actor hold exactly what was running at the kill', async () => {
    // Checked on the saved documents directly, right after a kill.
    const other = await createTestDatabase();
    const odb = new PgDatabase({ connectionString: other.url });
    try {
      await migrate(odb, {});
      const store = { db: odb, writer: new BatchWriter({ db: odb, clock: new VirtualClock(0), journalDir: dir }) };
      const first = await runTrading({ durationMs: 58 * MIN, env: LADDER_ENV, scenarios: LADDER_SCENARIOS, stopAtMs: KILL_AT, store });
      await new Promise((r) => setTimeout(r, 200));
      const restarted = await runTrading({ durationMs: 58 * MIN, env: LADDER_ENV, scenarios: LADDER_SCENARIOS, stopAtMs: KILL_AT, fromMs: KILL_AT, store });
      expect(restarted.part.broker.positions()).toEqual(first.part.broker.positions());
      expect(restarted.part.broker.openOrders()).toEqual(first.part.broker.openOrders());
      expect(restarted.part.broker.positions()[0]!.stopLossPrice).toBe(first.part.broker.positions()[0]!.stopLossPrice);
      expect(restarted.part.broker.account()).toEqual(first.part.broker.account());
      expect([...restarted.part.ref.peek()!.trades.keys()]).toEqual([...first.part.ref.peek()!.trades.keys()]);
      await store.writer.close();
    } finally {
      await odb.close();
      await other.drop();
    }
  }, 180_000);
});
