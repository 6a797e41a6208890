import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The commands README.md documents, run exactly as written from this checkout (built by `npm test`, as `npm ci`
 * builds it through `prepare`). Only the demo tape directory is swapped for a fresh temporary one and DATA_DIR
 * points at a temporary embedded store, so parallel runs do not share files.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const DEMO_DIR = '/tmp/whalestack-demo';

function sh(command: string, env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() };
    const child = spawn('sh', ['-c', command], { cwd: ROOT, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The fenced sh block under "## Commands", one command per line, comments dropped. */
function documentedExamples(): string[] {
  const section = README.slice(README.indexOf('## Commands\n'), README.indexOf('## Configuration\n'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

/** Command names from the Commands table (`| \`name …\` |`). */
function documentedCommands(): string[] {
  const section = README.slice(README.indexOf('## Commands\n'), README.indexOf('## Configuration\n'));
  return [...section.matchAll(/^\| `([a-z]+)[ `]/gm)].map((m) => m[1] as string);
}

describe('README commands work as written from this checkout', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('documents a way that runs this checkout, never `npx whalestack`', () => {
    // Mentioned only to say it is not the way: never as a command to run.
    expect(README).not.toMatch(/`npx whalestack /);
    expect(README).not.toMatch(/^\s*npx /m);
    expect(PKG.scripts.cli).toBe('node dist/src/cli/main.js');
    expect(PKG.scripts.prepare).toBe('npm run build'); // `npm ci` builds, so the CLI exists right after it
    expect(PKG.scripts.test).toMatch(/^npm run typecheck && npm run build && vitest run$/);
    expect(PKG.scripts.start).toBe('node dist/src/cli/main.js run');
    expect(PKG.scripts.prestart).toBe('npm run build');
  });

  it('runs every example in the Commands block, in order', async () => {
    const examples = documentedExamples();
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(examples.every((e) => e.startsWith('npm run cli -- '))).toBe(true);
    const demo = mkdtempSync(path.join(tmpdir(), 'ws-readme-demo-'));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-readme-data-'));
    dirs.push(demo, dataDir);
    const outputs: string[] = [];
    for (const example of examples) {
      const r = await sh(example.split(DEMO_DIR).join(demo), { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
      expect(r.code, `${example}\n${r.stderr}`).toBe(0);
      outputs.push(r.stdout);
    }
    const all = outputs.join('\n');
    expect(all).toContain('usage: whalestack replay');
    expect(all).toMatch(/migrations: \d+ applied now/);
    expect(all).toMatch(/wrote \d+ records/);
    expect(all).toMatch(/digest\s+[0-9a-f]{16,}/);
  }, 300_000); // five npm + node processes, one of them creating an embedded store: slow on a loaded machine

  it('prints --help for every command in the table through `npm run cli --`', async () => {
    const commands = documentedCommands();
    expect(commands).toEqual(['run', 'record', 'replay', 'simulate', 'backfill', 'backtest', 'migrate', 'report']);
    for (const c of commands) {
      const r = await sh(`npm run cli -- ${c} --help`, {});
      expect(r.code, `${c}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`usage: whalestack ${c}`);
    }
  }, 300_000);
});
