import type { Clock } from '../core/clock.js';
import type { Database } from '../sinks/db/database.js';
import type { Logger } from '../sinks/logger.js';
import { BybitHistoryClient } from '../streams/bybit-history.js';
import { runBackfill, type BackfillResult, type BackfillSettings, type BackfillSymbol } from '../streams/history-backfill.js';
import type { LinearInstrument } from '../streams/bybit-instruments.js';
import { historyStorePort } from './backfill.js';
import { restPacerOf, type DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';

export interface HistoryUpdaterOptions extends BackfillSettings {
  readonly clock: Clock;
  readonly log: Logger;
  readonly client: BybitHistoryClient;
  /** The store once it is open and migrated; undefined skips a round. */
  readonly store: () => Promise<Database | undefined>;
  /** The live instrument list (empty until discovery answered: the round is retried soon). */
  readonly symbols: () => readonly BackfillSymbol[];
  readonly intervalMs: number;
  /** First round this long after start, so start-up (discovery, estimator bootstrap) goes first. */
  readonly firstDelayMs: number;
  /** Coins in flight at once. Default 1: history is background work. */
  readonly concurrency?: number;
}

const TIMER = 'history-updater';

/**
 * Keeps the stored Bybit history current while the daemon runs: every `intervalMs` the same backfill as
 * `whalestack backfill` over the live instrument list, which after the first full run fetches only the bars
 * closed since the last round (one request per coin and series). It runs on the clock's timers and the shared
 * REST pacer, off the hot path; a failing round is logged and the next one tries again.
 */
export class HistoryUpdater {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last finished round, for logs and tests. */
  last: BackfillResult | undefined;
  rounds = 0;

  constructor(private readonly o: HistoryUpdaterOptions) {}

  start(): void {
    this.o.clock.setTimer(TIMER, this.o.clock.now() + this.o.firstDelayMs, () => this.tick());
  }

  /** Stops the timer and any round in flight (what it fetched so far is already written). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.cancelTimer(TIMER);
    this.abort.abort();
    await this.running;
  }

  /** One round now (joins a round in flight). Never rejects. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private tick(): void {
    void this.runOnce();
  }

  private async round(): Promise<void> {
    let nextInMs = this.o.intervalMs;
    try {
      const symbols = this.o.symbols();
      const db = await this.o.store();
      if (symbols.length === 0 || db === undefined) {
        nextInMs = Math.min(this.o.intervalMs, 60_000);
        return;
      }
      const started = this.o.clock.now();
      const result = await runBackfill(symbols, { ...this.o, store: historyStorePort(db), signal: this.abort.signal, concurrency: this.o.concurrency ?? 1 });
      this.last = result;
      this.rounds++;
      if (this.stopped) return;
      const p = result.progress;
      const fields = { coins: p.symbolsTotal, failed: p.symbolsFailed, rowsStored: p.rowsWritten, requests: p.requests, rateLimited: p.rateLimited, seconds: (this.o.clock.now() - started) / 1000 };
      if (result.errors.length > 0) this.o.log.warn({ ...fields, firstError: result.errors[0]?.message, stopped: result.stoppedReason }, 'history update finished with failures; the next round retries them');
      else this.o.log.info(fields, 'history update finished');
    } catch (err) {
      this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'history update failed; the next round retries');
    } finally {
      if (!this.stopped) this.o.clock.setTimer(TIMER, this.o.clock.now() + nextInMs, () => this.tick());
    }
  }
}

/**
 * The daemon part (HISTORY_UPDATE_MINUTES, 0 = off): the updater on the shared REST pacer, over the live
 * instrument list (the SYMBOLS allow-list applied), writing to the daemon's own store. Starting it only arms a
 * timer, so it never delays start-up.
 */
export function historyPart(w: DaemonWiring, instruments: () => readonly LinearInstrument[], firstDelayMs = 300_000): Part & { readonly updater: HistoryUpdater | undefined } {
  let updater: HistoryUpdater | undefined;
  return {
    name: 'history updater',
    get updater() {
      return updater;
    },
    start() {
      const { config } = w;
      if (config.history.updateMinutes === 0 || w.storage === undefined) return;
      const allow = config.symbols === undefined ? undefined : new Set(config.symbols);
      updater = new HistoryUpdater({
        ...config.history,
        clock: w.clock,
        log: w.log,
        client: new BybitHistoryClient({ baseUrl: config.bybitRestUrl, pacer: restPacerOf(w), clock: w.clock }),
        store: async () => {
          const storage = w.storage;
          if (storage === undefined || !w.storeOpen) return undefined;
          await storage.migrated;
          return storage.db;
        },
        symbols: () => instruments().filter((i) => allow === undefined || allow.has(i.symbol)).map((i) => ({ symbol: i.symbol, launchTimeMs: i.launchTime })),
        intervalMs: config.history.updateMinutes * 60_000,
        firstDelayMs,
      });
      updater.start();
      w.log.info({ everyMinutes: config.history.updateMinutes }, 'history updater armed');
    },
    stop: () => updater?.stop(),
  };
}
