import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startOperatorServer } from '../src/sinks/http-server.js';
import { createLogger } from '../src/sinks/logger.js';
import type { OperatorConsole } from '../src/sinks/notify/operator-console.js';
import { TelegramBot } from '../src/sinks/notify/telegram-bot.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { Cleanups, waitFor } from './support/wait.js';

const TOKEN = '555555555:WebhookTokenWebhookTokenWebhookTok';
const SECRET = 'hook-secret-0123456789';
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe('Telegram webhook mode on the operator HTTP server', () => {
  it('registers the webhook with its secret; a POST without the secret changes nothing, one with it is answered', async () => {
    const tg = await new FakeTelegram(TOKEN).start();
    cleanups.push(() => tg.close());
    const lines: string[] = [];
    const log = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const views = { status: () => 'webhook status', top: () => '', coin: () => undefined, positions: () => '', orders: () => '', pnl: () => '', trades: () => '' };
    let controls = 0;
    const console: OperatorConsole = { ...views, control: async () => (controls++, { ok: true, message: 'done' }) };
    const bot = new TelegramBot({ token: TOKEN, apiRoot: tg.apiRoot, alertChatIds: [42], allowedChatIds: [42], confirmTtlMs: 60_000, console, audit: () => undefined, log, webhook: { url: 'https://bot.example/tg/hook', secretToken: SECRET } });
    const server = await startOperatorServer({ registry: new Registry(), readiness: () => ({ ready: true, detail: {} }), symbol: () => undefined, post: (p) => (p === '/tg/hook' ? bot.webhookHandler() : undefined) }, 0, '127.0.0.1');
    cleanups.push(() => server.close());
    bot.start();
    cleanups.push(() => bot.close());
    await bot.ready;
    const set = tg.calls.find((c) => c.method === 'setWebhook');
    expect(set?.payload).toMatchObject({ url: 'https://bot.example/tg/hook', secret_token: SECRET });
    expect(tg.calls.some((c) => c.method === 'getUpdates')).toBe(false);

    const post = (body: unknown, secret?: string) =>
      fetch(`http://127.0.0.1:${server.port}/tg/hook`, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret === undefined ? {} : { 'x-telegram-bot-api-secret-token': secret }) }, body: JSON.stringify(body) });
    expect((await post(tg.makeMessageUpdate(42, '/status'))).status).toBe(401);
    expect((await post(tg.makeMessageUpdate(42, '/kill'), 'wrong-secret-0000000')).status).toBe(401);
    expect(tg.sent()).toHaveLength(0);
    expect((await post(tg.makeMessageUpdate(42, '/status'), SECRET)).status).toBe(200);
    await waitFor('reply', () => tg.sent(42).length === 1);
    expect(tg.sent(42)[0]!.payload.text).toBe('<pre>webhook status</pre>');
    // GET stays read-only and other POST paths are refused.
    expect((await fetch(`http://127.0.0.1:${server.port}/tg/other`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect(controls).toBe(0);
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
