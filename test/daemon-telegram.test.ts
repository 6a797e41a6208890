import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from './support/run-cli.js';
import { startFakeBybit } from './support/fake-bybit.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase } from './support/storage-db.js';
import { Cleanups, waitFor } from './support/wait.js';

const TOKEN = '987654321:ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJ';
const OWNER = 42;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe.runIf(pgAvailable)('whalestack run (built binary) with Telegram', () => {
  it('answers the owner, ignores a stranger, applies a confirmed /kill (alerted, /risk HALTED, agent_logs), alerts an outage, and never prints the token', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const tg = await new FakeTelegram(TOKEN).start();
    cleanups.push(() => tg.close());
    const child = spawn(process.execPath, [BIN, 'run'], {
      env: {
        PATH: process.env.PATH ?? '', BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, HTTP_PORT: '0', DATABASE_URL: db.url, LOG_LEVEL: 'info',
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-telegram-')), ESTIMATOR_BOOTSTRAP_DAYS: '0', DB_FLUSH_INTERVAL_MS: '200',
        TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_URL: tg.apiRoot, TELEGRAM_ALERT_CHAT_IDS: String(OWNER), TELEGRAM_ALLOWED_CHAT_IDS: String(OWNER),
        ALERT_GROUP_WINDOW_MS: '100', ALERT_OUTAGE_AFTER_SECONDS: '1',
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const port = await waitFor('http port', () => Number(/"port":(\d+),"host"/.exec(out)?.[1] ?? 0) || undefined, 30_000);
    await waitFor('polling', () => out.includes('telegram: polling for commands'), 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; Bot API calls: ${tg.calls.map((c) => `${c.method} ${c.status}`).join(', ')}\n${out.slice(-3000)}`);
    });
    await waitFor('trading', async () => (await (await fetch(`http://127.0.0.1:${port}/risk`)).json() as { risk: { mode: string } | null }).risk?.mode === 'ACTIVE', 30_000);

    tg.pushMessage(666, '/kill');
    tg.pushMessage(OWNER, '/status');
    const status = await waitFor('status reply', () => tg.sent(OWNER).find((c) => String(c.payload.text).startsWith('<pre>mode: paper')), 30_000);
    expect(String(status.payload.text)).toContain('risk: ACTIVE');
    expect(tg.sent(666)).toHaveLength(0);

    // /pnl all counts every closed trade in the store, not only the recent ones kept in memory: 250 stored
    // closes (more than memory keeps), 100 winners of +3 and 150 losers of −1 → +150 USDT, 40 % wins.
    const seed = new pg.Client({ connectionString: db.url });
    await seed.connect();
    await seed.query(
      `INSERT INTO trades (trade_id, agent_name, symbol, side, entry_price, exit_price, stop_loss_price, take_profit_price, size_qty, size_usd, pnl_pct, pnl_usd, status, exit_reason, opened_at, closed_at, updated_at)
       SELECT 'old-' || g, 'execution', 'SOLUSDT', 'long', 100, 101, 95, 110, 1, 100, 1, CASE WHEN g <= 100 THEN 3 ELSE -1 END, 'closed', 'take_profit',
              now() - interval '30 days', now() - interval '29 days', now() - interval '29 days'
         FROM generate_series(1, 250) g`,
    );
    await seed.end();
    tg.pushMessage(OWNER, '/pnl all');
    const pnlAll = await waitFor('pnl reply', () => tg.sent(OWNER).find((c) => String(c.payload.text).startsWith('<pre>all:')), 30_000);
    expect(String(pnlAll.payload.text)).toMatch(/^<pre>all: \+?150(\.00)? USDT over 250 closed trade\(s\)\nwin rate 40 %/);
    tg.pushMessage(OWNER, '/pnl week');
    const pnlWeek = await waitFor('pnl week reply', () => tg.sent(OWNER).find((c) => String(c.payload.text).startsWith('<pre>week:')), 30_000);
    expect(String(pnlWeek.payload.text)).toMatch(/over 0 closed trade\(s\)/);

    tg.pushMessage(OWNER, '/kill');
    const prompt = await waitFor('prompt', () => tg.sent(OWNER).find((c) => c.payload.reply_markup !== undefined), 30_000);
    const data = (prompt.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!.callback_data;
    tg.pushCallback(OWNER, OWNER, 100, data);
    await waitFor('HALTED alert', () => tg.sent(OWNER).some((c) => String(c.payload.text).includes('Risk ACTIVE → HALTED')), 30_000);
    expect(tg.sent(OWNER).some((c) => String(c.payload.text).includes('Operator: kill'))).toBe(true);
    const risk = (await (await fetch(`http://127.0.0.1:${port}/risk`)).json()) as { risk: { mode: string; killSwitch: boolean } };
    expect(risk.risk).toMatchObject({ mode: 'HALTED', killSwitch: true });

    // The same controls over HTTP, behind the operator header.
    expect((await fetch(`http://127.0.0.1:${port}/risk/pause`, { method: 'POST' })).status).toBe(403);
    const paused = await fetch(`http://127.0.0.1:${port}/risk/pause`, { method: 'POST', headers: { 'x-whalestack-operator': '1' } });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ ok: true });

    // A source down longer than ALERT_OUTAGE_AFTER_SECONDS reaches the alert chat.
    await ws.stop();
    await waitFor('outage alert', () => tg.sent(OWNER).some((c) => /📡 <b>bybit-[^<]* down for/.test(String(c.payload.text))), 30_000);

    child.kill('SIGTERM');
    expect(await exited, out.slice(-3000)).toBe(0);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(TOKEN.split(':')[1]!);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const rows = await client.query<{ agent_name: string; event: string; message: string; details: Record<string, unknown> }>("SELECT agent_name, event, message, details FROM agent_logs WHERE event IN ('telegram_command', 'operator_control') ORDER BY ts");
    const tgRows = rows.rows.filter((r) => r.agent_name === 'telegram');
    expect(tgRows.map((r) => r.details.outcome)).toEqual(expect.arrayContaining(['unauthorized', 'answered', 'confirm-asked', 'applied']));
    expect(tgRows.find((r) => r.details.outcome === 'unauthorized')).toMatchObject({ details: { chatId: 666, command: '/kill' } });
    expect(rows.rows.filter((r) => r.event === 'operator_control').map((r) => r.details)).toEqual([
      expect.objectContaining({ command: 'kill', by: `telegram:${OWNER}(@user${OWNER})`, ok: true }),
      expect.objectContaining({ command: 'pause', by: expect.stringMatching(/^http:/), ok: true }),
    ]);
    expect(JSON.stringify(rows.rows)).not.toContain(TOKEN);
  }, 120_000);
});
