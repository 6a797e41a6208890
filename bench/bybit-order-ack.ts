import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BybitVenue } from '../src/venues/bybit/bybit-venue.js';
import { InMemoryOrderRecordStore, JsonFileOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import { FakeBybitExchange } from '../test/support/fake-bybit-exchange.js';
import { isMain, percentile, round } from './stats.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Place → acknowledged latency of the Bybit venue (bybit-api RestClientV5 + record store + venue logic) against
 * the local exchange on loopback, as a ratio against a bare signed request (node:http, keep-alive) carrying the same create to
 * the same server in the same run. Market orders alternate Buy/Sell (each fills, so the book stays small); the
 * private stream is up, so every fill also pushes order, execution, position and wallet updates to the venue.
 * Measured twice: with an in-memory record store (the venue's own cost) and with the daemon's file store
 * (`JsonFileOrderRecordStore` in a temp dir, what `TRADING_MODE=testnet|demo|live` uses). Also counts the TCP
 * connections the exchange accepted during the measured rounds: one per client means keep-alive holds.
 */
export async function benchBybitOrderAck(orders = 1500, warmup = 200): Promise<Record<string, unknown>> {
  const ex = await FakeBybitExchange.start();
  for (const path of ex.limits.keys()) ex.limits.set(path, 1e9);
  ex.book.walletBalanceUsd = 1e12;
  ex.book.addInstrument({ symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001, maxOrderQty: 1000 });
  ex.book.setPrice('BTCUSDT', 60_000);
  const venue = new BybitVenue({
    restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'],
    store: new InMemoryOrderRecordStore(), log: quiet, pollIntervalMs: 60_000,
  });
  const started = await venue.start();
  if (!started.ok) throw new Error(started.message);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-order-ack-'));
  const fileVenue = new BybitVenue({
    restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT'],
    store: new JsonFileOrderRecordStore(path.join(dir, 'orders.json')), log: quiet, pollIntervalMs: 60_000,
  });
  const fileStarted = await fileVenue.start();
  if (!fileStarted.ok) throw new Error(fileStarted.message);
  // The exchange's HTTP server is private to the test support class; the bench only listens to it.
  let connections = 0;
  (ex as unknown as { server: http.Server }).server.on('connection', () => connections++);

  const agent = new http.Agent({ keepAlive: true });
  const bare = async (k: number): Promise<void> => {
    const buy = k % 2 === 0;
    const body = JSON.stringify({ category: 'linear', symbol: 'BTCUSDT', side: buy ? 'Buy' : 'Sell', orderType: 'Market', qty: '0.001', orderLinkId: `bare-${k}`, positionIdx: 0, stopLoss: buy ? '45000' : '75000' });
    const ts = String(Date.now());
    const sign = createHmac('sha256', 'test-secret').update(`${ts}test-key5000${body}`).digest('hex');
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${ex.restUrl}/v5/order/create`, {
        method: 'POST', agent,
        headers: { 'content-type': 'application/json', 'X-BAPI-API-KEY': 'test-key', 'X-BAPI-TIMESTAMP': ts, 'X-BAPI-RECV-WINDOW': '5000', 'X-BAPI-SIGN': sign },
      }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += String(c)));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.end(body);
    });
    const reply = JSON.parse(text) as { retCode: number };
    if (reply.retCode !== 0) throw new Error(`bare create refused: ${reply.retCode}`);
  };
  const viaVenue = async (k: number): Promise<void> => {
    const buy = k % 2 === 0;
    const r = await venue.placeEntry({ orderLinkId: `v-${k}`, symbol: 'BTCUSDT', side: buy ? 'Buy' : 'Sell', orderType: 'Market', qty: 0.001, stopLoss: buy ? 45_000 : 75_000 });
    if (r.status !== 'done') throw new Error(`venue create not done: ${JSON.stringify(r)}`);
  };
  const viaFileVenue = async (k: number): Promise<void> => {
    const buy = k % 2 === 0;
    const r = await fileVenue.placeEntry({ orderLinkId: `f-${k}`, symbol: 'BTCUSDT', side: buy ? 'Buy' : 'Sell', orderType: 'Market', qty: 0.001, stopLoss: buy ? 45_000 : 75_000 });
    if (r.status !== 'done') throw new Error(`file venue create not done: ${JSON.stringify(r)}`);
  };
  const measure = async (fn: (k: number) => Promise<void>, offset: number): Promise<Float64Array> => {
    const out = new Float64Array(orders);
    for (let k = 0; k < orders; k++) {
      const t0 = performance.now();
      await fn(offset + k);
      out[k] = performance.now() - t0;
    }
    return out.sort();
  };
  for (let k = 0; k < warmup; k++) {
    await bare(1e6 + k);
    await viaVenue(1e6 + k);
    await viaFileVenue(1e6 + k);
  }
  // Interleave two rounds so drift in the machine's load hits every side alike.
  connections = 0;
  const b1 = await measure(bare, 0);
  const v1 = await measure(viaVenue, 0);
  const f1 = await measure(viaFileVenue, 0);
  const b2 = await measure(bare, orders);
  const v2 = await measure(viaVenue, orders);
  const f2 = await measure(viaFileVenue, orders);
  const measuredConnections = connections;
  const b = Float64Array.from([...b1, ...b2]).sort();
  const v = Float64Array.from([...v1, ...v2]).sort();
  const f = Float64Array.from([...f1, ...f2]).sort();
  await venue.stop();
  await fileVenue.stop();
  await ex.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    orders: v.length,
    venue_ack_p50_ms: round(percentile(v, 50), 3),
    venue_ack_p99_ms: round(percentile(v, 99), 3),
    bare_signed_request_p50_ms: round(percentile(b, 50), 3),
    bare_signed_request_p99_ms: round(percentile(b, 99), 3),
    ratio_p50: round(percentile(v, 50) / percentile(b, 50), 2),
    ratio_p99: round(percentile(v, 99) / percentile(b, 99), 2),
    venue_file_store_ack_p50_ms: round(percentile(f, 50), 3),
    venue_file_store_ack_p99_ms: round(percentile(f, 99), 3),
    ratio_file_store_p99: round(percentile(f, 99) / percentile(b, 99), 2),
    tcp_connections_during_rounds: measuredConnections,
    target: 'venue ack p99 ≤ 5 ms on loopback',
  };
}

if (isMain(import.meta.url)) {
  console.log(JSON.stringify(await benchBybitOrderAck(), null, 2));
  process.exit(0);
}
