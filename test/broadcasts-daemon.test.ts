import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startDaemon } from '../src/cli/run.js';
import type { Notification } from '../src/core/notification.js';
import { createLogger } from '../src/sinks/logger.js';
import { fakeTwilioApi, fakeXApi } from './support/fake-broadcast-apis.js';
import { runCli } from './support/run-cli.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase } from './support/storage-db.js';
import { Cleanups } from './support/wait.js';

const X_KEYS = { appKey: 'daemon-app-key', appSecret: 'daemon-app-secret', accessToken: '42-daemon-access-token', accessSecret: 'daemon-access-secret' };
const SID = `AC${'fedcba9876543210'.repeat(2)}`;
const TOKEN = 'daemon-twilio-token';
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('broadcast channels in the daemon', () => {
  it('run builds the configured channels, exposes them for the notifier, exports their metrics and drains them on stop', async () => {
    const x = await fakeXApi(X_KEYS);
    cleanups.push(() => x.close());
    const sms = await fakeTwilioApi(SID, TOKEN);
    cleanups.push(() => sms.close());
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const down = await closedPort();
    // A server database when there is one: the embedded store's first start costs tens of seconds on a busy machine.
    const tdb = pgAvailable ? await createTestDatabase() : undefined;
    if (tdb !== undefined) cleanups.push(() => tdb.drop());
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-bc-daemon-')),
      BYBIT_WS_URL: `ws://127.0.0.1:${down}/v5/public/linear`, BYBIT_REST_URL: `http://127.0.0.1:${down}`, HTTP_PORT: '0', TRADING_MODE: 'off', ESTIMATOR_BOOTSTRAP_DAYS: '0',
      ...(tdb !== undefined ? { DATABASE_URL: tdb.url } : {}),
      X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: X_KEYS.appSecret, X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret, X_API_URL: x.url,
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001', TWILIO_API_URL: sms.url,
    });
    const d = await startDaemon(config, log);
    let closed = false;
    cleanups.push(() => (closed ? undefined : d.close()));
    expect(d.broadcasts.map((c) => c.name)).toEqual(['x', 'sms']);
    expect(lines.some((l) => l.includes('broadcasts on: x, sms'))).toBe(true);
    const closedTrade: Notification = { id: 'sig-1-trade_closed', kind: 'trade_closed', tsMs: Date.now(), symbol: 'SOLUSDT', title: 'SOLUSDT LONG closed: take-profit +9.8 %', fields: [['Range', '7d']], sensitive: false };
    for (const c of d.broadcasts) await c.send([closedTrade]);
    await Promise.all(d.broadcasts.map((c) => c.idle()));
    expect(x.seen.map((r) => JSON.parse(r.body) as { text: string }).map((b) => b.text.split('\n')[0])).toEqual(['SOLUSDT LONG closed: take-profit +9.8 %']);
    expect(sms.seen.map((r) => new URLSearchParams(r.body).get('To'))).toEqual(['+15005550001']);
    const metrics = await (await fetch(`http://127.0.0.1:${d.port}/metrics`)).text();
    expect(metrics).toContain('whalestack_broadcast_sent_total{channel="x"} 1');
    expect(metrics).toContain('whalestack_broadcast_sent_total{channel="sms"} 1');
    // Queued at shutdown is still delivered while the channels drain.
    await d.broadcasts[0]!.send([{ ...closedTrade, id: 'sig-2-trade_closed', title: 'late' }]);
    await d.close();
    closed = true;
    expect(x.seen).toHaveLength(2);
    for (const secret of [...Object.values(X_KEYS), TOKEN, SID]) expect(lines.join('')).not.toContain(secret);
  }, 60_000);

  it("the notifier hub feeds the broadcast channels: a kill over HTTP reaches SMS as the risk change, never X", async () => {
    const x = await fakeXApi(X_KEYS);
    cleanups.push(() => x.close());
    const sms = await fakeTwilioApi(SID, TOKEN);
    cleanups.push(() => sms.close());
    const down = await closedPort();
    const tdb = pgAvailable ? await createTestDatabase() : undefined;
    if (tdb !== undefined) cleanups.push(() => tdb.drop());
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-bc-hub-')),
      BYBIT_WS_URL: `ws://127.0.0.1:${down}/v5/public/linear`, BYBIT_REST_URL: `http://127.0.0.1:${down}`, HTTP_PORT: '0', ESTIMATOR_BOOTSTRAP_DAYS: '0',
      ALERT_GROUP_WINDOW_MS: '0',
      ...(tdb !== undefined ? { DATABASE_URL: tdb.url } : {}),
      X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: X_KEYS.appSecret, X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret, X_API_URL: x.url,
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001', TWILIO_API_URL: sms.url,
    });
    const d = await startDaemon(config, createLogger('silent'));
    let closed = false;
    cleanups.push(() => (closed ? undefined : d.close()));
    await d.executionStarted;
    const kill = await fetch(`http://127.0.0.1:${d.port}/risk/kill`, { method: 'POST', headers: { 'x-whalestack-operator': '1' } });
    expect(kill.status).toBe(200);
    const deadline = Date.now() + 20_000;
    while (!sms.seen.some((r) => (new URLSearchParams(r.body).get('Body') ?? '').includes('Risk ACTIVE → HALTED')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const bodies = sms.seen.map((r) => new URLSearchParams(r.body).get('Body') ?? '');
    expect(bodies.some((b) => b.includes('Risk ACTIVE → HALTED'))).toBe(true);
    // X carries signals and closed trades only (X_KINDS default): the risk change is not posted.
    expect(x.seen.filter((r) => r.body.includes('HALTED'))).toHaveLength(0);
    await d.close();
    closed = true;
  }, 60_000);

  it('the built CLI refuses a half-configured channel before touching the network', async () => {
    const r = await runCli(['run'], { X_APP_KEY: 'k', X_ACCESS_TOKEN: 't', SMTP_HOST: 'mail.example.test', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-bc-cli-')) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('X_APP_SECRET: X posting needs all four OAuth 1.0a user-context keys (missing: X_APP_SECRET, X_ACCESS_SECRET)');
    expect(r.stderr).toContain('EMAIL_TO: email is configured but has no recipient');
  });
});
