import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import type { RangedCluster } from '../src/core/imbalance.js';
import type { Signal } from '../src/core/trigger.js';
import { createLogger } from '../src/sinks/logger.js';
import { exchangeInvariants, startExchange } from './support/bybit-venue-harness.js';
import type { FakeBybitExchange } from './support/fake-bybit-exchange.js';
import { FakeBybitWs } from './support/fake-bybit-ws.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function getJson(port: number, p: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

/** A logger whose JSON lines the test can read (secrets are redacted by the logger itself). */
function capturedLogger(): { log: ReturnType<typeof createLogger>; lines: () => { level: number; msg: string }[]; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return {
    log: createLogger('info', sink),
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

const cl = (low: number, high: number, side: 'long' | 'short'): RangedCluster => ({ low, high, centre: (low + high) / 2, usd: 5e7, side, levelCount: 3, range: '7d' });

async function startLocal(apiKey: string, apiSecret: string, reuse?: { ex: FakeBybitExchange; dataDir: string }) {
  const ex = reuse?.ex ?? (await startExchange(cleanups));
  const ws = await FakeBybitWs.start();
  cleanups.push(() => ws.stop());
  const dataDir = reuse?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ws-bybit-trading-'));
  const config = loadConfig({
    TRADING_MODE: 'testnet', BYBIT_REST_URL: ex.restUrl, BYBIT_PRIVATE_WS_URL: ex.privateWsUrl, BYBIT_WS_URL: ws.url,
    BYBIT_API_KEY: apiKey, BYBIT_API_SECRET: apiSecret, SYMBOLS: 'BTCUSDT,ETHUSDT', DATA_DIR: dataDir, HTTP_PORT: '0',
    ESTIMATOR_BOOTSTRAP_DAYS: '0', ENTRY_STYLE: 'aggressive',
  });
  const captured = capturedLogger();
  const d = await startDaemon(config, captured.log);
  cleanups.push(() => d.close());
  await d.executionStarted;
  return { ex, d, dataDir, ...captured };
}

describe('the daemon trades on the Bybit venue with TRADING_MODE=testnet', () => {
  it('a signal becomes an order on the exchange with its stop and orderLinkId; /positions, /orders, /risk show the exchange', async () => {
    const { ex, d, dataDir } = await startLocal('test-key', 'test-secret');
    expect(d.execution?.broker.venue).toBe('bybit-testnet');
    await waitFor('instruments discovered', () => d.execution !== undefined);
    const now = Date.now();
    const signal: Signal = {
      symbol: 'BTCUSDT', direction: 'LONG', score: 100, imbalance: 0.7, features: { lastPrice: 60_000 } as Signal['features'],
      target: cl(66_000, 67_000, 'short'), opposite: cl(55_000, 55_500, 'long'), heatmapAgesMs: { '7d': 60_000 }, tsInit: now,
    };
    d.execution!.onEngineOutput({ kind: 'signal', signal, emittedAt: now });
    // BTC trades as a scaled ladder: its limit rungs land on the exchange in one create-batch, each with the stop.
    await waitFor('ladder on the exchange', () => [...ex.book.orders.values()].some((o) => o.symbol === 'BTCUSDT'), 5000);
    const rungs = () => [...ex.book.orders.values()].filter((o) => o.symbol === 'BTCUSDT' && o.stopOrderType === '');
    await waitFor('all rungs placed', () => rungs().length === d.execution!.ref.peek()!.trades.values().next().value!.entryLinkIds.length, 5000);
    expect(ex.count('/v5/order/create-batch')).toBe(1);
    expect(ex.count('/v5/order/create')).toBe(0);
    for (const o of rungs()) {
      expect(o.orderLinkId).toMatch(/^[A-Za-z0-9_-]{1,36}$/);
      expect(o.stopLoss).toBeGreaterThan(0);
      expect(o.stopLoss).toBeLessThan(o.price);
    }
    expect(new Set(rungs().map((o) => o.orderLinkId)).size).toBe(rungs().length);
    await waitFor('/orders shows them', async () => (await getJson(d.port, '/orders')).body.open.length === rungs().length, 5000);
    const top = rungs().sort((a, b) => b.price - a.price)[0]!;
    ex.book.setPrice('BTCUSDT', top.price); // the first rung fills on the exchange
    await waitFor('position on the exchange', () => ex.book.position('BTCUSDT').size > 0, 5000);
    expect(ex.book.position('BTCUSDT').stopLoss).toBe(top.stopLoss);
    expect(ex.book.position('BTCUSDT').leverage).toBe(d.execution!.ref.peek()!.trades.values().next().value!.leverage);
    const orders = [top];

    await waitFor('/positions shows it', async () => (await getJson(d.port, '/positions')).body.positions.length === 1, 5000);
    const positions = (await getJson(d.port, '/positions')).body;
    expect(positions.positions[0]).toMatchObject({ symbol: 'BTCUSDT', direction: 'LONG', qty: ex.book.position('BTCUSDT').size, stopLossPrice: orders[0]!.stopLoss });
    expect(positions.positions[0].tradeId).not.toBeNull();
    expect(positions.account.equityUsd).toBeGreaterThan(90_000); // the exchange's wallet, not a paper deposit
    expect(positions.exchange).toMatchObject({ venue: 'bybit-testnet', streamUp: true });
    expect(Date.parse(positions.exchange.lastReconciledAt)).toBeGreaterThan(now - 60_000);
    const orderView = (await getJson(d.port, '/orders')).body;
    expect(orderView.venue).toBe('bybit-testnet');
    expect(orderView.recent.map((o: { orderLinkId: string }) => o.orderLinkId)).toContain(orders[0]!.orderLinkId);
    const risk = (await getJson(d.port, '/risk')).body;
    expect(risk.risk.mode).toBe('ACTIVE');
    expect(risk.exchange.lastReconciledAtMs).toBeGreaterThan(0);
    const metrics = (await getJson(d.port, '/metrics')).body as string;
    expect(metrics).toMatch(/whalestack_venue_private_stream_up\{venue="bybit-testnet"\} 1/);
    expect(metrics).toMatch(/whalestack_venue_rest_seconds_count\{venue="bybit-testnet",endpoint="\/v5\/order\/create-batch"\} 1/);
    expect(metrics).toMatch(/whalestack_venue_reconciliations_total\{venue="bybit-testnet"\} [1-9]/);
    expect(metrics).toMatch(/whalestack_orders_filled_total 1/);
    expect(metrics).toMatch(/whalestack_signal_to_ack_seconds_count [1-9]/);
    expect(ex.count('/v5/order/create')).toBe(0);
    await d.close();

    // Restart on the same DATA_DIR and account: the trade comes back, the fill is not counted again, nothing is resent.
    const tradeId = positions.positions[0].tradeId as string;
    const again = await startLocal('test-key', 'test-secret', { ex, dataDir });
    expect(again.d.execution?.broker.venue).toBe('bybit-testnet');
    await waitFor('restored position', async () => (await getJson(again.d.port, '/positions')).body.positions?.length === 1, 5000);
    expect((await getJson(again.d.port, '/positions')).body.positions[0]).toMatchObject({ symbol: 'BTCUSDT', tradeId, stopLossPrice: top.stopLoss });
    expect(again.d.execution!.ref.peek()!.counters.ordersFilled).toBe(1);
    expect(ex.count('/v5/order/create') + ex.count('/v5/order/create-batch')).toBe(1);
    expect(exchangeInvariants(ex)).toEqual({ duplicateLinkIds: [], unprotected: [], offStep: [] });
    await again.d.close();
  }, 90_000);

  it('a venue that refuses to start (bad key): the daemon stays up, logs one line, places nothing, /risk says why', async () => {
    const { ex, d, lines, text } = await startLocal('a-key-bybit-never-issued', 'its-secret-value');
    expect(d.execution).toBeUndefined();
    const refusals = lines().filter((l) => l.level >= 50);
    expect(refusals).toHaveLength(1); // the only error line
    expect(refusals[0]!.msg).toMatch(/^trading disabled/);
    expect(refusals[0]!.msg).toMatch(/Bybit testnet venue refused to start: .*10003.*BYBIT_API_KEY/);
    expect(text()).not.toContain('its-secret-value');
    expect((await getJson(d.port, '/healthz')).status).toBe(200);
    const risk = await getJson(d.port, '/risk');
    expect(risk.status).toBe(200);
    expect(risk.body).toMatchObject({ risk: null, tradingDisabled: { venue: 'bybit-testnet', reason: 'KEYS_REFUSED' } });
    expect(risk.body.tradingDisabled.message).toMatch(/10003/);
    expect((await getJson(d.port, '/positions')).status).toBe(404);
    expect(ex.count('/v5/order/create') + ex.count('/v5/order/create-batch')).toBe(0);
    await d.close();
  }, 60_000);
});
