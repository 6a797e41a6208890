import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { problemsOf } from './support/config-problems.js';

describe('Telegram and alert settings', () => {
  it('defaults: Telegram off, the public Bot API, 60 s confirmations, outage alerts after 2 min, summary at 00 UTC', () => {
    const c = loadConfig({}, '');
    expect(c.telegramBotToken).toBeUndefined();
    expect(c.telegram).toEqual({ apiUrl: 'https://api.telegram.org', alertChatIds: [], allowedChatIds: [], confirmTtlMs: 60_000, webhook: undefined });
    expect(c.alerts).toEqual({ outageAfterMs: 120_000, dailySummaryHourUtc: 0, groupWindowMs: 2000, queueCapacity: 1000 });
  });

  it('parses chat ids (groups negative) and the webhook with its secret', () => {
    const c = loadConfig({
      TELEGRAM_API_URL: 'http://127.0.0.1:8081/', TELEGRAM_ALERT_CHAT_IDS: '42,-1001234567890', TELEGRAM_ALLOWED_CHAT_IDS: '42', TELEGRAM_CONFIRM_SECONDS: '30',
      TELEGRAM_WEBHOOK_URL: 'https://bot.example/tg/hook', TELEGRAM_WEBHOOK_SECRET: 'abcdefghijklmnop_-', ALERT_OUTAGE_AFTER_SECONDS: '30', ALERT_DAILY_SUMMARY_HOUR_UTC: '7',
    }, '');
    expect(c.telegram).toEqual({ apiUrl: 'http://127.0.0.1:8081', alertChatIds: [42, -1001234567890], allowedChatIds: [42], confirmTtlMs: 30_000, webhook: { url: 'https://bot.example/tg/hook', secretToken: 'abcdefghijklmnop_-' } });
    expect(c.alerts).toMatchObject({ outageAfterMs: 30_000, dailySummaryHourUtc: 7 });
  });

  it('refuses bad values one line each, and never echoes the secrets', () => {
    const problems = problemsOf({ TELEGRAM_ALERT_CHAT_IDS: '42, 43', TELEGRAM_ALLOWED_CHAT_IDS: '@me', TELEGRAM_CONFIRM_SECONDS: '1', ALERT_DAILY_SUMMARY_HOUR_UTC: '24', TELEGRAM_API_URL: 'ftp://x', TELEGRAM_WEBHOOK_SECRET: 'short secret' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['TELEGRAM_API_URL', 'TELEGRAM_ALERT_CHAT_IDS', 'TELEGRAM_ALLOWED_CHAT_IDS', 'TELEGRAM_CONFIRM_SECONDS', 'TELEGRAM_WEBHOOK_SECRET', 'ALERT_DAILY_SUMMARY_HOUR_UTC']);
    expect(problems.join('\n')).not.toContain('short secret');
    expect(problemsOf({ TELEGRAM_WEBHOOK_URL: 'https://bot.example/hook' })).toEqual([expect.stringMatching(/^TELEGRAM_WEBHOOK_URL: needs TELEGRAM_WEBHOOK_SECRET/)]);
  });

  it('the webhook secret and the token are refused in a config file', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ws-cfg-')), 'c.json');
    writeFileSync(file, JSON.stringify({ TELEGRAM_WEBHOOK_SECRET: 'abcdefghijklmnopq', TELEGRAM_BOT_TOKEN: '1:x' }));
    const problems = problemsOf({}, file);
    expect(problems.some((p) => p.includes('TELEGRAM_WEBHOOK_SECRET is a secret'))).toBe(true);
    expect(problems.some((p) => p.includes('TELEGRAM_BOT_TOKEN is a secret'))).toBe(true);
  });
});
