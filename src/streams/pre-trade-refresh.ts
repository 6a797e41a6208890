import type { Clock } from '../core/clock.js';
import type { HeatmapSnapshot } from '../core/heatmap.js';
import type { CoinGlassScheduler } from './coinglass-scheduler.js';
import type { CoinGlassHeatmapRange } from './coinglass-schemas.js';

/** What one range of a pre-trade refresh ended with. */
export type RangeRefresh =
  | { readonly range: CoinGlassHeatmapRange; readonly status: 'cached'; readonly snapshot: HeatmapSnapshot; readonly ageMs: number }
  | { readonly range: CoinGlassHeatmapRange; readonly status: 'refreshed'; readonly snapshot: HeatmapSnapshot; readonly ageMs: number }
  | { readonly range: CoinGlassHeatmapRange; readonly status: 'failed'; readonly reason: string }
  | { readonly range: CoinGlassHeatmapRange; readonly status: 'timeout' };

/**
 * The answer to "is this coin's liquidation data fresh enough to trade on?". `ok` when every range is now at
 * most `maxAgeMs` old (served from cache or refetched); `partial` when some are; `timeout` when the deadline
 * passed first (replies that land later still reach the engine); `unavailable` when CoinGlass is off or halted.
 * The execution actor decides what to do with each (trade on the own estimate, wait, or refuse).
 */
export interface PreTradeOutcome {
  readonly symbol: string;
  readonly status: 'ok' | 'partial' | 'timeout' | 'unavailable';
  readonly ranges: readonly RangeRefresh[];
  /** From the call to the outcome, on the injected clock. */
  readonly elapsedMs: number;
}

export interface PreTradeRefreshOptions {
  readonly clock: Clock;
  readonly scheduler: CoinGlassScheduler;
  /** Data at most this old is used as is (the founder's rule: re-fetch if older than 5 minutes). Default 300 000. */
  readonly maxAgeMs?: number;
}

let seq = 0;

/**
 * The pre-trade lane's caller: `refreshForTrade(symbol, ranges, timeoutMs)` asks the scheduler, in its highest
 * lane, for every range older than `maxAgeMs`, and resolves with one outcome by the deadline. It never
 * rejects: every failure is a value in the outcome, so an execution actor can await it safely.
 */
export class PreTradeRefresher {
  private readonly maxAgeMs: number;

  constructor(private readonly opts: PreTradeRefreshOptions) {
    this.maxAgeMs = opts.maxAgeMs ?? 300_000;
  }

  refreshForTrade(symbol: string, ranges: readonly CoinGlassHeatmapRange[], timeoutMs: number): Promise<PreTradeOutcome> {
    const { clock, scheduler } = this.opts;
    const startedAt = clock.now();
    const state = scheduler.status.state;
    if (state === 'disabled' || state === 'halted' || state === 'stopped') {
      return Promise.resolve({
        symbol, status: 'unavailable', elapsedMs: 0,
        ranges: ranges.map((range) => ({ range, status: 'failed' as const, reason: `CoinGlass ${state}: ${scheduler.status.reason}` })),
      });
    }
    const results = new Map<CoinGlassHeatmapRange, RangeRefresh>();
    return new Promise<PreTradeOutcome>((resolve) => {
      const timer = `pre-trade:${symbol}:${++seq}`;
      let done = false;
      const finish = (timedOut: boolean) => {
        if (done) return;
        done = true;
        clock.cancelTimer(timer);
        const list = ranges.map((range) => results.get(range) ?? ({ range, status: 'timeout' } as const));
        const good = list.filter((r) => r.status === 'cached' || r.status === 'refreshed').length;
        const status = good === list.length ? 'ok' : timedOut && good === 0 ? 'timeout' : 'partial';
        resolve({ symbol, status, ranges: list, elapsedMs: clock.now() - startedAt });
      };
      clock.setTimer(timer, startedAt + Math.max(0, timeoutMs), () => finish(true));
      if (ranges.length === 0) finish(false);
      for (const range of ranges) {
        const cachedAt = scheduler.lastFetchedAt(symbol, range);
        scheduler.request(symbol, range, 'pre-trade', { maxAgeMs: this.maxAgeMs }).then(
          (snapshot) => {
            const refreshed = cachedAt === undefined || scheduler.lastFetchedAt(symbol, range) !== cachedAt;
            const ageMs = Math.max(0, clock.now() - (scheduler.lastFetchedAt(symbol, range) ?? snapshot.fetchedAt));
            results.set(range, { range, status: refreshed ? 'refreshed' : 'cached', snapshot, ageMs });
            if (results.size === ranges.length) finish(false);
          },
          (err: unknown) => {
            results.set(range, { range, status: 'failed', reason: err instanceof Error ? err.message : String(err) });
            if (results.size === ranges.length) finish(false);
          },
        );
      }
    });
  }
}
