import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './support/run-cli.js';

const run = runCli;

describe('whalestack CLI (built binary)', () => {
  it('is built', () => {
    expect(existsSync(BIN), `${BIN} is missing: run 'npm run build' (npm test does)`).toBe(true);
  });

  it('prints help for itself and every command', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['run', 'record', 'replay', 'simulate', 'migrate']) {
      expect(top.stdout).toContain(cmd);
      const help = await run([cmd, '--help']);
      expect(help.code, cmd).toBe(0);
      expect(help.stdout).toContain(`usage: whalestack ${cmd}`);
    }
    const unknown = await run(['fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'fly'");
  });

  it('refuses bad configuration with one line per problem, before touching the network', async () => {
    const r = await run(['run'], { HTTP_PORT: 'x', BYBIT_REST_URL: 'ftp://nope', SPIKE_COOLDOWN_MS: '-5', COINGLASS_API_KEY: '' });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.startsWith('whalestack: config: '))).toBe(true);
    expect(r.stderr).toMatch(/HTTP_PORT: .*"x"/);
    expect(r.stderr).toMatch(/BYBIT_REST_URL/);
    expect(r.stderr).toMatch(/SPIKE_COOLDOWN_MS/);
  });

  it('simulates a tape and replays it deterministically', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-cli-'));
    const sim = await run(['simulate', '--out', dir, '--symbols', '8', '--minutes', '12', '--seed', '3', '--scenario', 'pump:SYM001USDT:6:4:9:8:4']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/wrote \d+ records/);
    const a = await run(['replay', dir, '--json'], { LOG_LEVEL: 'silent' });
    const b = await run(['replay', dir, '--json', '--speed', 'max'], { LOG_LEVEL: 'silent' });
    expect(a.code, a.stderr).toBe(0);
    const sa = JSON.parse(a.stdout) as { frames: number; symbols: number; spikes: number; badFrames: number; outputDigest: string };
    const sb = JSON.parse(b.stdout) as typeof sa;
    expect(sa.symbols).toBe(8);
    expect(sa.badFrames).toBe(0);
    expect(sa.spikes).toBeGreaterThanOrEqual(1);
    expect(sb.outputDigest).toBe(sa.outputDigest);
    const bad = await run(['simulate', '--out', dir, '--scenario', 'moon:X:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad --scenario');
  });

  it('migrates the embedded store and is idempotent', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-cli-migrate-'));
    const first = await run(['migrate'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/migrations: 5 applied now/);
    const second = await run(['migrate'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(second.stdout).toMatch(/migrations: 0 applied now/);
  });
});
