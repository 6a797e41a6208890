import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase } from '../src/sinks/db/database.js';
import { ExecutionStateStore } from '../src/sinks/db/execution-state-store.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { DEFAULT_PAPER_BROKER_CONFIG, PaperBroker, type PaperBrokerState } from '../src/sinks/paper-broker.js';
import { createTestDatabase, type TestDatabase } from './support/storage-db.js';

describe('execution state in PostgreSQL', () => {
  let tdb: TestDatabase;
  let db: PgDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = new PgDatabase({ connectionString: tdb.url });
    await migrate(db, {});
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  it('a paper broker saved and loaded resumes its positions, resting orders and stops; older saves never win', async () => {
    let t = 1_700_000_000_000;
    const broker = new PaperBroker(() => t, DEFAULT_PAPER_BROKER_CONFIG);
    broker.onPrice('SOLUSDT', 100, 100);
    broker.submit({ kind: 'place', orderLinkId: 'sig-a-0', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Market', qty: 2, reduceOnly: false, leverage: 5, stopLossPrice: 92, takeProfitPrice: 110 });
    broker.submit({ kind: 'place', orderLinkId: 'sig-a-1', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', priceUsd: 97, qty: 4, reduceOnly: false, leverage: 5, stopLossPrice: 92 });
    const store = new ExecutionStateStore(db);
    expect(await store.save('paper-broker', broker.snapshot(), t)).toBe(true);
    expect(await store.save('paper-broker', { stale: true }, t - 1)).toBe(false);
    const loaded = await store.load<PaperBrokerState>('paper-broker');
    expect(loaded?.updatedAtMs).toBe(t);
    t += 1000;
    const resumed = new PaperBroker(() => t, DEFAULT_PAPER_BROKER_CONFIG, loaded!.state);
    expect(resumed.positions()).toEqual(broker.positions());
    expect(resumed.openOrders().map((o) => o.orderLinkId)).toEqual(['sig-a-1']);
    expect(resumed.positions()[0]!.stopLossPrice).toBe(92);
    // The same command replayed after the restart places nothing twice.
    const rejected: string[] = [];
    resumed.subscribe((e) => e.kind === 'order-rejected' && rejected.push(e.reason));
    resumed.submit({ kind: 'place', orderLinkId: 'sig-a-1', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', priceUsd: 97, qty: 4, reduceOnly: false });
    expect(rejected).toEqual(['DUPLICATE_ORDER_LINK_ID']);
    expect(resumed.account()).toEqual(broker.account());
    expect(await store.load('nothing')).toBeUndefined();
  });
});
