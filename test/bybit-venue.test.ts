import { afterEach, describe, expect, it } from 'vitest';
import { BybitVenue } from '../src/venues/bybit/bybit-venue.js';
import { InMemoryOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import { CapturingLog, exchangeInvariants, startExchange, startVenue } from './support/bybit-venue-harness.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe('Bybit venue: start-up, orders and state against the local exchange', () => {
  it('starts: checks keys, sets leverage (110043 on restart is fine), loads filters, subscribes', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups, { leverageBySymbol: { BTCUSDT: 7 } });
    expect(ex.book.position('BTCUSDT').leverage).toBe(7);
    expect(venue.filter('ETHUSDT')).toMatchObject({ tickSize: 0.01, qtyStep: 0.01 });
    await waitFor('stream up', () => venue.snapshot().streamUp);
    const again = await startVenue(ex, cleanups, { leverageBySymbol: { BTCUSDT: 7 } });
    expect(again.venue.snapshot().lastReconciledAtMs).toBeGreaterThan(0);
    expect(ex.count('/v5/position/set-leverage', 110043)).toBeGreaterThan(0);
  });

  it('refuses to start with bad keys or in hedge mode, one clear line each', async () => {
    const ex = await startExchange(cleanups);
    const bad = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'wrong', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log: new CapturingLog() });
    const r1 = await bad.start();
    expect(r1).toMatchObject({ ok: false, reason: 'KEYS_REFUSED' });
    expect(r1.ok === false && r1.message).toMatch(/10004.*BYBIT_API_KEY/);
    ex.book.positionMode = 'hedge';
    const hedged = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'], store: new InMemoryOrderRecordStore(), log: new CapturingLog() });
    const r2 = await hedged.start();
    expect(r2).toMatchObject({ ok: false, reason: 'HEDGE_MODE' });
    expect(r2.ok === false && r2.message).not.toContain('\n');
  });

  it('places a market entry with its stop on the order; state follows the private stream', async () => {
    const ex = await startExchange(cleanups);
    const fills: string[] = [];
    const { venue, store } = await startVenue(ex, cleanups, { onExecution: (e) => fills.push(e.orderLinkId) });
    await waitFor('stream up', () => venue.snapshot().streamUp);
    const r = await venue.placeEntry({ orderLinkId: 'sig1-0', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 57_000, takeProfit: 66_000 });
    expect(r).toMatchObject({ status: 'done', recovered: false });
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.01, stopLoss: 57_000, takeProfit: 66_000 });
    await waitFor('position via stream', () => venue.snapshot().positions.find((p) => p.symbol === 'BTCUSDT'));
    await waitFor('record filled', () => store.get('sig1-0')?.status === 'filled');
    expect(venue.snapshot().wallet?.equityUsd).toBeGreaterThan(0);
    await waitFor('fill delivered', () => fills.length > 0);
    await venue.reconcile();
    expect(fills).toEqual(['sig1-0']); // stream and reconciliation both saw it; delivered once
    expect((await venue.placeEntry({ orderLinkId: 'nostop', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 0 })).status).toBe('refused');
  });

  it('places a ladder with create-batch, amends and cancels by orderLinkId, HALTED keeps the stop', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    const rungs = Array.from({ length: 12 }, (_, k) => ({ orderLinkId: `lad-${k}`, symbol: 'BTCUSDT', side: 'Buy' as const, orderType: 'Limit' as const, qty: 0.002, price: 59_000 - k * 100, stopLoss: 55_000 }));
    const results = await venue.placeLadder(rungs);
    expect(results.map((r) => r.status)).toEqual(Array(12).fill('done'));
    expect(ex.count('/v5/order/create-batch')).toBe(2);
    expect((await venue.amend('lad-0', { price: 59_500 })).status).toBe('done');
    expect(ex.book.findOrder({ orderLinkId: 'lad-0' })?.price).toBe(59_500);
    expect((await venue.cancel('lad-1')).status).toBe('done');
    ex.book.setPrice('BTCUSDT', 59_400); // fills lad-0 only
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.002, stopLoss: 55_000 });
    expect((await venue.cancelAllEntries()).status).toBe('done');
    expect([...ex.book.orders.values()].filter((o) => ex.book.isOpen(o))).toHaveLength(0);
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(55_000);
    expect(exchangeInvariants(ex)).toEqual({ duplicateLinkIds: [], unprotected: [], offStep: [] });
  });

  it('trails the stop tighter via trading-stop and never loosens it', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    await venue.placeEntry({ orderLinkId: 'tr-1', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 57_000 });
    await venue.reconcile();
    ex.book.setPrice('BTCUSDT', 66_000);
    expect((await venue.trailStop('BTCUSDT', 60_000.04)).status).toBe('done');
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(60_000);
    expect(await venue.trailStop('BTCUSDT', 59_000)).toMatchObject({ status: 'refused', reason: 'STOP_WOULD_LOOSEN' });
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(60_000);
  });

  it('reconciliation: a position without a stop gets one at once (loudly); unknown orders are reported, or cancelled when configured', async () => {
    const ex = await startExchange(cleanups);
    ex.book.create({ symbol: 'ETHUSDT', side: 'Sell', orderType: 'Market', qty: '1' }); // placed by hand, no stop
    ex.book.create({ symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '50000', orderLinkId: 'manual-1' });
    const { venue, log } = await startVenue(ex, cleanups, { emergencyStopPct: 5 });
    expect(ex.book.position('ETHUSDT').stopLoss).toBe(3150);
    expect(log.lines.some((l) => l.level === 'error' && /WITHOUT A STOP/.test(l.msg))).toBe(true);
    expect(log.has(/did not place; left alone/)).toBe(true);
    expect(ex.book.findOrder({ orderLinkId: 'manual-1' })?.orderStatus).toBe('New');
    expect(venue.counters.unknownOrdersSeen).toBe(1);
    await startVenue(ex, cleanups, { cancelUnknownOrders: true });
    expect(ex.book.findOrder({ orderLinkId: 'manual-1' })?.orderStatus).toBe('Cancelled');
  });
});

describe('Bybit venue: a stop that can no longer be placed', () => {
  it('closes an unprotected position at market when the price is already past its stop', async () => {
    const ex = await startExchange(cleanups);
    ex.book.create({ symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01' }); // by hand at 60,000, no stop
    ex.book.setPrice('BTCUSDT', 56_000); // the 5 % emergency stop (57,000) is above the price
    const { log } = await startVenue(ex, cleanups, { emergencyStopPct: 5 });
    expect(ex.book.position('BTCUSDT').size).toBe(0);
    expect(log.has(/closing the position at market/)).toBe(true);
    expect([...ex.book.orders.values()].filter((o) => o.reduceOnly && o.orderLinkId.startsWith('close-BTCUSDT'))).toHaveLength(1);
  });
});

describe('Bybit venue: what the stream sends cannot break it', () => {
  it('a position that appears without a stop gets one from the stream at once; garbage rows are ignored', async () => {
    const ex = await startExchange(cleanups);
    const { venue, log } = await startVenue(ex, cleanups, { emergencyStopPct: 4 });
    await waitFor('stream up', () => venue.snapshot().streamUp);
    ex.privateWs.push('order', [null, 'x', { orderId: 1 }, { side: 'Up' }]);
    ex.privateWs.push('position', [{ symbol: 'BTCUSDT', side: 'Buy', size: 'NaN' }, 42]);
    ex.privateWs.push('wallet', ['nope']);
    ex.book.create({ symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.02' }); // by hand, no stop
    await waitFor('stop set from the stream', () => ex.book.position('BTCUSDT').stopLoss > 0, 3000);
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(57_600);
    expect(log.has(/WITHOUT A STOP/)).toBe(true);
    expect(venue.counters.reconciliations).toBeLessThanOrEqual(2); // the stream did it, not a poll
    expect(venue.snapshot().streamUp).toBe(true);
  });
});
