import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleBacktestReport } from './support/backtest-report-sample.js';
import { runCli } from './support/run-cli.js';

/** `whalestack report` through the built binary: a saved result becomes a page; bad input is refused line by line. */
describe('whalestack report', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ws-report-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sample = sampleBacktestReport({ bars: 120, maxTradesPerCoin: 3 });

  it('renders a saved result (extra keys from a richer --json are ignored) into one HTML file', async () => {
    const input = path.join(dir, 'result.json');
    writeFileSync(input, JSON.stringify({ ...sample, digest: 'abc', sweep: { key: 'x' } }));
    const out = path.join(dir, 'nested', 'report.html');
    const r = await runCli(['report', '--input', input, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${out}: ${sample.trades.length} trades on ${sample.coins.length} coins\n`);
    const html = readFileSync(out, 'utf8');
    for (const t of sample.trades) expect(html).toContain(`<tr data-trade-id="${t.tradeId}">`);
    for (const m of sample.metrics) expect(html).toContain(`data-key="${m.key}" data-value="${String(m.value)}"`);
    expect(html).not.toContain('"digest"');
    expect(readdirSync(path.dirname(out))).toEqual(['report.html']); // no temporary file left behind
  });

  it('refuses an invalid result with one line per problem and writes nothing', async () => {
    const bad = structuredClone(sample) as unknown as { trades: Record<string, unknown>[]; coins: { bars: Record<string, number>[] }[]; metrics: unknown };
    bad.trades[1]!.pnlUsd = '12.5';
    bad.trades[2]!.closedAtMs = 1;
    const bar = bad.coins[0]!.bars[5]!;
    bar.high = bar.low! / 2;
    const input = path.join(dir, 'bad.json');
    writeFileSync(input, JSON.stringify(bad));
    const out = path.join(dir, 'bad.html');
    writeFileSync(out, 'previous report');
    const r = await runCli(['report', '--input', input, '--out', out]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `whalestack report: --input ${input}: trades.1.pnlUsd: Invalid input: expected number, received string`,
      `whalestack report: --input ${input}: trades.2: closedAtMs must be ≥ openedAtMs`,
      `whalestack report: --input ${input}: coins.0.bars.5: high must be ≥ low`,
    ]);
    expect(readFileSync(out, 'utf8')).toBe('previous report');
  });

  it('says what is wrong with the arguments or the file', async () => {
    const notJson = path.join(dir, 'not.json');
    writeFileSync(notJson, '{"title": ');
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(sample));
    const cases: [string[], RegExp][] = [
      [['report', '--out', path.join(dir, 'x.html')], /--input <result\.json> is required/],
      [['report', '--input', notJson], /--out <report\.html> is required/],
      [['report', '--input', path.join(dir, 'missing.json'), '--out', path.join(dir, 'x.html')], /cannot read --input .*missing\.json: no such file/],
      [['report', '--input', notJson, '--out', path.join(dir, 'x.html')], /--input .*not\.json is not JSON: /],
      [['report', '--input', good, '--out', path.join(notJson, 'x.html')], /--out .*not\.json: is not a directory/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(path.join(dir, 'x.html'))).toBe(false);
  }, 120_000); // five node processes on a loaded machine
});
