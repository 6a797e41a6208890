import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import type { DaemonWiring } from '../src/cli/daemon-parts.js';
import { LiveClock } from '../src/cli/live-clock.js';
import { notifyPart } from '../src/cli/notify.js';
import { operatorConsole } from '../src/cli/operator-views.js';
import { createLogger } from '../src/sinks/logger.js';
import { TelegramBot } from '../src/sinks/notify/telegram-bot.js';
import { FakeTelegram } from './support/fake-telegram.js';
import { LADDER_ENV, LADDER_SCENARIOS, MIN, runTrading } from './support/trading-sim.js';
import { Cleanups, waitFor } from './support/wait.js';

const TOKEN = '111222333:SimulatorTokenSimulatorTokenSimulat';
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

describe('simulated market → notifications part → Telegram', () => {
  it('the ladder scenario signal, its orders, fills, trailing and close reach the alert chat through notifyPart and grammY', async () => {
    const r = await runTrading({ durationMs: 58 * MIN, env: LADDER_ENV, scenarios: LADDER_SCENARIOS });
    const tg = await new FakeTelegram(TOKEN).start();
    cleanups.push(() => tg.close());
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const w = { config: loadConfig({ ALERT_GROUP_WINDOW_MS: '100' }, ''), log, clock: new LiveClock(), metrics: { registry: new Registry() }, sources: new Map(), postRoutes: new Map(), execution: r.part } as unknown as DaemonWiring;
    const console = operatorConsole(w);
    const bot = new TelegramBot({ token: TOKEN, apiRoot: tg.apiRoot, alertChatIds: [42], allowedChatIds: [42], confirmTtlMs: 60_000, console, audit: () => undefined, log });
    const part = notifyPart(w, [bot]);
    await part.start();
    cleanups.push(() => part.stop());
    // The daemon hands each output to the tap as it happens; here the recorded run is played into it.
    for (const e of r.engineOutputs) w.notifier!.onEngineOutput(e);
    for (const o of r.outputs) w.notifier!.onExecutionOutput(o);
    const signals = r.engineOutputs.filter((e) => e.kind === 'signal');
    expect(signals.length).toBeGreaterThan(0);
    const html = await waitFor('alerts delivered', () => {
      const text = tg.sent(42).map((c) => String(c.payload.text)).join('\n');
      return text.includes('Closed LONG SYM007USDT') && text;
    }, 30_000);
    expect(html).toContain('🎯 <b>Signal LONG SYM007USDT</b>');
    expect(html).toMatch(/Liquidation data: <code>estimate, \d+/);
    expect(html).toContain('📝 <b>Orders placed LONG SYM007USDT</b>');
    expect(html).toContain('Style: <code>scaled, 10 order(s)');
    expect(html).toMatch(/✅ <b>Filled SYM007USDT<\/b>/);
    expect(html).toMatch(/🪜 <b>Stop moved SYM007USDT → /);
    expect(html).toMatch(/🏁 <b>Closed LONG SYM007USDT: (TRAILING_STOP|STOP_LOSS)<\/b>\nPnL: <code>/);
    expect(tg.calls.filter((c) => c.status === 400)).toEqual([]);
    expect(lines.join('')).not.toContain(TOKEN);
  }, 120_000);
});
