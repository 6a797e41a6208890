import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CONFIG_KEYS, loadConfig } from '../src/cli/config.js';
import { createLogger } from '../src/sinks/logger.js';
import { problemsOf } from './support/config-problems.js';

describe('config', () => {
  it('has safe defaults: mainnet public data, local operator port, no database or Redis', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      bybitWsUrl: 'wss://stream.bybit.com/v5/public/linear',
      bybitRestUrl: 'https://api.bybit.com',
      httpPort: 9464,
      httpHost: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      logLevel: 'info',
      spike: { price1mPct: 2, price5mPct: 5, oi15mPct: 3, volumeRatio: 1.5, cooldownMs: 300_000 },
    });
  });

  it('storage: TimescaleDB auto by default, off on request; PGlite shared_buffers bounded', () => {
    expect(loadConfig({})).toMatchObject({ timescaledb: 'auto', pgliteSharedBuffersMb: 8 });
    expect(loadConfig({ TIMESCALEDB: 'off', PGLITE_SHARED_BUFFERS_MB: '32' })).toMatchObject({ timescaledb: 'off', pgliteSharedBuffersMb: 32 });
    expect(problemsOf({ TIMESCALEDB: 'yes' })[0]).toMatch(/^TIMESCALEDB: /);
    expect(problemsOf({ PGLITE_SHARED_BUFFERS_MB: '0' })[0]).toMatch(/^PGLITE_SHARED_BUFFERS_MB: /);
  });

  it('reports every bad value on its own line, naming the variable and the value', () => {
    const problems = problemsOf({
      HTTP_PORT: 'abc',
      BYBIT_WS_URL: 'http://nope',
      LOG_LEVEL: 'loud',
      SPIKE_VOLUME_RATIO: '-1',
      SYMBOLS: 'btc usdt',
      DATABASE_URL: 'mysql://x',
    });
    expect(problems).toHaveLength(6);
    expect(problems.find((p) => p.startsWith('HTTP_PORT:'))).toMatch(/"abc"/);
    expect(problems.find((p) => p.startsWith('BYBIT_WS_URL:'))).toMatch(/ws:\/\/ or wss:\/\//);
    for (const p of problems) expect(p).not.toContain('\n');
  });

  it('reads a JSON file under the environment, and refuses secrets and unknown keys in it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-config-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ HTTP_PORT: 1234, LOG_LEVEL: 'debug' }));
    expect(loadConfig({ LOG_LEVEL: 'warn' }, good)).toMatchObject({ httpPort: 1234, logLevel: 'warn' });
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ TELEGRAM_BOT_TOKEN: 'x', HTTP_PRT: 1 }));
    const problems = problemsOf({}, bad);
    expect(problems.some((p) => p.includes('TELEGRAM_BOT_TOKEN is a secret'))).toBe(true);
    expect(problems.some((p) => p.includes('unknown setting HTTP_PRT'))).toBe(true);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{nope');
    expect(problemsOf({}, broken)[0]).toMatch(/broken\.json/);
  });

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf({ COINGLASS_API_KEY: '', HTTP_PORT: '99999' });
    expect(problems).toHaveLength(1);
    expect(problemsOf({ HTTP_PORT: '1' }).length).toBe(0);
  });

  it('the logger redacts secrets even when a whole config is logged', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    const config = loadConfig({ COINGLASS_API_KEY: 'cg-secret-123456', TELEGRAM_BOT_TOKEN: '123456:telegram-secret', DATABASE_URL: 'postgres://u:pw-secret@h/db' });
    const log = createLogger('info', sink);
    log.info({ config }, 'starting');
    log.info({ request: { headers: { 'CG-API-KEY': 'cg-secret-123456' } } }, 'request');
    await new Promise((r) => setImmediate(r));
    const out = chunks.join('');
    expect(out).toContain('starting');
    expect(out).not.toContain('cg-secret-123456');
    expect(out).not.toContain('telegram-secret');
    expect(out).not.toContain('pw-secret');
    expect(out).toContain('[redacted]');
  });

  it('every setting is documented in the README configuration table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const key of CONFIG_KEYS) expect(readme, key).toContain(`\`${key}\``);
  });
});
