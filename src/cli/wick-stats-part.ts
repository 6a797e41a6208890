import type { WickStatsLoaded } from '../actors/execution-state.js';
import { computeWickStats, historicalWickFraction, type WickStats } from '../core/wick-stats.js';
import { historySymbols, loadHourlyBars } from '../sinks/db/history-reads.js';
import type { DbSession } from '../sinks/db/database.js';
import type { Logger } from '../sinks/logger.js';
import type { HistoryStatsSettings } from './config.js';
import type { DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';

/**
 * Per-coin wick statistics computed from the store's hourly history, for `GET /symbols/:symbol` and the trade
 * plan's wick stop. Loaded one coin at a time (a year of hourly bars is ~9k rows), never on the hot path.
 */
export class WickStatsBook {
  private readonly stats = new Map<string, WickStats>();

  constructor(private readonly settings: HistoryStatsSettings) {}

  get(symbol: string): WickStats | undefined {
    return this.stats.get(symbol);
  }

  get size(): number {
    return this.stats.size;
  }

  /** Recomputes every coin with history since now − WICK_STATS_DAYS; returns how many coins it read. */
  async refresh(db: DbSession, nowMs: number): Promise<number> {
    const since = nowMs - this.settings.wickStatsDays * 86_400_000;
    const symbols = await historySymbols(db);
    for (const symbol of symbols) {
      const bars = await loadHourlyBars(db, symbol, since);
      if (bars.length > 0) this.stats.set(symbol, computeWickStats(bars, this.settings.wickExcursionHours));
    }
    return symbols.length;
  }

  /** The execution actor's message for one coin: max wick against each direction, or undefined below WICK_STATS_MIN_DAYS. */
  message(symbol: string): WickStatsLoaded | undefined {
    const s = this.stats.get(symbol);
    if (s === undefined) return undefined;
    const { wickStopTimeframe: tf, wickStatsMinDays } = this.settings;
    const minBars = wickStatsMinDays * 24;
    return {
      kind: 'wick-stats',
      symbol,
      longFraction: historicalWickFraction(s, 'LONG', tf, minBars),
      shortFraction: historicalWickFraction(s, 'SHORT', tf, minBars),
      basis: `historical max ${tf} wick against the trade over ${Math.round(s.hourlyBars / 24)} days of hourly bars`,
    };
  }

  messages(): WickStatsLoaded[] {
    return [...this.stats.keys()].flatMap((symbol) => this.message(symbol) ?? []);
  }

  /** JSON for `GET /symbols/:symbol`. */
  describe(symbol: string): Record<string, unknown> | null {
    const s = this.stats.get(symbol);
    if (s === undefined) return null;
    const m = this.message(symbol);
    return {
      definition: 'up wick = (high − max(open, close)) / open × 100; down wick = (min(open, close) − low) / open × 100',
      hourlyBars: s.hourlyBars,
      from: new Date(s.fromMs).toISOString(),
      to: new Date(s.toMs).toISOString(),
      timeframes: s.timeframes,
      worstAdverseExcursion: s.excursion,
      wickStop: { timeframe: this.settings.wickStopTimeframe, minDays: this.settings.wickStatsMinDays, longPct: pct(m?.longFraction), shortPct: pct(m?.shortFraction) },
    };
  }
}

const pct = (f: number | undefined): number | null => (f === undefined ? null : f * 100);

/**
 * The daemon part: computes the book once the store is migrated, hands it to trading once trading is up, and
 * refreshes every WICK_STATS_REFRESH_MINUTES. A database error is logged and retried at the next refresh.
 */
export function wickStatsPart(w: DaemonWiring): Part {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  return {
    name: 'wick statistics',
    start() {
      const storage = w.storage;
      if (storage === undefined) return;
      const book = new WickStatsBook(w.config.historyStats);
      w.wickStats = book;
      const refresh = async (log: Logger): Promise<void> => {
        try {
          const started = Date.now();
          const coins = await book.refresh(storage.db, w.clock.now());
          if (stopped) return;
          for (const m of book.messages()) w.execution?.ref.tell(m);
          log.info({ coins, withStats: book.size, ms: Date.now() - started }, 'wick statistics refreshed from the stored history');
        } catch (err) {
          log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not compute wick statistics; retrying at the next refresh');
        }
      };
      storage.migrated
        .then(() => refresh(w.log))
        .then(async () => {
          // Trading may finish loading its state after the first refresh: hand it the book once it is up.
          await w.executionStarted;
          if (!stopped) for (const m of book.messages()) w.execution?.ref.tell(m);
          if (!stopped) timer = setInterval(() => void refresh(w.log), w.config.historyStats.wickStatsRefreshMs).unref();
        })
        .catch(() => undefined);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
    },
  };
}
