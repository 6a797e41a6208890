import { RestClientV5, WebsocketClient } from 'bybit-api';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeBybitExchange } from './support/fake-bybit-exchange.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function exchange(): Promise<FakeBybitExchange> {
  const ex = await FakeBybitExchange.start();
  cleanups.push(() => ex.close());
  ex.book.addInstrument({ symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001 });
  ex.book.setPrice('BTCUSDT', 60_000);
  return ex;
}

const client = (ex: FakeBybitExchange, secret = 'test-secret') =>
  new RestClientV5({ key: 'test-key', secret, baseUrl: ex.restUrl, parseAPIRateLimits: true }, { timeout: 2000 });

describe('fake Bybit exchange, driven by the real bybit-api client', () => {
  it('verifies signatures: a good key works, a wrong secret is 10004, an unknown key 10003', async () => {
    const ex = await exchange();
    expect((await client(ex).getWalletBalance({ accountType: 'UNIFIED' })).retCode).toBe(0);
    expect((await client(ex, 'wrong').getWalletBalance({ accountType: 'UNIFIED' })).retCode).toBe(10004);
    const unknown = new RestClientV5({ key: 'nope', secret: 'x', baseUrl: ex.restUrl });
    expect((await unknown.getPositionInfo({ category: 'linear', symbol: 'BTCUSDT' })).retCode).toBe(10003);
  });

  it('rejects a timestamp outside recv_window with 10002 and serves its own time on /v5/market/time', async () => {
    const ex = await exchange();
    ex.skewMs = 30_000;
    const res = await client(ex).getWalletBalance({ accountType: 'UNIFIED' });
    expect(res.retCode).toBe(10002);
    const time = await client(ex).getServerTime();
    expect(Number(time.time) - Date.now()).toBeGreaterThan(29_000);
  });

  it('places a market order with a stop, fills it, and triggers the stop on the last price', async () => {
    const ex = await exchange();
    const c = client(ex);
    const res = await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01', orderLinkId: 'e1', stopLoss: '57000' });
    expect(res.retCode).toBe(0);
    expect(res.rateLimitApi).toMatchObject({ maxRequests: 10, remainingRequests: 9 });
    const pos = await c.getPositionInfo({ category: 'linear', symbol: 'BTCUSDT' });
    expect(pos.result.list[0]).toMatchObject({ side: 'Buy', size: '0.01', stopLoss: '57000', avgPrice: '60000' });
    expect((await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01', orderLinkId: 'e1' })).retCode).toBe(110072);
    ex.book.setPrice('BTCUSDT', 56_900);
    const after = await c.getPositionInfo({ category: 'linear', symbol: 'BTCUSDT' });
    expect(after.result.list[0]).toMatchObject({ side: '', size: '0' });
    const execs = await c.getExecutionList({ category: 'linear', symbol: 'BTCUSDT' });
    expect(execs.result.list.map((e) => e.stopOrderType)).toEqual(['StopLoss', 'UNKNOWN']);
  });

  it('a stop set to trigger on the mark price ignores the last price', async () => {
    const ex = await exchange();
    const c = client(ex);
    await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.01', stopLoss: '57000', slTriggerBy: 'MarkPrice' });
    ex.book.setPrice('BTCUSDT', 56_000, 58_000);
    expect(ex.book.position('BTCUSDT').size).toBe(0.01);
    ex.book.setPrice('BTCUSDT', 58_000, 56_990);
    expect(ex.book.position('BTCUSDT').size).toBe(0);
  });

  it('refuses bad steps, insufficient balance, and unchanged leverage with Bybit codes', async () => {
    const ex = await exchange();
    const c = client(ex);
    const bad = await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.0015', price: '59000' });
    expect(bad).toMatchObject({ retCode: 10001 });
    expect(bad.retMsg).toMatch(/qtyStep/);
    expect((await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '59000.05' })).retMsg).toMatch(/tickSize/);
    expect((await c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '99' })).retCode).toBe(110007);
    expect((await c.setLeverage({ category: 'linear', symbol: 'BTCUSDT', buyLeverage: '5', sellLeverage: '5' })).retCode).toBe(0);
    expect((await c.setLeverage({ category: 'linear', symbol: 'BTCUSDT', buyLeverage: '5', sellLeverage: '5' })).retCode).toBe(110043);
  });

  it('rate limits per endpoint with 10006 and the X-Bapi-Limit headers', async () => {
    const ex = await exchange();
    ex.limits.set('/v5/order/realtime', 3);
    const c = client(ex);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await c.getActiveOrders({ category: 'linear', symbol: 'BTCUSDT' })).retCode);
    expect(codes).toEqual([0, 0, 0, 10006, 10006]);
    const last = await c.getActiveOrders({ category: 'linear', symbol: 'BTCUSDT' });
    expect(last.rateLimitApi?.remainingRequests).toBe(0);
    expect(last.rateLimitApi!.resetAtTimestamp).toBeGreaterThan(Date.now() - 10);
  });

  it('delays a reply past the client timeout after accepting the order', async () => {
    const ex = await exchange();
    ex.inject('/v5/order/create', { kind: 'delayReply', delayMs: 800 });
    const c = new RestClientV5({ key: 'test-key', secret: 'test-secret', baseUrl: ex.restUrl }, { timeout: 200 });
    await expect(c.submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.01', price: '59000', orderLinkId: 'slow-1' })).rejects.toBeDefined();
    const found = await c.getActiveOrders({ category: 'linear', orderLinkId: 'slow-1' });
    expect(found.result.list).toHaveLength(1);
  });

  it('authenticates the private stream of bybit-api WebsocketClient and pushes order, position and execution', async () => {
    const ex = await exchange();
    const ws = new WebsocketClient({ key: 'test-key', secret: 'test-secret', wsUrl: ex.privateWsUrl, pongTimeout: 5000 }, { trace: () => {}, info: () => {}, error: () => {} });
    cleanups.push(() => ws.closeAll(true));
    const topics: string[] = [];
    ws.on('update', (m: { topic: string }) => topics.push(m.topic));
    await Promise.allSettled(ws.subscribeV5(['order', 'execution', 'position', 'wallet'], 'linear', true));
    await waitFor('private subscription', () => ex.privateWs.subscribedCount === 1);
    await client(ex).submitOrder({ category: 'linear', symbol: 'BTCUSDT', side: 'Sell', orderType: 'Market', qty: '0.002', stopLoss: '61000' });
    await waitFor('pushes', () => ['order', 'execution', 'position', 'wallet'].every((t) => topics.includes(t)));
    expect(ex.privateWs.authAttempts).toBe(1);
  });
});
