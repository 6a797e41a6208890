import type { Clock } from '../core/clock.js';
import {
  PAGE_LIMIT,
  SERIES_STEP_MS,
  planWindows,
  targetRange,
  type Coverage,
  type HistoryBar,
  type HistoryOpenInterestPoint,
  type HistorySeries,
} from '../core/history-plan.js';
import { HistoryFetchError, type BybitHistoryClient, type HistoryFailure } from './bybit-history.js';

/** Where the backfill reads coverage from and writes rows to (the CLI adapts the store to it). */
export interface HistoryStorePort {
  coverage(series: HistorySeries, symbol: string): Promise<Coverage | undefined>;
  /** Resolves once the rows are committed (the count is informational). */
  writeKlines(rows: readonly HistoryBar[]): Promise<number>;
  writeOpenInterest(rows: readonly HistoryOpenInterestPoint[]): Promise<number>;
}

/** A coin to backfill; `launchTimeMs` (from the instrument list) bounds how far back there can be data. */
export interface BackfillSymbol {
  readonly symbol: string;
  readonly launchTimeMs?: number;
}

export interface BackfillSettings {
  /** Hourly klines for this many days back. 0 = none. */
  readonly hourDays: number;
  /** Minute klines for this many days back. 0 = none. */
  readonly minuteDays: number;
  /** Open interest (5 min and 1 h) as far back as Bybit serves it, at most this many requests per series and run. 0 = none. */
  readonly oiMaxPages: number;
}

export interface BackfillOptions extends BackfillSettings {
  readonly client: BybitHistoryClient;
  readonly store: HistoryStorePort;
  readonly clock: Clock;
  /** Coins in flight at once. Default 4; the pacer caps the request rate anyway. */
  readonly concurrency?: number;
  /** Aborting stops after the rows already fetched are written; nothing half-written, nothing duplicated. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: BackfillProgress) => void;
}

export interface BackfillProgress {
  readonly symbolsTotal: number;
  readonly symbolsDone: number;
  readonly symbolsFailed: number;
  /**
   * Rows committed to the store (idempotently: a row already there is skipped, not duplicated). Not the
   * driver's inserted count, which TimescaleDB under-reports for an insert that spans chunks.
   */
  readonly rowsWritten: number;
  /** Rows received from Bybit (inside the windows asked for). */
  readonly rowsFetched: number;
  readonly requests: number;
  readonly rateLimited: number;
}

export interface BackfillError {
  readonly symbol: string;
  readonly series: string;
  readonly reason: HistoryFailure | 'STORE';
  readonly message: string;
}

export interface BackfillResult {
  readonly progress: BackfillProgress;
  readonly errors: readonly BackfillError[];
  /** True when the signal stopped the run before every coin was done. */
  readonly interrupted: boolean;
  /** Why the whole run stopped early (IP ban, store failure); undefined otherwise. */
  readonly stoppedReason: string | undefined;
  /** Series whose open-interest history hit `oiMaxPages` this run (the next run goes further back). */
  readonly capped: number;
}

const DAY_MS = 86_400_000;

function seriesName(s: HistorySeries): string {
  return s.kind === 'kline' ? `kline ${s.interval}` : `open-interest ${s.interval}`;
}

/**
 * Brings the store's history of every coin up to date: per coin, hourly and minute klines over their lookback
 * and open interest (5 min, 1 h) back to the listing, fetching only what the store lacks at either end of its
 * covered range (see core/history-plan.ts for why an interruption can only leave gaps at the ends). A failing
 * coin is recorded and the run goes on; an IP ban or a store failure stops the run. Never rejects.
 */
export async function runBackfill(symbols: readonly BackfillSymbol[], o: BackfillOptions): Promise<BackfillResult> {
  const queue = [...new Map(symbols.map((s) => [s.symbol, s])).values()];
  const counts = { symbolsTotal: queue.length, symbolsDone: 0, symbolsFailed: 0, rowsWritten: 0, rowsFetched: 0 };
  const progress = (): BackfillProgress => ({ ...counts, requests: o.client.stats.requests, rateLimited: o.client.stats.rateLimited });
  const report = (): void => {
    try {
      o.onProgress?.(progress());
    } catch {
      // A broken progress display must not stop a backfill.
    }
  };
  const errors: BackfillError[] = [];
  let stoppedReason: string | undefined;
  let capped = 0;
  const halted = (): boolean => stoppedReason !== undefined || o.signal?.aborted === true;

  const runSeries = async (coin: BackfillSymbol, series: HistorySeries): Promise<void> => {
    const stepMs = SERIES_STEP_MS[series.interval];
    const now = o.clock.now();
    const launch = coin.launchTimeMs ?? 0;
    const lookbackFrom = series.kind === 'oi' ? launch : now - (series.interval === '60' ? o.hourDays : o.minuteDays) * DAY_MS;
    const target = targetRange(Math.max(lookbackFrom, launch), now, stepMs);
    if (target === undefined) return;
    const covered = await o.store.coverage(series, coin.symbol);
    const limit = series.kind === 'kline' ? PAGE_LIMIT.kline : PAGE_LIMIT.oi;
    let tailEnded = false;
    let pages = 0;
    for (const window of planWindows(covered, target, stepMs, limit)) {
      if (halted()) return;
      if (window.part === 'tail' && tailEnded) continue;
      if (series.kind === 'oi' && o.oiMaxPages > 0 && pages >= o.oiMaxPages) {
        capped++;
        return;
      }
      pages++;
      let fetched: number;
      let write: () => Promise<number>;
      if (series.kind === 'kline') {
        const rows = await o.client.klines(coin.symbol, series.interval, window, o.signal);
        fetched = rows.length;
        write = () => o.store.writeKlines(rows);
      } else {
        const { points } = await o.client.openInterest(coin.symbol, series.interval, window, o.signal);
        fetched = points.length;
        write = () => o.store.writeOpenInterest(points);
      }
      // An empty tail window: Bybit has nothing older (before the listing, or its history ends here).
      if (fetched === 0) {
        if (window.part === 'tail') tailEnded = true;
        continue;
      }
      counts.rowsFetched += fetched;
      try {
        await write();
        counts.rowsWritten += fetched;
      } catch (err) {
        throw new StoreError(err instanceof Error ? err.message : String(err));
      }
      report();
    }
  };

  const allSeries: HistorySeries[] = [
    ...(o.hourDays > 0 ? [{ kind: 'kline', interval: '60' } as const] : []),
    ...(o.minuteDays > 0 ? [{ kind: 'kline', interval: '1' } as const] : []),
    ...(o.oiMaxPages > 0 ? [{ kind: 'oi', interval: '1h' } as const, { kind: 'oi', interval: '5min' } as const] : []),
  ];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!halted() && next < queue.length) {
      const coin = queue[next++] as BackfillSymbol;
      let failed = false;
      for (const series of allSeries) {
        if (halted()) break;
        try {
          await runSeries(coin, series);
        } catch (err) {
          if (err instanceof HistoryFetchError && err.reason === 'STOPPED' && halted()) break;
          const reason = err instanceof HistoryFetchError ? err.reason : 'STORE';
          const message = err instanceof Error ? err.message : String(err);
          errors.push({ symbol: coin.symbol, series: seriesName(series), reason, message });
          failed = true;
          if (reason === 'IP_BANNED' || reason === 'STORE' || reason === 'STOPPED') {
            stoppedReason ??= message;
            break;
          }
        }
      }
      if (halted() && !failed) break;
      if (failed) counts.symbolsFailed++;
      else counts.symbolsDone++;
      report();
    }
  };
  const concurrency = Math.max(1, Math.floor(o.concurrency ?? 4));
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  report();
  const interrupted = o.signal?.aborted === true && counts.symbolsDone + counts.symbolsFailed < queue.length;
  return { progress: progress(), errors, interrupted, stoppedReason, capped };
}

class StoreError extends Error {
  override readonly name = 'StoreError';
}
