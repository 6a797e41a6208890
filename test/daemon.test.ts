import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { replayTape } from '../src/cli/replay.js';
import { startDaemon, type Daemon } from '../src/cli/run.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { HISTORY_TAPE_SOURCE } from '../src/cli/bootstrap.js';
import { readTape } from '../src/streams/tape-reader.js';
import { createLogger } from '../src/sinks/logger.js';
import { FakeBybitRest, instrumentRow } from './support/fake-bybit-rest.js';
import { FakeBybitWs, tickerSnapshotFrame } from './support/fake-bybit-ws.js';
import { Cleanups, waitFor } from './support/wait.js';

const silent = createLogger('silent');
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}


async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
}

function daemonConfig(wsUrl: string, restUrl: string, extra: Record<string, string> = {}) {
  return loadConfig({
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-daemon-data-')),
    BYBIT_WS_URL: wsUrl,
    BYBIT_REST_URL: restUrl,
    HTTP_PORT: '0',
    WS_PING_INTERVAL_MS: '1000',
    WS_PONG_TIMEOUT_MS: '1000',
    WS_STALE_AFTER_MS: '5000',
    ...extra,
  });
}

async function start(config: ReturnType<typeof loadConfig>, recordDir?: string): Promise<Daemon> {
  const d = await startDaemon(config, silent, { recordDir });
  cleanups.push(() => d.close());
  return d;
}

describe('daemon against local Bybit servers', () => {
  it('discovers USDT perpetuals, streams them, serves readiness, symbol state and metrics, and records a replayable tape', async () => {
    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    rest.instruments = [
      instrumentRow('BTCUSDT'),
      instrumentRow('ETHUSDT'),
      instrumentRow('BTCPERP', { quoteCoin: 'USDC', settleCoin: 'USDC' }),
      instrumentRow('BTCUSDT-26DEC26', { contractType: 'LinearFutures' }),
    ];
    const ws = await FakeBybitWs.start();
    cleanups.push(() => ws.stop());
    const tapeDir = mkdtempSync(path.join(tmpdir(), 'ws-daemon-tape-'));
    const d = await start(daemonConfig(ws.url, rest.baseUrl), tapeDir);
    const bootstrapped = () =>
      ['BTCUSDT', 'ETHUSDT'].every((sym) => rest.requests.some((r) => r.path === '/v5/market/kline' && r.query.symbol === sym)) &&
      rest.requests.filter((r) => r.path === '/v5/market/open-interest').length >= 2;

    expect((await get(d.port, '/healthz')).status).toBe(200);
    await waitFor('readiness', async () => ((await get(d.port, '/readyz')).status === 200 ? true : undefined));
    expect(ws.subscribedTopics()).toEqual([
      'allLiquidation.BTCUSDT',
      'allLiquidation.ETHUSDT',
      'publicTrade.BTCUSDT',
      'publicTrade.ETHUSDT',
      'tickers.BTCUSDT',
      'tickers.ETHUSDT',
    ]);

    const now = Date.now();
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', now, 65000));
    ws.push('tickers.BTCUSDT', `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","lastPrice":"65100.5","openInterest":"123.5"},"cs":1,"ts":${now + 100}}`);
    ws.push('publicTrade.BTCUSDT', `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${now + 120},"data":[{"T":${now + 110},"s":"BTCUSDT","S":"Buy","v":"2","p":"65100.5","L":"PlusTick","i":"x","BT":false,"RPI":false,"seq":1}]}`);
    ws.push('tickers.BTCUSDT', 'this is not json');

    const view = await waitFor('symbol state', async () => {
      const r = await get(d.port, '/symbols/btcusdt');
      if (r.status !== 200) return undefined;
      const body = JSON.parse(r.body) as { features: Record<string, number | null>; counts: Record<string, number> };
      return body.counts.tradeFrames === 1 && body.features.lastPrice === 65100.5 ? body : undefined;
    });
    expect(view.features.openInterest).toBe(123.5);
    expect(view.features.volume5mUsd).toBeCloseTo(130201, 6);
    expect((await get(d.port, '/symbols/NOPEUSDT')).status).toBe(404);

    const metrics = await waitFor('bad frame metric', async () => {
      const m = (await get(d.port, '/metrics')).body;
      return /whalestack_bad_frames_total\{reason="json"\} 1/.test(m) ? m : undefined;
    });
    expect(metrics).toMatch(/whalestack_frames_total\{topic="publicTrade"\} 1/);
    expect(metrics).toMatch(/whalestack_source_up\{connection="bybit-ws-1"\} 1/);
    expect(metrics).toMatch(/whalestack_receipt_to_processed_seconds_count\{actor="symbol"\} [1-9]/);
    expect(metrics).toMatch(/nodejs_eventloop_lag_seconds/);

    // The estimator bootstrap pulled OI history and klines for both symbols and recorded what it fed.
    await waitFor('estimator bootstrap', () => (d.tape!.stats.records > 0 && bootstrapped() ? true : undefined));
    await d.close();
    const history: string[] = [];
    for await (const rec of readTape([tapeDir])) if (rec.s === HISTORY_TAPE_SOURCE) history.push((JSON.parse(rec.d) as { symbol: string }).symbol);
    expect(history.sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    const summary = await replayTape([tapeDir], { symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS } });
    expect(summary.frames).toBeGreaterThanOrEqual(6);
    expect(summary.badFrames).toBe(1);
    expect(summary.symbols).toBe(2);
  });

  it('stays up while Bybit is unreachable at start, then becomes ready when it appears', async () => {
    const wsPort = await freePort();
    const restPort = await freePort();
    const d = await start(
      daemonConfig(`ws://127.0.0.1:${wsPort}/v5/public/linear`, `http://127.0.0.1:${restPort}`),
    );
    await new Promise((r) => setTimeout(r, 800));
    expect((await get(d.port, '/healthz')).status).toBe(200);
    const notReady = await get(d.port, '/readyz');
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body)).toMatchObject({ ready: false, discovered: false });

    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    // FakeBybitRest listens on an ephemeral port; bridge the configured port to it.
    const bridge = net.createServer((sock) => {
      const upstream = net.connect(Number(new URL(rest.baseUrl).port), '127.0.0.1');
      sock.pipe(upstream).pipe(sock);
      sock.on('error', () => upstream.destroy());
      upstream.on('error', () => sock.destroy());
    });
    await new Promise<void>((r) => bridge.listen(restPort, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => bridge.close(() => r())));
    rest.instruments = [instrumentRow('SOLUSDT')];
    const ws = await FakeBybitWs.start({ port: wsPort });
    cleanups.push(() => ws.stop());
    await waitFor('readiness after outage', async () => ((await get(d.port, '/readyz')).status === 200 ? true : undefined), 30_000);
    expect(ws.subscribedTopics()).toContain('tickers.SOLUSDT');
  }, 45_000);
});
