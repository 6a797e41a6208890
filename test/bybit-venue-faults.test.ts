import { afterEach, describe, expect, it } from 'vitest';
import { BybitVenue } from '../src/venues/bybit/bybit-venue.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JsonFileOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import type { EntryIntent } from '../src/venues/bybit/venue-types.js';
import { CapturingLog, exchangeInvariants, startExchange, startVenue } from './support/bybit-venue-harness.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const entry = (orderLinkId: string, over: Partial<EntryIntent> = {}): EntryIntent => ({
  orderLinkId, symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 57_000, takeProfit: 66_000, ...over,
});
const clean = { duplicateLinkIds: [], unprotected: [], offStep: [] };

describe('Bybit venue faults, against the local exchange with the real bybit-api client', () => {
  it('a create that times out after the exchange accepted it is found by orderLinkId and not sent again', async () => {
    const ex = await startExchange(cleanups);
    const { venue, log } = await startVenue(ex, cleanups);
    ex.inject('/v5/order/create', { kind: 'delayReply', delayMs: 1500 });
    const r = await venue.placeEntry(entry('to-1'));
    expect(r).toMatchObject({ status: 'done', recovered: true });
    expect(ex.log.filter((l) => l.path === '/v5/order/create').length).toBe(0); // the delayed reply is not even logged yet
    await new Promise((res) => setTimeout(res, 1200));
    expect(ex.count('/v5/order/create')).toBe(1);
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.01, stopLoss: 57_000 });
    expect(log.has(/found by orderLinkId; not sent again/)).toBe(true);
    expect(venue.counters.restErrorsByCode.timeout).toBe(1);
    expect(exchangeInvariants(ex)).toEqual(clean);
  });

  it('a create the exchange never received is sent once more with the same orderLinkId', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    ex.inject('/v5/order/create', { kind: 'hangUp', afterMs: 50 });
    const r = await venue.placeEntry(entry('lost-1'));
    expect(r).toMatchObject({ status: 'done', recovered: true });
    expect([...ex.book.orders.values()].filter((o) => o.orderLinkId === 'lost-1')).toHaveLength(1);
    expect(exchangeInvariants(ex)).toEqual(clean);
  });

  it('when even the lookup goes unanswered the outcome is "unknown", nothing is resent, and reconciliation settles it', async () => {
    const ex = await startExchange(cleanups);
    const { venue, store } = await startVenue(ex, cleanups);
    ex.inject('/v5/order/create', { kind: 'hangUp', afterMs: 20 });
    ex.inject('/v5/order/realtime', { kind: 'hangUp', afterMs: 20 }, 3);
    const r = await venue.placeEntry(entry('dark-1'));
    expect(r).toMatchObject({ status: 'unknown' });
    expect(store.get('dark-1')?.status).toBe('sending');
    const report = await venue.reconcile();
    expect(report.recordsSettled).toContain('dark-1');
    expect(store.get('dark-1')?.status).toBe('not_found');
    expect(ex.book.orders.size).toBe(0);
  });

  it('a silent private stream (no pongs) is detected and reconnected', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    await waitFor('stream up', () => venue.snapshot().streamUp);
    ex.privateWs.answerPings = false;
    await waitFor('drop detected', () => venue.counters.streamDrops >= 1, 5000);
    ex.privateWs.answerPings = true;
    await waitFor('stream back', () => venue.snapshot().streamUp, 5000);
  });

  it('closing a position is reduce-only, idempotent by orderLinkId, and survives a timeout after accept', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    await venue.placeEntry(entry('cl-entry'));
    ex.inject('/v5/order/create', { kind: 'delayReply', delayMs: 1200 });
    expect(await venue.closePosition('BTCUSDT', 'cl-exit')).toMatchObject({ status: 'done', recovered: true });
    expect(ex.book.position('BTCUSDT').size).toBe(0);
    expect(await venue.closePosition('BTCUSDT', 'cl-exit')).toMatchObject({ status: 'refused', reason: 'NO_POSITION' });
    expect([...ex.book.orders.values()].filter((o) => o.orderLinkId === 'cl-exit')).toHaveLength(1);
    expect(ex.book.findOrder({ orderLinkId: 'cl-exit' })?.reduceOnly).toBe(true);
  });

  it('110072 duplicate is "already placed": the existing order is adopted', async () => {
    const ex = await startExchange(cleanups);
    const { venue, store } = await startVenue(ex, cleanups);
    ex.book.create({ symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '59000', orderLinkId: 'dup-1', stopLoss: '57000' });
    const r = await venue.placeEntry(entry('dup-1', { orderType: 'Limit', price: 59_000 }));
    expect(r).toMatchObject({ status: 'done', recovered: true });
    expect(ex.count('/v5/order/create', 110072)).toBe(1);
    expect(store.get('dup-1')).toMatchObject({ status: 'open' });
    expect(exchangeInvariants(ex)).toEqual(clean);
  });

  it('the private stream drops: reconnect with backoff, resubscribe, reconcile the gap', async () => {
    const ex = await startExchange(cleanups);
    const fills: string[] = [];
    const { venue } = await startVenue(ex, cleanups, { onExecution: (e) => fills.push(`${e.orderLinkId} ${e.execQty}@${e.execPrice}`) });
    await waitFor('stream up', () => venue.snapshot().streamUp);
    await venue.placeEntry(entry('gap-1', { orderType: 'Limit', price: 59_000 }));
    ex.privateWs.dropAll();
    ex.book.setPrice('BTCUSDT', 58_900); // fills while the stream is down: no push reaches the venue
    await waitFor('stream back', () => venue.counters.streamDrops === 1 && venue.snapshot().streamUp);
    await waitFor('gap reconciled', () => venue.snapshot().positions.find((p) => p.symbol === 'BTCUSDT' && p.size === 0.01));
    expect(venue.snapshot().orders).toHaveLength(0);
    expect(ex.privateWs.authAttempts).toBeGreaterThanOrEqual(2);
    await waitFor('missed fill delivered', () => fills.length > 0);
    await venue.reconcile();
    expect(fills).toEqual(['gap-1 0.01@59000']); // found by reconciliation, delivered once
  });

  it('while the stream stays down, REST polling keeps the view current', async () => {
    const ex = await startExchange(cleanups);
    ex.privateWs.rejectAuth = true;
    const { venue } = await startVenue(ex, cleanups);
    expect(venue.snapshot().streamUp).toBe(false);
    ex.book.create({ symbol: 'ETHUSDT', side: 'Sell', orderType: 'Market', qty: '1', stopLoss: '3100', orderLinkId: 'x' });
    await waitFor('polled', () => venue.snapshot().positions.find((p) => p.symbol === 'ETHUSDT'));
  });

  it('10006 rate limits slow the client down; no order fails', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    ex.limits.set('/v5/order/create', 2);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, (_, k) => venue.placeEntry(entry(`rl-${k}`, { orderType: 'Limit', price: 59_000 - k * 10 }))));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('done'));
    expect(Date.now() - t0).toBeGreaterThan(900); // 6 orders at 2/s need at least two more windows
    expect(venue.counters.rateLimitWaits).toBeGreaterThan(0);
    expect(ex.count('/v5/order/create', 0)).toBe(6);
    expect(exchangeInvariants(ex)).toEqual(clean);
  });

  it('10002 clock skew is corrected from /v5/market/time and the order goes through; the stream re-auths on the new clock', async () => {
    const ex = await startExchange(cleanups);
    const { venue } = await startVenue(ex, cleanups);
    ex.skewMs = 20_000;
    const r = await venue.placeEntry(entry('skew-1'));
    expect(r).toMatchObject({ status: 'done' });
    expect(ex.count('/v5/order/create', 10002)).toBe(1);
    expect(venue.counters.timeResyncs).toBe(1);
    ex.privateWs.dropAll();
    await waitFor('stream back after skew', () => venue.counters.streamDrops === 1 && venue.snapshot().streamUp);
  });

  it('insufficient balance, bad steps and any other retCode are refusals carrying the exchange message', async () => {
    const ex = await startExchange(cleanups);
    const { venue, store } = await startVenue(ex, cleanups);
    const poor = await venue.placeEntry(entry('big', { qty: 50 }));
    expect(poor).toMatchObject({ status: 'refused', reason: 'EXCHANGE_REFUSED', retCode: 110007, message: '110007 ab not enough for new order' });
    expect(store.get('big')).toMatchObject({ status: 'refused', refusal: { retCode: 110007 } });
    const step = await venue.placeEntry(entry('step', { qty: 0.0015 }));
    expect(step).toMatchObject({ status: 'refused', retCode: 10001 });
    expect(step.status === 'refused' && step.message).toMatch(/qtyStep 0.001/);
    const tick = await venue.placeEntry(entry('tick', { orderType: 'Limit', price: 59_000.05 }));
    expect(tick.status === 'refused' && tick.message).toMatch(/tickSize/);
    ex.inject('/v5/order/create', { kind: 'retCode', retCode: 10016, retMsg: 'Server error' });
    expect(await venue.placeEntry(entry('srv'))).toMatchObject({ status: 'refused', retCode: 10016, message: '10016 Server error' });
    expect(ex.book.orders.size).toBe(0);
  });

  it('killed between sending an entry and its stop being confirmed: after restart the position has its stop, nothing is duplicated', async () => {
    const ex = await startExchange(cleanups);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'bybit-records-')), 'orders.json');
    const store = new JsonFileOrderRecordStore(file);
    ex.privateWs.rejectAuth = true; // the first daemon dies before any push about the entry reaches it
    const first = new BybitVenue({ restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT', 'ETHUSDT'], store, log: new CapturingLog(), requestTimeoutMs: 5000 });
    expect((await first.start()).ok).toBe(true);
    // The entry reaches the exchange and fills, but its reply never comes back: the daemon dies waiting.
    ex.inject('/v5/order/create', { kind: 'delayReply', delayMs: 10_000 });
    void first.placeEntry(entry('kill-1'));
    await waitFor('entry accepted by the exchange', () => ex.book.findOrder({ orderLinkId: 'kill-1' }));
    await first.stop();
    // Worst case on the exchange side: the position stands without its stop (as after a partial outage).
    ex.book.position('BTCUSDT').stopLoss = 0;
    expect(store.get('kill-1')?.status).toBe('sending');
    ex.privateWs.rejectAuth = false;
    const reopened = new JsonFileOrderRecordStore(file); // what a restarted process reads
    const { log } = await startVenue(ex, cleanups, { store: reopened });
    expect(ex.book.position('BTCUSDT')).toMatchObject({ size: 0.01, stopLoss: 57_000 }); // the planned stop, from the record
    expect(reopened.get('kill-1')?.status).toBe('filled');
    expect(log.has(/WITHOUT A STOP/)).toBe(true);
    expect(ex.count('/v5/order/create')).toBe(0); // the delayed reply is still pending; nothing new was created
    expect(exchangeInvariants(ex)).toEqual(clean);
  });
});
