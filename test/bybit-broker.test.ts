import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerEvent } from '../src/core/broker.js';
import { BybitBroker } from '../src/venues/bybit/bybit-broker.js';
import { BybitVenue } from '../src/venues/bybit/bybit-venue.js';
import { InMemoryOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import { CapturingLog, exchangeInvariants, startExchange } from './support/bybit-venue-harness.js';
import type { FakeBybitExchange } from './support/fake-bybit-exchange.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** A BybitBroker over a started venue on the local exchange, with every event it emits. */
async function startBroker(ex: FakeBybitExchange): Promise<{ broker: BybitBroker; events: BrokerEvent[]; log: CapturingLog }> {
  const log = new CapturingLog();
  let venue: BybitVenue | undefined;
  const broker = new BybitBroker({
    mode: 'testnet', log,
    venue: (hooks) => (venue = new BybitVenue({
      restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT', 'ETHUSDT'],
      store: new InMemoryOrderRecordStore(), log, requestTimeoutMs: 500, pollIntervalMs: 200, ...hooks,
    })),
  });
  cleanups.push(() => venue!.stop());
  const started = await venue!.start();
  if (!started.ok) throw new Error(started.message);
  await waitFor('stream up', () => venue!.snapshot().streamUp);
  const events: BrokerEvent[] = [];
  broker.subscribe((e) => events.push(e));
  return { broker, events, log };
}

const entry = { kind: 'place' as const, symbol: 'BTCUSDT', side: 'Buy' as const, orderType: 'Market' as const, qty: 0.01, reduceOnly: false };

describe('BybitBroker: the Broker port on the local Bybit exchange', () => {
  it('a market entry with its stop: accepted, filled with the taker fee, the position holds the stop on the exchange', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events } = await startBroker(ex);
    expect(broker.venue).toBe('bybit-testnet');
    broker.submit({ ...entry, orderLinkId: 'sig-a-0', stopLossPrice: 57_000, takeProfitPrice: 66_000, leverage: 7 });
    expect(events).toHaveLength(0); // never answered inline
    await waitFor('accepted and filled', () => events.some((e) => e.kind === 'order-accepted') && events.some((e) => e.kind === 'order-filled'));
    const fill = events.find((e) => e.kind === 'order-filled');
    expect(fill).toMatchObject({ order: { orderLinkId: 'sig-a-0', status: 'Filled', filledQty: 0.01 }, fill: { priceUsd: 60_000, qty: 0.01, liquidity: 'taker', cause: undefined } });
    expect(fill?.kind === 'order-filled' && fill.fill.feeUsd).toBeCloseTo(0.01 * 60_000 * 0.00055, 6);
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.01, stopLoss: 57_000, takeProfit: 66_000, leverage: 7 }); // the plan's leverage, set before the entry
    expect(ex.book.findOrder({ orderLinkId: 'sig-a-0' })?.stopLoss).toBe(57_000);
    await waitFor('position in the view', () => broker.positions().length === 1);
    expect(broker.positions()[0]).toMatchObject({ symbol: 'BTCUSDT', direction: 'LONG', qty: 0.01, avgEntryPrice: 60_000, stopLossPrice: 57_000 });
    expect(broker.account().equityUsd).toBeGreaterThan(0);
  });

  it('an entry without a stop is rejected before it reaches the exchange', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events } = await startBroker(ex);
    broker.submit({ ...entry, orderLinkId: 'nostop-0' });
    await broker.idle();
    expect(events).toEqual([expect.objectContaining({ kind: 'order-rejected', reason: 'NO_STOP_LOSS' })]);
    expect(ex.count('/v5/order/create')).toBe(0);
  });

  it('a retCode refusal (110007) is an order-rejected carrying the exchange message', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events } = await startBroker(ex);
    ex.inject('/v5/order/create', { kind: 'retCode', retCode: 110007, retMsg: 'ab not enough for new order' });
    broker.submit({ ...entry, orderLinkId: 'poor-0', stopLossPrice: 57_000 });
    await broker.idle();
    expect(events).toEqual([expect.objectContaining({ kind: 'order-rejected', reason: '110007 ab not enough for new order' })]);
    expect(ex.book.position('BTCUSDT').size).toBe(0);
  });

  it('a ladder submitted in one tick goes out as one create-batch; a cancel by orderLinkId is reported', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events } = await startBroker(ex);
    for (let k = 0; k < 3; k++) broker.submit({ ...entry, orderType: 'Limit', orderLinkId: `lad-${k}`, priceUsd: 59_000 - 100 * k, qty: 0.002, stopLossPrice: 55_000 });
    broker.submit({ kind: 'cancel', symbol: 'BTCUSDT', orderLinkId: 'lad-2' });
    await broker.idle();
    expect(ex.count('/v5/order/create-batch')).toBe(1);
    expect(ex.count('/v5/order/create')).toBe(0);
    expect(events.filter((e) => e.kind === 'order-accepted')).toHaveLength(3);
    await waitFor('cancelled', () => events.some((e) => e.kind === 'order-cancelled'));
    expect(events.filter((e) => e.kind === 'order-cancelled')).toHaveLength(1); // the reply and the stream agree: once
    await waitFor('two open on the view', () => broker.openOrders().length === 2);
    expect(broker.openOrders().map((o) => o.orderLinkId).sort()).toEqual(['lad-0', 'lad-1']);
  });

  it('set-trading-stop tighter moves the stop on the exchange; looser is refused; the exchange stop fires → position-closed STOP_LOSS', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events, log } = await startBroker(ex);
    broker.submit({ ...entry, orderLinkId: 'tr-0', stopLossPrice: 57_000 });
    await waitFor('filled', () => events.some((e) => e.kind === 'order-filled'));
    await waitFor('position in the view', () => broker.positions().length === 1);
    ex.book.setPrice('BTCUSDT', 63_000);
    broker.submit({ kind: 'set-trading-stop', symbol: 'BTCUSDT', stopLossPrice: 61_000 });
    await broker.idle();
    expect(events.filter((e) => e.kind === 'trading-stop-set')).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', stopLossPrice: 61_000 })]);
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(61_000);
    broker.submit({ kind: 'set-trading-stop', symbol: 'BTCUSDT', stopLossPrice: 58_000 });
    await broker.idle();
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(61_000);
    expect(events.filter((e) => e.kind === 'trading-stop-set')).toHaveLength(1);
    expect(log.has(/stop not moved/)).toBe(true);
    ex.book.setPrice('BTCUSDT', 60_500); // through the stop: the exchange closes the position
    await waitFor('position closed', () => events.some((e) => e.kind === 'position-closed'));
    const closed = events.find((e) => e.kind === 'position-closed');
    expect(closed).toMatchObject({ symbol: 'BTCUSDT', cause: 'STOP_LOSS', fill: { side: 'Sell', qty: 0.01, cause: 'STOP_LOSS' } });
    expect(ex.book.position('BTCUSDT').size).toBe(0);
    await waitFor('flat on the view', () => broker.positions().length === 0);
    expect(exchangeInvariants(ex)).toEqual({ duplicateLinkIds: [], unprotected: [], offStep: [] });
  });

  it('close-position closes at market with cause CLOSE; a fill seen twice is reported once', async () => {
    const ex = await startExchange(cleanups);
    const seen = new Set<string>();
    const ledger = { has: (id: string) => seen.has(id), add: (id: string) => void seen.add(id) };
    const log = new CapturingLog();
    let venue: BybitVenue | undefined;
    const broker = new BybitBroker({ mode: 'demo', log, ledger, venue: (hooks) => (venue = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log, ...hooks })) });
    cleanups.push(() => venue!.stop());
    expect((await venue!.start()).ok).toBe(true);
    const events: BrokerEvent[] = [];
    broker.subscribe((e) => events.push(e));
    broker.submit({ ...entry, orderLinkId: 'cl-0', stopLossPrice: 57_000 });
    await waitFor('filled', () => events.some((e) => e.kind === 'order-filled'));
    broker.submit({ kind: 'close-position', symbol: 'BTCUSDT', orderLinkId: 'cl-close' });
    await waitFor('closed', () => events.some((e) => e.kind === 'position-closed'));
    expect(events.find((e) => e.kind === 'position-closed')).toMatchObject({ cause: 'CLOSE', fill: { orderLinkId: 'cl-close', side: 'Sell' } });
    await venue!.reconcile(); // re-reads the executions
    // A second session over the same ledger (a restart) re-delivers nothing.
    const again: BrokerEvent[] = [];
    let venue2: BybitVenue | undefined;
    const broker2 = new BybitBroker({ mode: 'demo', log, ledger, venue: (hooks) => (venue2 = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log, ...hooks })) });
    broker2.subscribe((e) => again.push(e));
    cleanups.push(() => venue2!.stop());
    expect((await venue2!.start()).ok).toBe(true);
    expect(events.filter((e) => e.kind === 'order-filled' || e.kind === 'position-closed')).toHaveLength(2);
    expect(again).toEqual([]);
    // A session with no memory of them (a lost ledger) gets the re-delivered fills, held until it subscribes.
    let venue3: BybitVenue | undefined;
    const broker3 = new BybitBroker({ mode: 'demo', log, venue: (hooks) => (venue3 = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log, ...hooks })) });
    cleanups.push(() => venue3!.stop());
    expect((await venue3!.start()).ok).toBe(true);
    const late: BrokerEvent[] = [];
    broker3.subscribe((e) => late.push(e));
    expect(late).toEqual([]); // not inline
    await waitFor('held fills delivered', () => late.length === 2);
    expect(late.map((e) => e.kind === 'order-filled' && e.order.orderLinkId)).toEqual(['cl-0', 'cl-close']);
  });
});

describe('BybitBroker: a later rung cannot loosen a trailed stop', () => {
  it('a rung that fills after a trailing move resets the stop on Bybit (Full mode); the broker moves it back', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events, log } = await startBroker(ex);
    broker.submit({ ...entry, orderType: 'Limit', orderLinkId: 'rung-0', priceUsd: 59_900, qty: 0.002, stopLossPrice: 55_000 });
    broker.submit({ ...entry, orderType: 'Limit', orderLinkId: 'rung-1', priceUsd: 59_000, qty: 0.004, stopLossPrice: 55_000 });
    await broker.idle();
    ex.book.setPrice('BTCUSDT', 59_900); // rung 0 fills
    await waitFor('position in the view', () => broker.positions()[0]?.qty === 0.002);
    broker.submit({ kind: 'set-trading-stop', symbol: 'BTCUSDT', stopLossPrice: 57_000 });
    await broker.idle();
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(57_000);
    ex.book.setPrice('BTCUSDT', 59_000); // rung 1 fills and its 55,000 stop overwrites the position's
    await waitFor('stop moved back', () => ex.book.position('BTCUSDT').size === 0.006 && ex.book.position('BTCUSDT').stopLoss === 57_000, 3000);
    expect(log.has(/moving it back/)).toBe(true);
    expect(events.filter((e) => e.kind === 'order-filled')).toHaveLength(2);
  });
});

describe('BybitBroker: a position closed by hand on Bybit', () => {
  it('a manual close (an order the daemon did not place) ends in position-closed CLOSE once the position is flat', async () => {
    const ex = await startExchange(cleanups);
    const { broker, events, log } = await startBroker(ex);
    broker.submit({ ...entry, orderLinkId: 'hand-0', stopLossPrice: 57_000 });
    await waitFor('position in the view', () => broker.positions().length === 1);
    ex.book.setPrice('BTCUSDT', 61_000);
    ex.book.create({ symbol: 'BTCUSDT', side: 'Sell', orderType: 'Market', qty: '0.01', reduceOnly: true }); // by hand, no orderLinkId
    await waitFor('closed', () => events.some((e) => e.kind === 'position-closed'));
    expect(events.filter((e) => e.kind === 'position-closed')).toEqual([expect.objectContaining({ symbol: 'BTCUSDT', cause: 'CLOSE', fill: expect.objectContaining({ side: 'Sell', qty: 0.01, priceUsd: 61_000 }) })]);
    expect(log.has(/did not place/)).toBe(true);
    await waitFor('flat on the view', () => broker.positions().length === 0);
  });
});

describe('BybitBroker: an order whose send went unanswered', () => {
  it('stays pending (no event) until a reconciliation finds it never reached the exchange: then order-rejected NOT_ON_EXCHANGE', async () => {
    const ex = await startExchange(cleanups);
    const log = new CapturingLog();
    let venue: BybitVenue | undefined;
    const broker = new BybitBroker({ mode: 'testnet', log, venue: (hooks) => (venue = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log, requestTimeoutMs: 500, ...hooks })) });
    cleanups.push(() => venue!.stop());
    expect((await venue!.start()).ok).toBe(true);
    const events: BrokerEvent[] = [];
    broker.subscribe((e) => events.push(e));
    ex.inject('/v5/order/create', { kind: 'hangUp', afterMs: 20 });
    ex.inject('/v5/order/realtime', { kind: 'hangUp', afterMs: 20 }, 3);
    broker.submit({ ...entry, orderLinkId: 'dark-0', stopLossPrice: 57_000 });
    await broker.idle();
    expect(events).toEqual([]);
    expect(log.has(/outcome unknown/)).toBe(true);
    await venue!.reconcile();
    expect(events).toEqual([expect.objectContaining({ kind: 'order-rejected', reason: 'NOT_ON_EXCHANGE', order: expect.objectContaining({ orderLinkId: 'dark-0', status: 'Rejected' }) })]);
    expect(ex.book.orders.size).toBe(0);
  });
});
