import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import { createLogger } from '../src/sinks/logger.js';
import { FakeBybitRest, instrumentRow } from './support/fake-bybit-rest.js';
import { FakeBybitWs } from './support/fake-bybit-ws.js';
import { Cleanups } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function getJson(port: number, p: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

describe('the daemon trades on paper by default', () => {
  it('serves /positions, /orders, /trades?limit=, /risk and the trading metrics with no keys; KILL_SWITCH starts HALTED', async () => {
    const rest = await FakeBybitRest.start();
    cleanups.push(() => rest.stop());
    rest.instruments = [instrumentRow('BTCUSDT')];
    const ws = await FakeBybitWs.start();
    cleanups.push(() => ws.stop());
    for (const kill of ['false', 'true']) {
      const config = loadConfig({
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-trading-data-')), BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, HTTP_PORT: '0',
        ESTIMATOR_BOOTSTRAP_DAYS: '0', PAPER_INITIAL_BALANCE_USD: '2500', KILL_SWITCH: kill,
      });
      const d = await startDaemon(config, createLogger('silent'));
      cleanups.push(() => d.close());
      await d.executionStarted;
      expect(d.execution?.broker.venue).toBe('paper');
      const positions = await getJson(d.port, '/positions');
      expect(positions.status).toBe(200);
      expect(positions.body).toMatchObject({ positions: [], account: { equityUsd: 2500, balanceUsd: 2500, marginUsd: 0 } });
      expect((await getJson(d.port, '/orders')).body).toMatchObject({ venue: 'paper', open: [], recent: [] });
      expect((await getJson(d.port, '/trades?limit=5')).body).toEqual({ trades: [] });
      expect((await getJson(d.port, '/trades/history?limit=5')).body).toEqual({ trades: [], stored: true, nextBefore: null });
      const risk = await getJson(d.port, '/risk');
      expect(risk.body.risk.mode).toBe(kill === 'true' ? 'HALTED' : 'ACTIVE');
      expect(risk.body.limits).toMatchObject({ maxConcurrentPositions: 3, dailyLossLimitFraction: 0.03 });
      const metrics = (await getJson(d.port, '/metrics')).body as string;
      expect(metrics).toMatch(/whalestack_equity_usd 2500/);
      expect(metrics).toMatch(new RegExp(`whalestack_risk_state\\{state="${kill === 'true' ? 'HALTED' : 'ACTIVE'}"\\} 1`));
      expect(metrics).toMatch(/whalestack_open_positions 0/);
      expect(metrics).toMatch(/whalestack_signal_to_order_seconds_bucket/);
      await d.close();
    }
  }, 60_000);
});
