import { RestClientV5 } from 'bybit-api';
import type { Clock } from '../core/clock.js';
import { HistoryRecorder, type HistoryStep } from '../core/coin-liquidity.js';
import { LogSummary } from '../sinks/log-summary.js';
import type { Logger } from '../sinks/logger.js';
import type { TapeWriter } from '../sinks/tape-writer.js';
import { bootstrapAll } from '../streams/estimator-bootstrap.js';
import { RestPacer } from '../streams/rest-pacer.js';
import type { Config } from './config.js';
import type { Engine } from '../engine/engine.js';

/** Tape source of recorded estimator history (one record per symbol: the inputs the estimator was fed). */
export const HISTORY_TAPE_SOURCE = 'estimator-history';

export interface RecordedHistory {
  readonly symbol: string;
  readonly steps: readonly HistoryStep[];
}

/**
 * Rebuilds each new symbol's own liquidation estimate from Bybit REST open-interest history and klines
 * (ESTIMATOR_BOOTSTRAP_DAYS, 0 = off), paced at BYBIT_REST_REQUESTS_PER_SEC on one shared pacer, then hands
 * the recorded inputs to the coin's actor and writes them to the tape, so a replay rebuilds the same estimate
 * at the same instant. Runs in the background; a failure leaves that coin on live data only.
 */
export class EstimatorBootstrapper {
  private readonly done = new Set<string>();
  private readonly pacer: RestPacer;
  private readonly client: RestClientV5;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly engine: Engine,
    private readonly tape: TapeWriter | undefined,
    pacer?: RestPacer,
  ) {
    this.pacer = pacer ?? new RestPacer(clock, { limit: config.bybitRestRequestsPerSec, windowMs: 1000, timerName: 'bootstrap-pacer' });
    this.client = new RestClientV5({ baseUrl: config.bybitRestUrl }, { timeout: 10_000 });
  }

  /** Bootstraps the symbols not done yet (after each instrument list); runs are serialised. */
  add(symbols: readonly string[]): void {
    if (this.config.estimatorBootstrapDays === 0 || this.stopped) return;
    const todo = symbols.filter((s) => !this.done.has(s));
    if (todo.length === 0) return;
    for (const s of todo) this.done.add(s);
    this.running = this.running.then(() => this.run(todo));
  }

  stop(): void {
    this.stopped = true;
    this.pacer.close('shutting down');
  }

  private async run(symbols: readonly string[]): Promise<void> {
    if (this.stopped) return;
    const started = this.clock.now();
    this.log.info({ symbols: symbols.length, days: this.config.estimatorBootstrapDays }, 'estimator bootstrap from Bybit REST history started');
    const result = await bootstrapAll(symbols, (s) => new HistoryRecorder(s), {
      client: this.client,
      pacer: this.pacer,
      clock: this.clock,
      lookbackMs: this.config.estimatorBootstrapDays * 86_400_000,
      intervalTime: '1h',
      baseUrl: this.config.bybitRestUrl,
    });
    if (this.stopped) return;
    for (const [symbol, recorder] of result.estimators) {
      const record: RecordedHistory = { symbol, steps: recorder.steps };
      this.tape?.write({ t: this.clock.now(), s: HISTORY_TAPE_SOURCE, k: 'history', d: JSON.stringify(record) });
      this.engine.history(symbol, recorder.steps);
    }
    // One line per symbol would be hundreds when a history route is missing: the first few, then counts by reason.
    const failures = new LogSummary(this.log, 'estimator bootstrap failures', { firstLines: 5 });
    const byReason: Record<string, number> = {};
    for (const e of result.errors) {
      byReason[e.reason] = (byReason[e.reason] ?? 0) + 1;
      failures.line({ symbol: e.symbol, reason: e.reason, err: e.message }, 'estimator bootstrap failed for a symbol; it runs on live data only');
    }
    failures.flush();
    this.log.info(
      { ok: result.estimators.size, failed: result.errors.length, failedByReason: byReason, notStarted: result.notStarted.length, seconds: (this.clock.now() - started) / 1000, stopped: result.stoppedReason },
      'estimator bootstrap finished',
    );
  }
}

/** Replay: applies a recorded history record to the engine. */
export function replayHistory(body: string, engine: Engine): boolean {
  let rec: RecordedHistory;
  try {
    rec = JSON.parse(body) as RecordedHistory;
  } catch {
    return false;
  }
  if (typeof rec.symbol !== 'string' || !Array.isArray(rec.steps)) return false;
  engine.history(rec.symbol, rec.steps);
  return true;
}
