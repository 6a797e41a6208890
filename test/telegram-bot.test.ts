import { Writable } from 'node:stream';
import { Bot } from 'grammy';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../src/core/notification.js';
import { orderRefusedNotification, signalNotification } from '../src/core/notification-producers.js';
import type { Signal } from '../src/core/trigger.js';
import { createLogger } from '../src/sinks/logger.js';
import { NotifierHub } from '../src/sinks/notify/notifier-hub.js';
import type { CommandAudit, ControlCommand, OperatorConsole } from '../src/sinks/notify/operator-console.js';
import { TelegramBot } from '../src/sinks/notify/telegram-bot.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { Cleanups, waitFor } from './support/wait.js';

const TOKEN = '123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQrr';
const OWNER = 42;
const STRANGER = 666;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** pino output captured line by line, to check that the token never appears. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
  return { lines, log: createLogger('debug', stream) };
}

/** The console the wiring implements, here answering with text that needs escaping and recording controls. */
function recordingConsole() {
  const controls: Array<{ command: ControlCommand; symbol: string | undefined; by: string }> = [];
  const console: OperatorConsole = {
    status: () => 'mode paper\nrisk ACTIVE\nbybit-ws-0 up, lag 12 ms',
    top: () => '1. BTC<USDT> score 91 & rising',
    coin: (s) => (s === 'BTCUSDT' ? `${s} imbalance 0.71` : undefined),
    positions: () => 'SOLUSDT LONG 3.2 @ 100',
    orders: () => 'e0-SOLUSDT Limit 98.5',
    pnl: (p) => `pnl ${p}: +12.50 USDT`,
    trades: (n) => `${n} trades`,
    control: async (command, symbol, by) => {
      controls.push({ command, symbol, by });
      return symbol === 'NOPEUSDT' ? { ok: false, message: 'no trade or position on NOPEUSDT' } : { ok: true, message: `${command} done` };
    },
  };
  return { console, controls };
}

async function setup(over: { confirmTtlMs?: number; alertChatIds?: number[] } = {}) {
  const tg = await new FakeTelegram(TOKEN).start();
  cleanups.push(() => tg.close());
  const { lines, log } = capture();
  const { console, controls } = recordingConsole();
  const audits: CommandAudit[] = [];
  const registry = new Registry();
  const bot = new TelegramBot({
    token: TOKEN, apiRoot: tg.apiRoot, alertChatIds: over.alertChatIds ?? [OWNER], allowedChatIds: [OWNER], confirmTtlMs: over.confirmTtlMs ?? 60_000,
    console, audit: (a) => audits.push(a), log, registry, pollTimeoutSec: 1,
  });
  bot.start();
  cleanups.push(() => bot.close());
  await bot.ready;
  return { tg, bot, lines, controls, audits, registry };
}

const texts = (tg: FakeTelegram, chat: number) => tg.sent(chat).map((c) => String(c.payload.text));
const lastPrompt = (tg: FakeTelegram) => {
  const c = tg.sent(OWNER).filter((x) => x.payload.reply_markup !== undefined).at(-1)!;
  const markup = c.payload.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] };
  return { buttons: markup.inline_keyboard[0]!, index: tg.sent(OWNER).indexOf(c) };
};
const edits = (tg: FakeTelegram) => tg.calls.filter((c) => c.method === 'editMessageText' && c.status === 200).map((c) => String(c.payload.text));

describe('Telegram bot against a local Bot API server', () => {
  it('answers every read command from the allow-listed chat, escaped, and audits each with who sent it', async () => {
    const { tg, audits, lines } = await setup();
    const cmds = ['/status', '/top', '/coin btcusdt', '/coin XYZ', '/positions', '/orders', '/pnl week', '/pnl', '/pnl year', '/trades 5', '/trades 0', '/help', 'hello'];
    for (const c of cmds) tg.pushMessage(OWNER, c);
    await waitFor('13 audits', () => audits.length >= cmds.length, 30_000);
    const replies = texts(tg, OWNER);
    expect(replies.slice(0, 11)).toEqual([
      '<pre>mode paper\nrisk ACTIVE\nbybit-ws-0 up, lag 12 ms</pre>',
      '<pre>1. BTC&lt;USDT&gt; score 91 &amp; rising</pre>',
      '<pre>BTCUSDT imbalance 0.71</pre>',
      '<pre>unknown: XYZ</pre>',
      '<pre>SOLUSDT LONG 3.2 @ 100</pre>',
      '<pre>e0-SOLUSDT Limit 98.5</pre>',
      '<pre>pnl week: +12.50 USDT</pre>',
      '<pre>pnl day: +12.50 USDT</pre>',
      '<pre>usage: /pnl [day|week|all]</pre>',
      '<pre>5 trades</pre>',
      '<pre>usage: /trades [n], n from 1 to 50</pre>',
    ]);
    expect(replies[11]).toContain('/forceexit SYMBOL|all');
    expect(replies[12]).toContain('unknown command');
    expect(audits.map((a) => [a.command, a.outcome, a.userId, a.username])).toContainEqual(['/coin', 'answered', OWNER, `user${OWNER}`]);
    expect(audits).toHaveLength(cmds.length);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it("ignores a stranger: no reply, no control, a log line, a metric and an audit row, even with a valid button's data", async () => {
    const { tg, controls, audits, registry, lines } = await setup();
    tg.pushMessage(OWNER, '/kill');
    const { buttons } = await waitFor('prompt', () => tg.sent(OWNER).length === 1 && lastPrompt(tg));
    for (const c of ['/status', '/kill', '/forceexit all', '/resume']) tg.pushMessage(STRANGER, c);
    tg.pushCallback(STRANGER, STRANGER, 100, buttons[0]!.callback_data);
    await waitFor('stranger audits', () => audits.filter((a) => a.outcome === 'unauthorized').length === 5);
    // A later owner command is answered, so the updates were all consumed.
    tg.pushMessage(OWNER, '/status');
    await waitFor('owner reply', () => tg.sent(OWNER).length === 2);
    expect(tg.sent(STRANGER)).toHaveLength(0);
    expect(tg.calls.filter((c) => c.method === 'answerCallbackQuery')).toHaveLength(0);
    expect(controls).toEqual([]);
    expect(await registry.getSingleMetricAsString('whalestack_telegram_unauthorized_total')).toContain('whalestack_telegram_unauthorized_total 5');
    expect(lines.filter((l) => l.includes('not in TELEGRAM_ALLOWED_CHAT_IDS'))).toHaveLength(5);
    expect(audits.find((a) => a.outcome === 'unauthorized')).toMatchObject({ chatId: STRANGER, userId: STRANGER, command: '/status' });
  });

  it('state-changing commands ask first: confirm applies once (with who), cancel applies nothing, a replayed tap is refused', async () => {
    const { tg, controls, audits } = await setup();
    tg.pushMessage(OWNER, '/kill');
    const kill = await waitFor('kill prompt', () => tg.sent(OWNER).length === 1 && lastPrompt(tg));
    expect(texts(tg, OWNER)[0]).toBe('⚠️ <b>Confirm /kill?</b>\nExpires in 60 s.');
    expect(kill.buttons.map((b) => b.text)).toEqual(['Confirm', 'Cancel']);
    expect(controls).toEqual([]);
    tg.pushCallback(OWNER, OWNER, 100, kill.buttons[0]!.callback_data);
    await waitFor('kill applied', () => controls.length === 1);
    expect(controls[0]).toEqual({ command: 'kill', symbol: undefined, by: `telegram:${OWNER}(@user${OWNER})` });
    await waitFor('edited', () => edits(tg).includes('✅ /kill: kill done'));
    tg.pushCallback(OWNER, OWNER, 100, kill.buttons[0]!.callback_data);
    await waitFor('replay refused', () => tg.calls.some((c) => c.method === 'answerCallbackQuery' && String(c.payload.text).startsWith('Nothing to confirm')));
    tg.pushMessage(OWNER, '/pause');
    const pause = await waitFor('pause prompt', () => tg.sent(OWNER).length === 2 && lastPrompt(tg));
    tg.pushCallback(OWNER, OWNER, 101, pause.buttons[1]!.callback_data);
    await waitFor('cancelled', () => edits(tg).includes('⌛ /pause cancelled'));
    for (const c of ['/resume', '/stopentry', '/forceexit nopeusdt', '/forceexit all']) {
      const n = tg.sent(OWNER).length;
      tg.pushMessage(OWNER, c);
      const p = await waitFor(`${c} prompt`, () => tg.sent(OWNER).length === n + 1 && lastPrompt(tg));
      tg.pushCallback(OWNER, OWNER, 102, p.buttons[0]!.callback_data);
      await waitFor(`${c} answered`, () => audits.filter((a) => a.outcome === 'applied' || a.outcome === 'refused').length >= controls.length + 1);
    }
    tg.pushMessage(OWNER, '/forceexit');
    await waitFor('usage', () => texts(tg, OWNER).includes('<pre>usage: /forceexit SYMBOL|all</pre>'));
    expect(controls.map((c) => [c.command, c.symbol])).toEqual([['kill', undefined], ['resume', undefined], ['stop-entry', undefined], ['force-exit', 'NOPEUSDT'], ['force-exit', 'ALL']]);
    expect(edits(tg)).toContain('⛔ /forceexit NOPEUSDT: no trade or position on NOPEUSDT');
    expect(audits.filter((a) => a.outcome === 'confirm-asked')).toHaveLength(6);
  });

  it('a confirmation expires: the prompt is edited to say so and a late tap applies nothing', async () => {
    const { tg, controls, audits } = await setup({ confirmTtlMs: 400 });
    tg.pushMessage(OWNER, '/forceexit BTCUSDT');
    const p = await waitFor('prompt', () => tg.sent(OWNER).length === 1 && lastPrompt(tg));
    await waitFor('prompt expired', () => edits(tg).includes('⌛ /forceexit BTCUSDT expired: nothing applied'), 5000);
    tg.pushCallback(OWNER, OWNER, 100, p.buttons[0]!.callback_data);
    await waitFor('late tap answered', () => tg.calls.some((c) => c.method === 'answerCallbackQuery'));
    expect(controls).toEqual([]);
    expect(audits.map((a) => a.outcome)).toEqual(['confirm-asked', 'expired', 'refused']);
  });

  it('a burst of 200 alerts through the hub reaches two chats grouped, all of them, within the throttle (≤ 1 msg/s per chat, ≤ 30/s overall)', async () => {
    const chats = [OWNER, 43];
    const { tg, bot, lines } = await setup({ alertChatIds: chats });
    const hub = new NotifierHub({ channels: [bot], groupWindowMs: 200, maxBatch: 50, queueCapacity: 1000, retry: { baseMs: 500, capMs: 5000, maxAttempts: 5 } });
    cleanups.push(() => hub.close(100));
    const notes: Notification[] = [];
    for (let i = 0; i < 200; i++) {
      const sig = { symbol: `C${i}<&>USDT`, direction: 'LONG', score: 80 + (i % 20), imbalance: 0.7, features: { lastPrice: 1.2345 }, target: undefined, opposite: undefined, heatmapAgesMs: {}, tsInit: 1000 + i } as unknown as Signal;
      notes.push(i % 2 === 0 ? signalNotification(sig, 1000 + i, { source: 'coinglass', ageMs: 90_000 }) : orderRefusedNotification({ signalId: `s${i}`, symbol: `C${i}<&>USDT`, reason: 'RISK_MAX_POSITIONS', message: '3 coins in play, max 3', tsMs: i }));
    }
    const t0 = performance.now();
    for (const n of notes) hub.publish(n);
    expect(performance.now() - t0).toBeLessThan(100);
    await waitFor('all alerts delivered', () => hub.stats().telegram!.sent === 200, 90_000);
    for (const chat of chats) {
      const msgs = texts(tg, chat);
      const html = msgs.join('\n');
      for (const n of notes) expect(html).toContain(n.title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      expect(msgs.length).toBeLessThan(40);
      const times = tg.sent(chat).map((c) => c.atMs);
      // The throttler starts one send per second per chat; arrivals jitter, so check single gaps loosely and pairs of gaps tightly.
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(500);
      for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 2]!).toBeGreaterThanOrEqual(1700);
    }
    const all = tg.sent().map((c) => c.atMs).sort((a, b) => a - b);
    const perSecond = all.map((t0) => all.filter((t) => t >= t0 && t < t0 + 1000).length);
    for (const n of perSecond) expect(n).toBeLessThanOrEqual(30);
    const gaps = chats.flatMap((chat) => tg.sent(chat).map((c) => c.atMs).slice(1).map((t, i) => t - tg.sent(chat)[i]!.atMs));
    console.log(`burst: 200 alerts → ${texts(tg, OWNER).length} messages per chat, ${((performance.now() - t0) / 1000).toFixed(1)} s; min gap per chat ${Math.min(...gaps)} ms; max ${Math.max(...perSecond)} messages in any 1 s overall`);
    expect(tg.calls.filter((c) => c.status === 400)).toEqual([]);
    expect(hub.stats().telegram).toMatchObject({ dropped: 0, failed: 0 });
    expect(lines.join('\n')).not.toContain(TOKEN);
  }, 120_000);

  it('429 with retry_after is waited out and retried; errors reaching the log never carry the token', async () => {
    const { tg, bot, lines } = await setup();
    tg.rateLimitNext('sendMessage', 2, 1);
    const t0 = Date.now();
    await bot.send([orderRefusedNotification({ signalId: 's', symbol: 'SOLUSDT', reason: 'RISK_HALTED', message: 'halted', tsMs: 0 })]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(tg.calls.filter((c) => c.method === 'sendMessage').map((c) => c.status)).toEqual([429, 429, 200]);
    // One chat refuses once: the batch fails, and its retry goes only to the chat that missed it.
    const two = await setup({ alertChatIds: [OWNER, 43] });
    two.tg.failChat(43, 1);
    const batch = [orderRefusedNotification({ signalId: 'd', symbol: 'ETHUSDT', reason: 'RISK_HALTED', message: 'halted', tsMs: 0 })];
    await expect(two.bot.send(batch)).rejects.toThrow(/1 of 2 chat\(s\) failed: .*chat not found/);
    await two.bot.send(batch);
    expect([two.tg.sent(OWNER).length, two.tg.sent(43).length]).toEqual([1, 1]);
    // A dead server: grammY's network error quotes the URL with the token; what we throw and log must not.
    await tg.close();
    const { log, lines: hubLines } = capture();
    const hub = new NotifierHub({ channels: [bot], groupWindowMs: 10, maxBatch: 5, queueCapacity: 10, retry: { baseMs: 50, capMs: 50, maxAttempts: 2 }, log });
    hub.publish(orderRefusedNotification({ signalId: 's2', symbol: 'SOLUSDT', reason: 'RISK_HALTED', message: 'halted', tsMs: 0 }));
    let thrown = '';
    await bot.send([orderRefusedNotification({ signalId: 's3', symbol: 'X', reason: 'RISK_HALTED', message: 'x', tsMs: 0 })]).catch((e: Error) => (thrown = `${e.message} ${e.stack}`));
    expect(thrown).toMatch(/telegram: 1 of 1 chat\(s\) failed/);
    expect(thrown).not.toContain(TOKEN);
    await waitFor('given up', () => hub.stats().telegram!.failed === 1, 60_000);
    // grammY's inner network error quotes the URL with the token: logged raw anyway, pino's fence blanks it.
    const raw = (await new Bot(TOKEN, { client: { apiRoot: tg.apiRoot } }).api.getMe().catch((e: unknown) => e)) as { error: Error };
    expect(raw.error.message).toContain(TOKEN);
    log.error({ err: raw.error, cause: { url: raw.error.message } }, `telegram failed: ${raw.error.message}`);
    expect(hubLines.filter((l) => l.includes('telegram failed')).join('')).toContain('[redacted]');
    expect(hubLines.some((l) => l.includes('given up after 2 attempts'))).toBe(true);
    expect(hubLines.join('\n')).not.toContain(TOKEN);
    await hub.close(100);
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(lines.join('\n')).not.toContain('AAbbCCdd');
  }, 90_000);
});
