import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../src/cli/backtest.js';
import type { BacktestResult } from '../src/cli/backtest-result.js';
import { loadConfig } from '../src/cli/config.js';
import { VirtualClock } from '../src/core/clock.js';
import type { BacktestReportInput } from '../src/core/backtest-report-input.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { readStoredHistory } from '../src/sinks/db/history-read.js';
import { runCli } from './support/run-cli.js';
import { scriptedHistory, weekScenarios, WEEK_COINS } from '../src/streams/scripted-history.js';
import { pgAvailable } from './support/services.js';
import { recentBaseMs, useMigratedDatabase } from './support/storage-db.js';

const DAY = 86_400_000;
const ENV = { THRESHOLD_LEARNED_MODE: 'replace', ENTRY_STYLE: 'aggressive' };
// Two days ending an hour ago (retention and compression never touch recent rows), AAA's dump and pump in them.
const END = recentBaseMs();
const START = END - 2 * DAY;
const history = scriptedHistory({ seed: 'h1', startMs: START, days: 2, coins: WEEK_COINS.slice(0, 1), scenarios: weekScenarios(START) })[0]!;
const iso = (ms: number) => new Date(ms).toISOString();

describe.runIf(pgAvailable)('backtest from the stored history in PostgreSQL', () => {
  const h = useMigratedDatabase('ws-backtest-history-');

  it('rows written by the batch writer come back as the same bars, and the backtest trades them exactly as from memory', async () => {
    const writer = new BatchWriter({ db: h.db, clock: new VirtualClock(0), journalDir: h.dir, maxBatchRows: 5000 });
    for (const b of history.bars) writer.enqueue('history_klines', { symbol: 'AAAUSDT', interval: '1', tsMs: b.startMs, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume, turnover: b.turnover });
    // Hourly bars for the same hours: minute bars win, so these must not be replayed.
    for (let t = START; t < END; t += 3_600_000) writer.enqueue('history_klines', { symbol: 'AAAUSDT', interval: '60', tsMs: t, open: 1, high: 1, low: 1, close: 1, volume: 0, turnover: 0 });
    for (const r of history.openInterest) writer.enqueue('history_open_interest', { symbol: 'AAAUSDT', interval: '5min', tsMs: r.tsMs, openInterest: r.openInterest });
    await writer.close();

    const stored = await readStoredHistory(h.db, 'AAAUSDT', START, END + 3_600_000);
    expect(stored).toMatchObject({ minuteBars: 2880, hourlyBars: 48 });
    expect(stored.bars).toEqual(history.bars);
    expect(stored.openInterest).toEqual(history.openInterest);

    const config = loadConfig(ENV, '');
    const fromDb = await runBacktest({ kind: 'history', histories: [stored], fromMs: START, toMs: END }, config);
    const fromMemory = await runBacktest({ kind: 'history', histories: [history], fromMs: START, toMs: END }, config);
    expect(fromDb.digest).toBe(fromMemory.digest);
    expect(fromDb.trades[0]).toMatchObject({ symbol: 'AAAUSDT', side: 'long', reason: 'take_profit' });
    expect(fromDb.trades[0]!.pnlUsd).toBeGreaterThan(0);

    // The built CLI, the same rows, the same numbers; the report seam writes the report's input next to the HTML.
    const env = { ...ENV, DATABASE_URL: h.tdb.url, DATA_DIR: h.dir, LOG_LEVEL: 'silent' };
    const out = path.join(h.dir, 'bt.html');
    const cli = await runCli(['backtest', '--from-history', '--symbols', 'aaausdt', '--from', iso(START), '--to', iso(END + 3_600_000), '--json', '--report', out], env, 120_000);
    expect(cli.stderr).toContain(`report written to ${out}`);
    expect(cli.code).toBe(0);
    const viaCli = JSON.parse(cli.stdout) as BacktestResult;
    expect(viaCli.digest).toBe(fromMemory.digest);
    expect(viaCli.source).toMatch(/^stored history: AAAUSDT from .* \(2880 1-min and 48 1-h bars, 576 open-interest readings\), own liquidation estimate/);
    expect(viaCli.metrics.totalPnlUsd).toBeCloseTo(fromMemory.metrics.totalPnlUsd, 9);
    // The HTML report embeds its input as JSON (`#report-data`): the same trades as --json, the coin's chart.
    const html = readFileSync(out, 'utf8');
    const embedded = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
    expect(embedded).not.toBeNull();
    const reportInput = JSON.parse(embedded![1]!) as BacktestReportInput;
    expect(reportInput.trades).toEqual(viaCli.trades);
    expect(reportInput.coins[0]!.symbol).toBe('AAAUSDT');
    expect(existsSync(`${out}.report-input.json`)).toBe(false);
    // The saved --json result renders with `whalestack report` into the same page data as --report drew.
    const saved = path.join(h.dir, 'bt.json');
    writeFileSync(saved, cli.stdout);
    const again = path.join(h.dir, 'bt-again.html');
    const rendered = await runCli(['report', '--input', saved, '--out', again], env, 60_000);
    expect(rendered.code, rendered.stderr).toBe(0);
    const againData = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(readFileSync(again, 'utf8'));
    expect(JSON.parse(againData![1]!)).toEqual(reportInput);

    // A sweep through the CLI: worker threads from the build, a table sorted by the metric.
    const sweep = await runCli(['backtest', '--from-history', '--from', iso(START), '--to', iso(END + 3_600_000), '--sweep', 'REVERSAL_ENABLED=false,true', '--sort', 'totalPnlUsd', '--json'], env, 120_000);
    expect(sweep.code).toBe(0);
    const rows = JSON.parse(sweep.stdout) as BacktestResult[];
    expect(rows.map((r) => r.settings.REVERSAL_ENABLED).sort()).toEqual(['false', 'true']);
    expect(rows[0]!.metrics.totalPnlUsd).toBeGreaterThanOrEqual(rows[1]!.metrics.totalPnlUsd);
    expect(rows.find((r) => r.settings.REVERSAL_ENABLED === 'true')!.digest).toBe(fromMemory.digest);
    const table = await runCli(['backtest', '--from-history', '--from', iso(START), '--to', iso(END + 3_600_000), '--sweep', 'REVERSAL_ENABLED=false,true', '--sort', 'maxDrawdownPct'], env, 120_000);
    expect(table.stdout).toMatch(/sorted by maxDrawdownPct \(lowest first\)\n#\s+settings\s+trades/);
    expect(table.stdout).toContain('REVERSAL_ENABLED=true');
  }, 300_000);

  it('refuses bad arguments and settings with one line and exit 2, and an empty span with exit 1', async () => {
    const env = { DATABASE_URL: h.tdb.url, DATA_DIR: h.dir, LOG_LEVEL: 'silent' };
    const neither = await runCli(['backtest'], env);
    expect(neither).toMatchObject({ code: 2 });
    expect(neither.stderr).toContain('give either --tape');
    const missing = await runCli(['backtest', '--tape', path.join(h.dir, 'no-such-tape')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-tape: no such file or directory');
    const unknown = await runCli(['backtest', '--tape', h.dir, '--sweep', 'NOPE=1,2'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('NOPE is not a setting');
    const badValue = await runCli(['backtest', '--tape', h.dir, '--sweep', 'RISK_PER_TRADE_PCT=1,1e3'], env);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/whalestack: config: RISK_PER_TRADE_PCT: .*\(sweep set RISK_PER_TRADE_PCT=1e3\)/);
    const empty = await runCli(['backtest', '--from-history', '--from', '2020-01-01', '--to', '2020-01-02'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("no stored klines between 2020-01-01T00:00Z and 2020-01-02T00:00Z: run 'whalestack backfill' first");
  }, 120_000);
});
