import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../sinks/db/database.js';
import { readStoredHistory, storedHistorySymbols, type StoredHistory } from '../sinks/db/history-read.js';
import { migrate } from '../sinks/db/migrator.js';
import { runBacktest, type BacktestSource } from './backtest.js';
import { writeBacktestReport } from './backtest-report-file.js';
import { metricRows, toReportInput, type BacktestResult } from './backtest-result.js';
import { parseSweep, runSweep, SORT_METRICS, sortResults, sweepSets, sweepTable, type SortMetric } from './backtest-sweep.js';
import { ConfigError, loadConfig, type Config } from './config.js';

export const BACKTEST_USAGE = `usage: whalestack backtest (--tape <dir-or-file>... | --from-history --from <ISO> --to <ISO> [--symbols A,B])
                          [--json] [--out <file.json>] [--report <out.html>]
                          [--sweep KEY=a,b,c]... [--sort <metric>] [--workers N] [--config <file.json>]

Runs the strategy over a past market on a fresh paper account and reports every trade, win rate, average win and
loss, risk:reward, PnL (total and per coin), max drawdown, Sharpe and Sortino (daily returns, ×√365), exposure and
the signals refused by reason, against the founder's targets (win rate 65–80 %, R:R ≥ 2, max drawdown < 20 %).
The market is a recorded or simulated tape (--tape, as 'replay' plays it), or the stored history that
'backfill' pulled (--from-history: 1-min/1-h klines and open interest replayed as market events through the own
liquidation estimate; past heatmaps do not exist). Settings come from the environment as for 'run'.
--sweep runs every combination of the listed values of settings (environment names, e.g.
--sweep TRIGGER_OI_15M_PCT=3,4,5 --sweep ENTRY_STYLE=aggressive,conservative) on worker threads and prints a
table sorted by --sort (${SORT_METRICS.join(', ')}; default totalPnlUsd). Use '|' between values that contain commas.
--json prints the result as JSON on stdout (a sweep: all results, sorted); --out writes the same JSON to a file;
--report writes the report of the run (a sweep: its best run).`;

export const BACKTEST_OPTIONS = {
  tape: { type: 'string' as const, multiple: true },
  'from-history': { type: 'boolean' as const },
  symbols: { type: 'string' as const },
  from: { type: 'string' as const },
  to: { type: 'string' as const },
  json: { type: 'boolean' as const },
  out: { type: 'string' as const },
  report: { type: 'string' as const },
  sweep: { type: 'string' as const, multiple: true },
  sort: { type: 'string' as const },
  workers: { type: 'string' as const },
  config: { type: 'string' as const },
};

type Values = Record<string, string | boolean | string[] | undefined>;
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const usd = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : 'n/a');
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16) + 'Z';

/** `whalestack backtest`: returns the exit code (2 for bad arguments or settings, 1 when there is nothing to test). */
export async function backtestCommand(values: Values, env: NodeJS.ProcessEnv): Promise<number> {
  const fail = (msg: string, code = 2): number => {
    process.stderr.write(`whalestack backtest: ${msg}\n`);
    return code;
  };
  const tapes = list(values.tape);
  const fromHistory = values['from-history'] === true;
  if ((tapes.length > 0) === fromHistory) return fail('give either --tape <dir-or-file> or --from-history (with --from and --to)');
  const sort = (values.sort as string | undefined) ?? 'totalPnlUsd';
  if (!(SORT_METRICS as readonly string[]).includes(sort)) return fail(`--sort must be one of ${SORT_METRICS.join(', ')} (got ${sort})`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 256)) return fail(`--workers must be an integer 1..256 (got ${String(values.workers)})`);
  let sets: Record<string, string>[];
  try {
    sets = sweepSets(parseSweep(list(values.sweep)));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  const configFile = (values.config as string | undefined) ?? env.WHALESTACK_CONFIG ?? '';
  let config: Config | undefined;
  for (const set of sets) {
    try {
      const c = loadConfig({ ...env, ...set }, configFile);
      config ??= c;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const where = Object.keys(set).length > 0 ? ` (sweep set ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(' ')})` : '';
      for (const line of err.problems) process.stderr.write(`whalestack: config: ${line}${where}\n`);
      return 2;
    }
  }
  let source: BacktestSource;
  if (fromHistory) {
    const fromMs = Date.parse(String(values.from));
    const toMs = Date.parse(String(values.to));
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || !(toMs > fromMs)) return fail(`--from and --to must be ISO times with --to after --from (got ${String(values.from)} and ${String(values.to)})`);
    const loaded = await loadHistory(config!, values.symbols as string | undefined, fromMs, toMs);
    if (typeof loaded === 'string') return fail(loaded, 1);
    source = { kind: 'history', histories: loaded, fromMs, toMs };
  } else {
    const missing = tapes.find((t) => !existsSync(t));
    if (missing !== undefined) return fail(`--tape ${missing}: no such file or directory`);
    source = { kind: 'tape', paths: tapes };
  }

  let results: BacktestResult[];
  if (list(values.sweep).length === 0) results = [await runBacktest(source, config!)];
  else results = sortResults(await runSweep(sets.map((settings) => ({ source, env: { ...env }, configFile, settings })), { threads: workers }), sort as SortMetric);
  const best = results[0]!;
  if (best.events === 0) return fail(`no market events in ${fromHistory ? 'the stored history for that span' : tapes.join(', ')}`, 1);
  const json = results.length === 1 ? best : results;
  if (values.out !== undefined) writeFileSync(values.out as string, `${JSON.stringify(json)}\n`);
  if (values.report !== undefined) {
    const written = writeBacktestReport(values.report as string, toReportInput(best));
    process.stderr.write(`whalestack backtest: report written to ${written.path}\n`);
  }
  const text = values.json === true ? JSON.stringify(json) : results.length === 1 ? describeRun(best) : sweepTable(results, sort as SortMetric);
  // A pipe takes stdout asynchronously: the exit that follows must not cut a long JSON short.
  await new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()));
  return 0;
}

async function loadHistory(config: Config, symbolsArg: string | undefined, fromMs: number, toMs: number): Promise<StoredHistory[] | string> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), pgliteSharedBuffersMb: config.pgliteSharedBuffersMb, applicationName: 'whalestack-backtest' });
  try {
    await migrate(db, { settings: config.timescale, timescaledb: config.timescaledb });
    const symbols = symbolsArg !== undefined ? symbolsArg.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '') : await storedHistorySymbols(db, fromMs, toMs);
    if (symbols.length === 0) return `no stored klines between ${iso(fromMs)} and ${iso(toMs)}: run 'whalestack backfill' first`;
    const histories: StoredHistory[] = [];
    for (const s of symbols) {
      const h = await readStoredHistory(db, s, fromMs, toMs);
      if (h.bars.length === 0) return `no stored klines for ${s} between ${iso(fromMs)} and ${iso(toMs)}: run 'whalestack backfill --symbols ${s}' first`;
      histories.push(h);
    }
    return histories;
  } finally {
    await db.close();
  }
}

/** The human summary of one run: metrics against the founder's targets, per-coin PnL, refusals, every trade. */
export function describeRun(r: BacktestResult): string {
  const m = r.metrics;
  const lines = [
    `source      ${r.source}`,
    `period      ${iso(r.startMs)} → ${iso(r.endMs)} (${((r.endMs - r.startMs) / 86_400_000).toFixed(2)} days), ${r.events} events, ${r.signals} signals`,
    `equity      ${r.initialEquityUsd.toFixed(2)} → ${r.finalEquityUsd.toFixed(2)} USDT (paper)`,
  ];
  for (const row of metricRows(m)) {
    const v = row.key === 'totalPnlUsd' ? usd(row.value) : Number.isFinite(row.value) ? row.value.toFixed(row.unit === 'count' ? 0 : 2) : 'n/a';
    const target = row.target === undefined ? '' : `   target ${row.target}: ${row.meetsTarget ? 'met' : 'NOT met'}`;
    lines.push(`${row.label.padEnd(34)} ${v}${row.unit === '' || row.unit === 'count' ? '' : ` ${row.unit}`}${target}`);
  }
  lines.push(`per coin    ${Object.entries(m.pnlBySymbol).map(([s, p]) => `${s} ${usd(p)}`).join(', ') || '(no trades)'}`);
  lines.push(`refused     ${r.refusals.map((x) => `${x.reason} ${x.count}`).join(', ') || '(none)'}`);
  if (r.trades.length > 0) lines.push('trades');
  for (const t of r.trades) {
    lines.push(`  ${t.symbol.padEnd(12)} ${t.side.padEnd(5)} ${iso(t.openedAtMs)} → ${iso(t.closedAtMs)}  entry ${t.entryPrice.toPrecision(6)}  exit ${t.exitPrice.toPrecision(6)}  qty ${t.qty}  ${usd(t.pnlUsd)} USDT  ${t.reason}`);
  }
  lines.push(`digest      ${r.digest}`);
  return lines.join('\n');
}
