import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { problemsOf } from './support/config-problems.js';

const keys = { BYBIT_API_KEY: 'k-123456', BYBIT_API_SECRET: 's-abcdef' };

describe('config: trading mode and Bybit private endpoints', () => {
  it('defaults to paper, with no Bybit trading session and no keys needed', () => {
    expect(loadConfig({}).trading).toMatchObject({ mode: 'paper', bybit: undefined });
    expect(loadConfig({ TRADING_MODE: 'off' }).trading).toMatchObject({ mode: 'off', bybit: undefined });
  });

  it('testnet and demo follow the mode for private REST and WS; overrides win', () => {
    expect(loadConfig({ TRADING_MODE: 'testnet', ...keys }).trading.bybit).toMatchObject({
      restUrl: 'https://api-testnet.bybit.com', privateWsUrl: 'wss://stream-testnet.bybit.com/v5/private', recvWindowMs: 5000, cancelUnknownOrders: false, emergencyStopPct: 5,
    });
    expect(loadConfig({ TRADING_MODE: 'demo', ...keys }).trading.bybit).toMatchObject({ restUrl: 'https://api-demo.bybit.com', privateWsUrl: 'wss://stream-demo.bybit.com/v5/private' });
    const local = loadConfig({ TRADING_MODE: 'demo', ...keys, BYBIT_REST_URL: 'http://127.0.0.1:9', BYBIT_PRIVATE_WS_URL: 'ws://127.0.0.1:9/v5/private', BYBIT_CANCEL_UNKNOWN_ORDERS: 'true' });
    expect(local.trading.bybit).toMatchObject({ restUrl: 'http://127.0.0.1:9', privateWsUrl: 'ws://127.0.0.1:9/v5/private', cancelUnknownOrders: true });
    expect(local.bybitRestUrl).toBe('http://127.0.0.1:9');
  });

  it('live needs LIVE_TRADING_CONFIRM=I_ACCEPT_REAL_LOSSES and keys, one line each', () => {
    const problems = problemsOf({ TRADING_MODE: 'live' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/LIVE_TRADING_CONFIRM=I_ACCEPT_REAL_LOSSES/);
    expect(problems.some((p) => /needs BYBIT_API_KEY/.test(p))).toBe(true);
    expect(problems.some((p) => /needs BYBIT_API_SECRET/.test(p))).toBe(true);
    for (const p of problems) expect(p).not.toContain('\n');
    expect(problemsOf({ TRADING_MODE: 'live', LIVE_TRADING_CONFIRM: 'yes', ...keys })).toHaveLength(1);
    expect(loadConfig({ TRADING_MODE: 'live', LIVE_TRADING_CONFIRM: 'I_ACCEPT_REAL_LOSSES', ...keys }).trading.bybit).toMatchObject({
      restUrl: 'https://api.bybit.com', privateWsUrl: 'wss://stream.bybit.com/v5/private',
    });
  });

  it('refuses testnet/demo pointed at mainnet private endpoints, and unknown modes', () => {
    expect(problemsOf({ TRADING_MODE: 'testnet', ...keys, BYBIT_REST_URL: 'https://api.bybit.com' })[0]).toMatch(/BYBIT_REST_URL is mainnet/);
    expect(problemsOf({ TRADING_MODE: 'demo', ...keys, BYBIT_PRIVATE_WS_URL: 'wss://stream.bybit.com/v5/private' })[0]).toMatch(/BYBIT_PRIVATE_WS_URL is mainnet/);
    expect(problemsOf({ TRADING_MODE: 'mainnet' })[0]).toMatch(/^TRADING_MODE: must be paper, testnet, demo, live or off/);
    expect(problemsOf({ TRADING_MODE: 'testnet', ...keys, BYBIT_EMERGENCY_STOP_PCT: '80' })[0]).toMatch(/^BYBIT_EMERGENCY_STOP_PCT/);
  });

  it('refuses keys, the live confirmation and the mode in a config file; never echoes a key', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-trading-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ BYBIT_API_SECRET: 's-abcdef', LIVE_TRADING_CONFIRM: 'I_ACCEPT_REAL_LOSSES', TRADING_MODE: 'live' }));
    const problems = problemsOf({}, file);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/BYBIT_API_SECRET is a secret/);
    expect(problems.join('\n')).toMatch(/LIVE_TRADING_CONFIRM arms real trading/);
    expect(problems.join('\n')).not.toContain('s-abcdef');
    expect(problemsOf({ TRADING_MODE: 'testnet', BYBIT_API_KEY: 'k-123456', BYBIT_API_SECRET: '' }).join('\n')).not.toContain('k-123456');
  });

  it('the built CLI exits 2 with the refusal on stderr (npm test builds first)', async () => {
    const { spawnSync } = await import('node:child_process');
    const bin = path.resolve('dist/src/cli/main.js');
    const run = spawnSync(process.execPath, [bin, 'run'], { env: { PATH: process.env.PATH ?? '', TRADING_MODE: 'live', BYBIT_API_KEY: 'k-123456', BYBIT_API_SECRET: 's-abcdef' }, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('whalestack: config: TRADING_MODE=live trades real money on Bybit mainnet: set LIVE_TRADING_CONFIRM=I_ACCEPT_REAL_LOSSES to confirm');
  });
});
