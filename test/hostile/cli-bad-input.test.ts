import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBybit } from '../support/fake-bybit.js';
import { Cleanups } from '../support/wait.js';
import { BIN, runCli, type CliResult as Result } from '../support/run-cli.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const run = (args: string[], env: Record<string, string> = {}, timeoutMs = 30_000) => runCli(args, env, timeoutMs);

/** One clear line on stderr, nothing on stdout, no stack trace. */
function expectOneLine(r: Result, pattern: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bad paths and arguments: one clear line and a non-zero exit (built CLI)', () => {
  it('is built', () => {
    expect(existsSync(BIN), `${BIN} is missing: run 'npm run build'`).toBe(true);
  });

  it('DATA_DIR pointing at a file', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ws-hostile-cli-')), 'a-file');
    writeFileSync(file, 'x');
    for (const cmd of [['run'], ['migrate'], ['record', '--duration', '1']]) {
      const r = await run(cmd, { DATA_DIR: file, HTTP_PORT: '0' });
      expectOneLine(r, new RegExp(`^whalestack ${cmd[0]}: DATA_DIR .*a-file: is not a directory$`));
      expect(r.code).toBe(2);
    }
    const below = await run(['run'], { DATA_DIR: path.join(file, 'sub'), HTTP_PORT: '0' });
    expectOneLine(below, /a-file is a file, not a directory/);
  });

  it('DATA_DIR=/proc/nope fails at once instead of spinning in a recursive mkdir', async () => {
    const started = Date.now();
    const r = await run(['run'], { DATA_DIR: '/proc/nope', HTTP_PORT: '0' }, 15_000);
    expectOneLine(r, /^whalestack run: DATA_DIR \/proc\/nope: cannot create \/proc\/nope \(ENOENT\)$/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('simulate --scenario with an unknown symbol', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'ws-hostile-sim-'));
    const r = await run(['simulate', '--out', out, '--symbols', '3', '--minutes', '1', '--scenario', 'pump:NOPEUSDT:0:1:5']);
    expectOneLine(r, /^whalestack simulate: --scenario symbol NOPEUSDT is not simulated; .*SYM001USDT…SYM003USDT/);
    expect(r.code).toBe(2);
  });

  it.each([
    ['HTTP_PORT', '1e3'],
    ['DB_BATCH_ROWS', '0x10'],
    ['HTTP_PORT', ' 5'],
    ['ESTIMATOR_LEVERAGE_TIERS', '5:0'],
    ['ESTIMATOR_LEVERAGE_TIERS', '100000:1'],
  ])('config %s=%j: one line, exit 2, for run and replay alike', async (key, value) => {
    for (const args of [['run'], ['replay', '/nonexistent']]) {
      const r = await run(args, { [key]: value, HTTP_PORT: key === 'HTTP_PORT' ? value : '0' });
      expectOneLine(r, new RegExp(`^whalestack: config: ${key}: `));
      expect(r.code).toBe(2);
    }
  });
});

describe('CLI output: logs on stderr, summaries on stdout, floods summarised', () => {
  it('replay of a bit-flipped tape logs the first issues and a count, and prints a clean summary on stdout', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-hostile-flip-'));
    const sim = await run(['simulate', '--out', dir, '--symbols', '5', '--minutes', '3', '--seed', '7']);
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toMatch(/^wrote \d+ records/);
    const gz = readdirSync(dir).find((f) => f.endsWith('.jsonl.gz'))!;
    const lines = gunzipSync(readFileSync(path.join(dir, gz))).toString('utf8').split('\n');
    // Flip one bit in a fixed position of every record line after the header (seeded by the line number).
    const flipped = lines.map((line, i) => {
      if (i === 0 || line.length < 4) return line;
      const at = (i * 7919) % Math.max(1, Math.min(line.length, 12));
      return line.slice(0, at) + String.fromCharCode(line.charCodeAt(at) ^ 0x10) + line.slice(at + 1);
    });
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'ws-hostile-flipped-')), 'flipped.jsonl');
    writeFileSync(bad, flipped.join('\n'));
    const r = await run(['replay', bad], { LOG_LEVEL: 'info' });
    const summary = /tape issues\s+(\d+)/.exec(r.stdout);
    expect(summary, r.stdout).not.toBeNull();
    const issues = Number(summary![1]);
    expect(issues).toBeGreaterThan(1000);
    // stdout is the summary only: no JSON log line mixed in.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
    const logLines = r.stderr.trim().split('\n');
    expect(logLines.length).toBeLessThan(40);
    expect(r.stderr).toContain(`(${issues} in all)`);
    expect(logLines.every((l) => l.startsWith('{'))).toBe(true);
  });

  it('record: logs on stderr ending with "stopped", the summary on stdout', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT', 'ETHUSDT']);
    ws.autoPush(100);
    const out = mkdtempSync(path.join(tmpdir(), 'ws-hostile-rec-'));
    const r = await run(['record', '--duration', '2', '--out', out], {
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-rec-data-')),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^recorded \d+ records to 1 file\(s\) in /);
    const logs = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(logs.at(-1)!.msg).toBe('stopped');
  });
});
