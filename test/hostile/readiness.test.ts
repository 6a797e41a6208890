import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { startDaemon } from '../../src/cli/run.js';
import { createLogger } from '../../src/sinks/logger.js';
import { startFakeBybit } from '../support/fake-bybit.js';
import { Cleanups, waitFor } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const SYMBOLS = Array.from({ length: 10 }, (_, i) => `S${i}USDT`);

describe('readiness reflects the share of live ticker topics', () => {
  it('stays 503 while 7 of 10 ticker topics never answer, even as the watchdog resubscribes them; 200 once they do', async () => {
    let muted = true;
    const live = new Set(['tickers.S0USDT', 'tickers.S1USDT', 'tickers.S2USDT']);
    const { rest, ws } = await startFakeBybit(cleanups, SYMBOLS, { mute: (t) => muted && t.startsWith('tickers.') && !live.has(t) });
    ws.autoPush(150);
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-ready-')),
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      WS_PING_INTERVAL_MS: '1000',
      WS_PONG_TIMEOUT_MS: '1000',
      WS_STALE_AFTER_MS: '1000',
      ESTIMATOR_BOOTSTRAP_DAYS: '0',
      READY_LIVE_TOPIC_SHARE: '0.9',
    });
    const d = await startDaemon(config, createLogger('silent'));
    cleanups.push(() => d.close());
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${d.port}/readyz`);
      return { status: res.status, body: JSON.parse(await res.text()) as Record<string, unknown> };
    };
    await waitFor('subscribed', () => ws.subscribedTopics().length === 30 || undefined);
    // Past the grace period, and past at least two watchdog resubscribes of a muted topic.
    await waitFor('two resubscribes', () => ws.subscribeCount('tickers.S9USDT') >= 3 || undefined);
    const r = await readyz();
    expect(r.status).toBe(503);
    expect(JSON.stringify(r.body)).toMatch(/"liveTickers":3,"tickerTopics":10/);
    // Stays not ready across further resubscribes: they do not reset the count.
    for (let i = 0; i < 5; i++) {
      await new Promise((res) => setTimeout(res, 200));
      expect((await readyz()).status).toBe(503);
    }
    muted = false;
    const after = await waitFor('ready', async () => {
      const x = await readyz();
      return x.status === 200 ? x : undefined;
    });
    expect(JSON.stringify(after.body)).toMatch(/"liveTickers":10,"tickerTopics":10/);
  });
});
