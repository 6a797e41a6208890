#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LogSummary } from '../sinks/log-summary.js';
import { createCliLogger, createLogger, type Logger } from '../sinks/logger.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { engineSettings } from './engine-settings.js';
import { replayTape } from './replay.js';
import { replaySharded } from './replay-sharded.js';
import type { TapeIssue } from '../streams/tape-reader.js';
import type { SystemEvent } from '../actors/actor-system.js';
import type { EngineOutput } from '../engine/engine.js';
import { executionSettings } from './execution.js';
import { startDaemon } from './run.js';
import { DirLockedError } from './dir-lock.js';
import { dbLog } from './storage.js';
import { openDatabase } from '../sinks/db/database.js';
import { migrate } from '../sinks/db/migrator.js';
import path from 'node:path';
import { prepareDir } from './prepare-dir.js';
import { simulateCommand, SIMULATE_OPTIONS, SIMULATE_USAGE } from './simulate.js';
import { reportCommand, REPORT_OPTIONS, REPORT_USAGE } from './report.js';
import { backfillCommand, BACKFILL_OPTIONS, BACKFILL_USAGE } from './backfill.js';
import { backtestCommand, BACKTEST_OPTIONS, BACKTEST_USAGE } from './backtest-command.js';

interface Command {
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly positionals?: boolean;
  run(values: Record<string, string | boolean | undefined>, positionals: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

const CONFIG_OPTION = { config: { type: 'string' as const } };

const USAGE = `whalestack — liquidation-cluster hunter for Bybit USDT perpetuals

usage: whalestack <command> [options]

commands:
  run        live Bybit data into the engine (paper broker, embedded store by default)
  record     write raw Bybit frames to rotating compressed tapes
  replay     play tapes through the engine on a virtual clock and print a summary
  simulate   write a realistic simulated Bybit tape (N symbols, scripted pumps and dumps)
  backfill   pull a year of Bybit klines and open-interest history into the store (resumable)
  backtest   the strategy over tapes or stored history on paper: trades, win rate, PnL, drawdown, sweeps
  migrate    apply pending schema/ migrations to DATABASE_URL (or the embedded store) and exit
  report     render a saved backtest result (JSON) as a self-contained HTML report

'whalestack <command> --help' describes each command. Configuration comes from the environment
(see README); --config <file.json> adds a JSON file with the same names (secrets only from the environment).`;

/** Validates configuration and exits 2 with one line per problem before anything touches the network. */
function configOrExit(env: NodeJS.ProcessEnv, file: string | undefined): Config {
  try {
    return loadConfig(env, file ?? env.WHALESTACK_CONFIG);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.problems) process.stderr.write(`whalestack: config: ${line}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Checks (creating them if needed) the directories a command writes to; prints one line and returns 2 if one is unusable. */
function dirsUnusable(command: string, dirs: readonly (readonly [string | undefined, string])[]): number | undefined {
  for (const [dir, what] of dirs) {
    const problem = dir === undefined ? undefined : prepareDir(dir, what);
    if (problem !== undefined) {
      process.stderr.write(`whalestack ${command}: ${problem}\n`);
      return 2;
    }
  }
  return undefined;
}

/**
 * The first SIGINT/SIGTERM. Listen before starting anything: a signal that lands while the daemon is still
 * starting (the store opening, say) would otherwise kill it by default action, with no clean shutdown.
 */
function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** Waits for `signal`, then runs `close` once; resolves with the exit code and a final 'stopped' line. */
async function untilSignal(log: Logger, close: () => Promise<void>, signal: Promise<string> = nextSignal()): Promise<number> {
  const name = await signal;
  log.info({ signal: name }, 'shutting down');
  let code = 0;
  try {
    await close();
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'error during shutdown');
    code = 1;
  }
  log.info({ signal: name }, 'stopped');
  return code;
}

const COMMANDS: Record<string, Command> = {
  run: {
    usage: `usage: whalestack run [--record <dir>] [--config <file.json>]

Streams every Trading USDT linear perpetual from Bybit into per-symbol actors, detects spikes, and serves
/metrics, /healthz, /readyz and /symbols/:symbol on HTTP_HOST:HTTP_PORT. With --record, every raw frame is
also written to a tape in <dir> so the run can be replayed later. Stops cleanly on SIGINT/SIGTERM.`,
    options: { ...CONFIG_OPTION, record: { type: 'string' } },
    async run(values, _pos, env) {
      const config = configOrExit(env, values.config as string | undefined);
      const bad = dirsUnusable('run', [[config.dataDir, 'DATA_DIR'], [values.record as string | undefined, '--record']]);
      if (bad !== undefined) return bad;
      const log = createLogger(config.logLevel);
      const signal = nextSignal();
      const daemon = await startDaemon(config, log, { recordDir: values.record as string | undefined });
      return untilSignal(log, () => daemon.close(), signal);
    },
  },
  record: {
    usage: `usage: whalestack record [--out <dir>] [--duration <seconds>] [--config <file.json>]

Discovers symbols and writes every raw public frame with its receipt time to gzip JSON-Lines tapes in <dir>
(default DATA_DIR/tapes), rotating by TAPE_ROTATE_MB and TAPE_ROTATE_MINUTES. Runs until SIGINT/SIGTERM or
--duration seconds.`,
    options: { ...CONFIG_OPTION, out: { type: 'string' }, duration: { type: 'string' } },
    async run(values, _pos, env) {
      const config = configOrExit(env, values.config as string | undefined);
      const log = createCliLogger(config.logLevel);
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      if (duration !== undefined && !(duration > 0)) {
        process.stderr.write(`whalestack record: --duration must be a positive number of seconds (got ${String(values.duration)})\n`);
        return 2;
      }
      const dir = (values.out as string | undefined) ?? `${config.dataDir}/tapes`;
      const bad = dirsUnusable('record', [[config.dataDir, 'DATA_DIR'], [dir, '--out']]);
      if (bad !== undefined) return bad;
      const signal = nextSignal();
      const daemon = await startDaemon(config, log, { recordDir: dir, recordOnly: true });
      const done = untilSignal(log, async () => {
        await daemon.close();
        log.info({ stats: daemon.tape?.stats, files: daemon.tape?.files }, 'recording finished');
      }, signal);
      if (duration !== undefined) setTimeout(() => process.kill(process.pid, 'SIGTERM'), duration * 1000).unref();
      const code = await done;
      const stats = daemon.tape?.stats;
      process.stdout.write(`recorded ${stats?.records ?? 0} records to ${daemon.tape?.files.length ?? 0} file(s) in ${dir}\n`);
      return code;
    },
  },
  replay: {
    usage: `usage: whalestack replay <tape-file-or-dir>... [--speed <x>] [--shards <n>] [--json]

Plays tapes through the same decoder and actors as 'run' on a virtual clock and prints a summary (records,
frames, symbols, spikes, throughput, and a digest of every decision: equal digests mean identical output).
--speed 10 replays at ten times real time; the default 'max' is as fast as possible.
--shards 4 spreads the coins over 4 worker threads (1 = the same sharded replay on this thread); the digest
is the same for every shard count. Sharded replay does not paper-trade yet. Without --shards the replay
runs unsharded, exactly as 'run' decides (and trades when TRADING_MODE is not off).`,
    options: { speed: { type: 'string' }, shards: { type: 'string' }, json: { type: 'boolean' } },
    positionals: true,
    async run(values, positionals, env) {
      if (positionals.length === 0) {
        process.stderr.write('whalestack replay: give at least one tape file or directory\n');
        return 2;
      }
      const speedArg = (values.speed as string | undefined) ?? 'max';
      const speed = speedArg === 'max' ? Infinity : Number(speedArg);
      if (!(speed > 0)) {
        process.stderr.write(`whalestack replay: --speed must be 'max' or a positive number (got ${speedArg})\n`);
        return 2;
      }
      const shardsArg = values.shards as string | undefined;
      const shards = shardsArg === undefined ? undefined : /^[0-9]{1,3}$/.test(shardsArg) ? Number(shardsArg) : NaN;
      if (shards !== undefined && !(shards >= 1 && shards <= 64)) {
        process.stderr.write(`whalestack replay: --shards must be a whole number from 1 to 64 (got ${shardsArg})\n`);
        return 2;
      }
      if (shards !== undefined && Number.isFinite(speed)) {
        process.stderr.write('whalestack replay: --shards replays as fast as possible; drop --speed\n');
        return 2;
      }
      const config = configOrExit(env, undefined);
      if (shards !== undefined && config.trading.mode !== 'off') {
        process.stderr.write('whalestack replay: --shards replays the market engine only (no paper trading yet); replay without --shards to trade\n');
      }
      const log = createCliLogger(values.json ? 'silent' : config.logLevel);
      // A bit-flipped tape has an issue on nearly every line: the first ten, then a count (the summary has the total).
      const issues = new LogSummary(log, 'tape issues', { firstLines: 10 });
      const common = {
        ...engineSettings(config),
        onIssue: (issue: TapeIssue) => issues.line({ issue }, `tape: ${issue.kind} at ${issue.file}:${issue.line}: ${issue.message}`),
        onSystemEvent: (event: SystemEvent) => log.error({ event }, `actor ${event.id} ${event.kind === 'actor-stopped' ? 'stopped' : 'restarted'}: ${event.error}`),
        onOutput: (event: EngineOutput) => {
          if (event.kind === 'spike') log.info({ spike: event }, `spike on ${event.symbol}: ${event.reasons.join(', ')}`);
          if (event.kind === 'signal') log.info({ signal: event.signal }, `SIGNAL ${event.signal.direction} ${event.signal.symbol}`);
        },
      };
      const summary =
        shards === undefined
          ? await replayTape(positionals, { speed, ...common, ...(config.trading.mode !== 'off' ? { trading: executionSettings(config.trading, false) } : {}) })
          : await replaySharded(positionals, { ...common, shards, inProcess: shards === 1 });
      issues.flush();
      if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        const lines = [
          `records      ${summary.records}`,
          `frames       ${summary.frames} (${summary.badFrames} bad)`,
          `symbols      ${summary.symbols}`,
          `spikes       ${summary.spikes}`,
          `minute bars  ${summary.bars}`,
          `rankings     ${summary.rankings}`,
          `signals      ${summary.signals}`,
          `tape issues  ${summary.tapeIssues}`,
          `tape gaps    ${summary.tapeGaps} (${summary.framesNotRecorded} frames not recorded)`,
          `simulated    ${summary.simulatedSec.toFixed(1)} s in ${summary.wallSec.toFixed(2)} s wall`,
          `throughput   ${Math.round(summary.framesPerSec)} frames/s`,
          ...(summary.trading === null
            ? []
            : [`paper trades ${summary.trading.tradesClosed} closed, ${summary.trading.pnlUsd.toFixed(2)} USDT net, ${summary.trading.openPositions} open, equity ${summary.trading.equityUsd.toFixed(2)} USDT (${summary.trading.ordersSent} orders)`]),
          `digest       ${summary.outputDigest}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      return summary.records === 0 ? 1 : 0;
    },
  },
  migrate: {
    usage: `usage: whalestack migrate [--config <file.json>]

Applies pending migrations from schema/ in order, each in its own transaction, recording a checksum of each
file; refuses to run if an applied file was edited. Uses DATABASE_URL, or the embedded PGlite store under
DATA_DIR when it is unset. TimescaleDB features (hypertables, compression, retention, hourly aggregate) are
enabled when the extension is available and reported as skipped otherwise. 'run' migrates on start too.`,
    options: CONFIG_OPTION,
    async run(values, _pos, env) {
      const config = configOrExit(env, values.config as string | undefined);
      const bad = dirsUnusable('migrate', [[config.databaseUrl === undefined ? config.dataDir : undefined, 'DATA_DIR']]);
      if (bad !== undefined) return bad;
      const log = createCliLogger(config.logLevel);
      const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: path.join(config.dataDir, 'pglite'), pgliteSharedBuffersMb: config.pgliteSharedBuffersMb, applicationName: 'whalestack-migrate' });
      try {
        const report = await migrate(db, { log: dbLog(log), settings: config.timescale, timescaledb: config.timescaledb });
        process.stdout.write(
          `migrations: ${report.applied.length} applied now, ${report.skipped.length} TimescaleDB-only skipped; timescaledb ${report.timescaledb.available ? 'enabled' : `not available (${report.timescaledb.reason ?? 'plain PostgreSQL'})`}\n`,
        );
        return 0;
      } catch (err) {
        process.stderr.write(`whalestack migrate: ${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      } finally {
        await db.close();
      }
    },
  },
  backfill: {
    usage: BACKFILL_USAGE,
    options: BACKFILL_OPTIONS,
    async run(values, _pos, env) {
      const config = configOrExit(env, values.config as string | undefined);
      const bad = dirsUnusable('backfill', [[config.databaseUrl === undefined ? config.dataDir : undefined, 'DATA_DIR']]);
      if (bad !== undefined) return bad;
      return backfillCommand(config, values);
    },
  },
  simulate: {
    usage: SIMULATE_USAGE,
    options: SIMULATE_OPTIONS,
    async run(values) {
      return simulateCommand(values);
    },
  },
  report: {
    usage: REPORT_USAGE,
    options: REPORT_OPTIONS,
    async run(values) {
      return reportCommand(values);
    },
  },
  backtest: {
    usage: BACKTEST_USAGE,
    options: BACKTEST_OPTIONS,
    async run(values, _pos, env) {
      return backtestCommand(values, env);
    },
  },
};

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`whalestack: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: command.positionals ?? false, strict: true });
  } catch (err) {
    process.stderr.write(`whalestack ${name}: ${err instanceof Error ? err.message : String(err)}\n\n${command.usage}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals, env);
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // One line for the operator; the stack only when asked for (LOG_LEVEL=debug or trace). A directory lock
      // refusal is shown as itself, not wrapped in the name of the start-up part that raised it.
      const verbose = process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace';
      const locked = err instanceof DirLockedError ? err : err instanceof Error && err.cause instanceof DirLockedError ? err.cause : undefined;
      process.stderr.write(`whalestack: ${locked !== undefined ? locked.message : err instanceof Error ? (verbose ? (err.stack ?? err.message) : err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
