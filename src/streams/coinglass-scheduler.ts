import type { Clock } from '../core/clock.js';
import type { HeatmapSnapshot } from '../core/heatmap.js';
import { CoinGlassError, type CoinGlassRateLimit } from './coinglass-client.js';
import { COINGLASS_HEATMAP_RANGES, type CoinGlassHeatmapRange } from './coinglass-schemas.js';
import { TokenBucket } from './token-bucket.js';

/**
 * Highest priority first: validation before a trade, spike-triggered refresh, the top-ranked and armed coins'
 * signal ranges (every sweep interval, whatever the budget), then the background sweep of everything else.
 */
export const REFRESH_LANES = ['pre-trade', 'spike', 'top', 'sweep'] as const;
export type RefreshLane = (typeof REFRESH_LANES)[number];

/** One heatmap fetch; rejects with `CoinGlassError` (anything else counts as a non-retryable failure). */
export type FetchHeatmap = (coin: string, range: CoinGlassHeatmapRange, lane: RefreshLane) => Promise<HeatmapSnapshot>;

export interface RankedCoin {
  readonly coin: string;
  /** 1 = best. Unranked coins can be given Infinity. */
  readonly rank: number;
  /** Top-ranked or armed: its `priorityRanges` are refreshed every sweep interval in the `top` lane. */
  readonly priority?: boolean;
}

/** Share of (coin × range) pairs whose latest reply is at most `maxAgeMs` old. */
export interface SchedulerCoverage {
  readonly maxAgeMs: number;
  readonly pairs: number;
  readonly fresh: number;
  /** fresh / pairs (0 with no pairs). */
  readonly share: number;
  /** The same over the priority coins' priority ranges. */
  readonly priorityPairs: number;
  readonly priorityFresh: number;
  readonly priorityShare: number;
}

export interface CoinGlassSchedulerOptions {
  readonly clock: Clock;
  /** No key (undefined or blank) → disabled: `start()` is a no-op and `status` says why. Not stored. */
  readonly apiKey: string | undefined;
  readonly fetchHeatmap: FetchHeatmap;
  /** Requests per minute of the plan until the server sends `API-KEY-MAX-LIMIT`. Default 1200 (Professional). */
  readonly planRequestsPerMinute?: number;
  /** Share of the limit we use, leaving room for other tools on the key. Default 0.9. */
  readonly budgetFraction?: number;
  /** Default 60 000. */
  readonly windowMs?: number;
  /** Ranges swept per coin. Default every CoinGlass heatmap range. */
  readonly ranges?: readonly CoinGlassHeatmapRange[];
  /** Ranges refreshed first for priority coins (the signal ranges CoinGlass serves). Default 7d and 30d. */
  readonly priorityRanges?: readonly CoinGlassHeatmapRange[];
  /**
   * Period of the priority coins' refresh. Default 0.8 × `sweepIntervalMs` (4 min): refetched every 4 minutes,
   * a priority pair is never older than the 5-minute freshness rule, latency included.
   */
  readonly priorityIntervalMs?: number;
  /** A sweep round starts at most this often and refetches every pair. Default 300 000 (5 min). */
  readonly sweepIntervalMs?: number;
  /** Default 4. */
  readonly maxConcurrent?: number;
  /** Attempts per request on timeouts, network errors and 5xx. Default 3. 429s do not use attempts. */
  readonly maxAttempts?: number;
  /** Retry delay ceiling doubles from base to cap (equal jitter). Defaults 2 000 / 60 000. */
  readonly retryBaseMs?: number;
  readonly retryCapMs?: number;
  /** Pause after a 429 without Retry-After, doubling per consecutive 429. Defaults 10 000 / 120 000. */
  readonly rateLimitBaseMs?: number;
  readonly rateLimitCapMs?: number;
  /** Uniform [0, 1) for jitter; seed it in tests. Default Math.random. */
  readonly random?: () => number;
  readonly onSnapshot?: (snapshot: HeatmapSnapshot, lane: RefreshLane) => void;
  readonly onError?: (error: CoinGlassError | Error, coin: string, range: CoinGlassHeatmapRange, lane: RefreshLane) => void;
  /** Name of the clock timer. Default `coinglass-scheduler`. */
  readonly timerName?: string;
}

export type SchedulerState = 'disabled' | 'idle' | 'running' | 'halted' | 'stopped';

/** A request the scheduler refused or dropped. `reason` is stable (SCREAMING_SNAKE). */
export class CoinGlassSchedulerError extends Error {
  override readonly name = 'CoinGlassSchedulerError';
  constructor(readonly reason: 'DISABLED' | 'HALTED' | 'STOPPED', message: string) {
    super(message);
  }
}

export interface SchedulerBudget {
  readonly limitPerMinute: number;
  readonly usedInWindow: number;
  readonly windowMs: number;
  readonly inFlight: number;
  readonly queued: Readonly<Record<RefreshLane, number>>;
  /** Dispatching is paused until then after a 429 (0 when never). */
  readonly pausedUntilMs: number;
  readonly serverMaxPerMinute: number | undefined;
  readonly serverUsedInWindow: number | undefined;
}

export interface SchedulerStats {
  dispatched: Record<RefreshLane, number>;
  succeeded: number;
  failed: number;
  rateLimited: number;
  retried: number;
  /** Requests that joined one already queued or in flight for the same (coin, range). */
  deduped: number;
  servedFromCache: number;
  sweepRounds: number;
  hookErrors: number;
}

export interface PairFreshness {
  readonly coin: string;
  readonly range: CoinGlassHeatmapRange;
  readonly lastFetchedAt: number | undefined;
  readonly ageMs: number | undefined;
  readonly lastError: string | undefined;
}

interface Waiter {
  readonly resolve: (s: HeatmapSnapshot) => void;
  readonly reject: (e: Error) => void;
}

interface Job {
  readonly key: string;
  readonly coin: string;
  readonly range: CoinGlassHeatmapRange;
  lane: RefreshLane;
  readonly waiters: Waiter[];
  attempts: number;
  notBeforeMs: number;
}

const LANE_PRIORITY: Record<RefreshLane, number> = { 'pre-trade': 0, spike: 1, top: 2, sweep: 3 };
const keyOf = (coin: string, range: string): string => `${coin}\u0000${range}`;

/**
 * Paces CoinGlass heatmap fetches inside the plan's budget (a {@link TokenBucket}: never more than the limit
 * in any rolling window), serving lanes strictly by priority: queued pre-trade requests go before spike
 * refreshes, which go before the background sweep. The sweep works in rounds: every `sweepIntervalMs` it
 * queues every coin × range, by rank then staleness, skipping pairs another lane fetched in the last half interval, so
 * with enough budget each pair is refetched about every 5 minutes, and with too little every pair is still
 * reached (rounds just take longer). Requests for a (coin, range) already queued or in flight join it (and
 * lift it to the higher lane). A 429 pauses all dispatching (Retry-After, else exponential); a key or plan
 * refusal halts the scheduler, since retrying cannot help. All timing is on the injected clock.
 */
export class CoinGlassScheduler {
  private state: SchedulerState;
  private reason: string;
  private readonly bucket: TokenBucket;
  private readonly fraction: number;
  private readonly ranges: readonly CoinGlassHeatmapRange[];
  private readonly intervalMs: number;
  private readonly random: () => number;
  private readonly timerName: string;
  private readonly queues: Record<RefreshLane, Job[]> = { 'pre-trade': [], spike: [], top: [], sweep: [] };
  private readonly priorityRanges: readonly CoinGlassHeatmapRange[];
  private priorityCoins: readonly string[] = [];
  private nextTopAtMs = Number.NEGATIVE_INFINITY;
  private readonly queued = new Map<string, Job>();
  private readonly inFlight = new Map<string, Job>();
  private readonly fresh = new Map<string, { coin: string; range: CoinGlassHeatmapRange; atMs: number; snapshot: HeatmapSnapshot; lane: RefreshLane }>();
  private readonly lastErrors = new Map<string, { coin: string; range: CoinGlassHeatmapRange; message: string }>();
  private coins = new Map<string, number>();
  private nextRoundAtMs = Number.NEGATIVE_INFINITY;
  private pausedUntilMs = 0;
  private consecutive429 = 0;
  private serverMax: number | undefined;
  private serverUsed: number | undefined;
  private readonly counters: SchedulerStats = {
    dispatched: { 'pre-trade': 0, spike: 0, top: 0, sweep: 0 }, succeeded: 0, failed: 0, rateLimited: 0, retried: 0, deduped: 0,
    servedFromCache: 0, sweepRounds: 0, hookErrors: 0,
  };

  constructor(private readonly opts: CoinGlassSchedulerOptions) {
    this.fraction = opts.budgetFraction ?? 0.9;
    if (!(this.fraction > 0 && this.fraction <= 1)) throw new Error(`CoinGlassScheduler: budgetFraction must be in (0, 1], got ${this.fraction}`);
    this.bucket = new TokenBucket(this.limitFrom(opts.planRequestsPerMinute ?? 1200), opts.windowMs ?? 60_000);
    this.ranges = opts.ranges ?? COINGLASS_HEATMAP_RANGES;
    this.priorityRanges = (opts.priorityRanges ?? ['7d', '30d']).filter((r) => this.ranges.includes(r));
    this.intervalMs = opts.sweepIntervalMs ?? 300_000;
    this.random = opts.random ?? Math.random;
    this.timerName = opts.timerName ?? 'coinglass-scheduler';
    const enabled = (opts.apiKey ?? '').trim() !== '';
    this.state = enabled ? 'idle' : 'disabled';
    this.reason = enabled ? 'not started' : 'no COINGLASS_API_KEY: CoinGlass heatmaps are off (the own estimate still runs)';
  }

  get status(): { readonly state: SchedulerState; readonly reason: string } {
    return { state: this.state, reason: this.reason };
  }

  /** Starts dispatching (queued requests included). No-op when disabled or halted. */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.state = 'running';
    this.reason = 'running';
    this.pump();
  }

  /** Stops dispatching and rejects queued requests (STOPPED); replies already in flight still resolve theirs. */
  stop(): void {
    if (this.state === 'disabled') return;
    this.state = 'stopped';
    this.reason = 'stopped';
    this.opts.clock.cancelTimer(this.timerName);
    this.dropQueued(() => new CoinGlassSchedulerError('STOPPED', 'CoinGlass scheduler stopped'));
  }

  /** The sweep universe with ranks (replaces the previous one; takes effect from the next round). */
  setCoins(coins: readonly RankedCoin[]): void {
    this.coins = new Map(coins.map((c) => [c.coin, c.rank]));
    const priority = coins.filter((c) => c.priority === true).sort((a, b) => a.rank - b.rank || (a.coin < b.coin ? -1 : a.coin > b.coin ? 1 : 0));
    const changed = priority.length !== this.priorityCoins.length || priority.some((c, i) => c.coin !== this.priorityCoins[i]);
    this.priorityCoins = priority.map((c) => c.coin);
    // A coin that just entered the top gets its signal ranges now, not at the next top round.
    if (changed) this.nextTopAtMs = Number.NEGATIVE_INFINITY;
    this.pump();
  }

  /**
   * Coverage: the share of (coin × range) pairs, over the sweep universe, whose latest reply is at most
   * `maxAgeMs` old (default 5 min, the founder's freshness rule), and the same over the priority pairs.
   */
  coverage(maxAgeMs = 300_000): SchedulerCoverage {
    const now = this.opts.clock.now();
    const isFresh = (coin: string, range: CoinGlassHeatmapRange) => {
      const at = this.fresh.get(keyOf(coin, range))?.atMs;
      return at !== undefined && now - at <= maxAgeMs;
    };
    let pairs = 0;
    let fresh = 0;
    for (const coin of this.coins.keys()) {
      for (const range of this.ranges) {
        pairs++;
        if (isFresh(coin, range)) fresh++;
      }
    }
    let priorityPairs = 0;
    let priorityFresh = 0;
    for (const coin of this.priorityCoins) {
      for (const range of this.priorityRanges) {
        priorityPairs++;
        if (isFresh(coin, range)) priorityFresh++;
      }
    }
    return {
      maxAgeMs, pairs, fresh, share: pairs > 0 ? fresh / pairs : 0,
      priorityPairs, priorityFresh, priorityShare: priorityPairs > 0 ? priorityFresh / priorityPairs : 0,
    };
  }

  /**
   * Fetches (coin, range) in `lane`, or joins the same request already queued or in flight. With
   * `maxAgeMs`, a snapshot at most that old is returned at once without a request. The promise is marked
   * handled, so fire-and-forget spike refreshes cannot crash the process on rejection.
   */
  request(coin: string, range: CoinGlassHeatmapRange, lane: RefreshLane, options: { maxAgeMs?: number } = {}): Promise<HeatmapSnapshot> {
    const key = keyOf(coin, range);
    const cached = this.fresh.get(key);
    let promise: Promise<HeatmapSnapshot>;
    if (this.state === 'disabled' || this.state === 'halted' || this.state === 'stopped') {
      const reason = this.state === 'disabled' ? 'DISABLED' : this.state === 'halted' ? 'HALTED' : 'STOPPED';
      promise = Promise.reject(new CoinGlassSchedulerError(reason, `CoinGlass scheduler ${this.state}: ${this.reason}`));
    } else if (cached !== undefined && options.maxAgeMs !== undefined && this.opts.clock.now() - cached.atMs <= options.maxAgeMs) {
      this.counters.servedFromCache++;
      promise = Promise.resolve(cached.snapshot);
    } else {
      promise = new Promise<HeatmapSnapshot>((resolve, reject) => this.enqueue(coin, range, lane, { resolve, reject }));
    }
    promise.catch(() => undefined);
    return promise;
  }

  /** Every range of `coin` (the spike refresh). */
  requestCoin(coin: string, lane: RefreshLane, options: { maxAgeMs?: number } = {}): Promise<HeatmapSnapshot[]> {
    const all = Promise.all(this.ranges.map((r) => this.request(coin, r, lane, options)));
    all.catch(() => undefined);
    return all;
  }

  /**
   * Server rate-limit headers: `API-KEY-MAX-LIMIT` resizes the budget (× budgetFraction); `API-KEY-USE-LIMIT`
   * above our own count means someone else uses the key, and the difference is spent from our bucket.
   */
  noteServerLimits(limit: Pick<CoinGlassRateLimit, 'maxPerMinute' | 'usedInWindow'>): void {
    const now = this.opts.clock.now();
    if (limit.maxPerMinute !== undefined && limit.maxPerMinute > 0) {
      this.serverMax = limit.maxPerMinute;
      this.bucket.setLimit(this.limitFrom(limit.maxPerMinute));
    }
    if (limit.usedInWindow !== undefined) {
      this.serverUsed = limit.usedInWindow;
      const extra = Math.min(limit.usedInWindow - this.bucket.used(now), this.bucket.limit);
      if (extra > 0) this.bucket.spend(extra, now);
    }
    this.pump();
  }

  lastFetchedAt(coin: string, range: CoinGlassHeatmapRange): number | undefined {
    return this.fresh.get(keyOf(coin, range))?.atMs;
  }

  ageMs(coin: string, range: CoinGlassHeatmapRange): number | undefined {
    const at = this.lastFetchedAt(coin, range);
    return at === undefined ? undefined : Math.max(0, this.opts.clock.now() - at);
  }

  latest(coin: string, range: CoinGlassHeatmapRange): HeatmapSnapshot | undefined {
    return this.fresh.get(keyOf(coin, range))?.snapshot;
  }

  /** Every swept pair plus any other pair ever fetched or failed. */
  freshness(): PairFreshness[] {
    const pairs = new Map<string, { coin: string; range: CoinGlassHeatmapRange }>();
    for (const coin of this.coins.keys()) for (const range of this.ranges) pairs.set(keyOf(coin, range), { coin, range });
    for (const [key, f] of this.fresh) pairs.set(key, { coin: f.coin, range: f.range });
    for (const [key, e] of this.lastErrors) pairs.set(key, { coin: e.coin, range: e.range });
    return [...pairs.entries()].map(([key, { coin, range }]) => ({
      coin, range, lastFetchedAt: this.lastFetchedAt(coin, range), ageMs: this.ageMs(coin, range), lastError: this.lastErrors.get(key)?.message,
    }));
  }

  budget(): SchedulerBudget {
    return {
      limitPerMinute: this.bucket.limit, usedInWindow: this.bucket.used(this.opts.clock.now()), windowMs: this.bucket.windowMs,
      inFlight: this.inFlight.size,
      queued: { 'pre-trade': this.queues['pre-trade'].length, spike: this.queues.spike.length, top: this.queues.top.length, sweep: this.queues.sweep.length },
      pausedUntilMs: this.pausedUntilMs, serverMaxPerMinute: this.serverMax, serverUsedInWindow: this.serverUsed,
    };
  }

  stats(): SchedulerStats {
    return { ...this.counters, dispatched: { ...this.counters.dispatched } };
  }

  private limitFrom(perMinute: number): number {
    const perWindow = (perMinute * (this.opts.windowMs ?? 60_000)) / 60_000;
    return Math.max(1, Math.floor(perWindow * this.fraction));
  }

  private enqueue(coin: string, range: CoinGlassHeatmapRange, lane: RefreshLane, waiter: Waiter | undefined): void {
    const key = keyOf(coin, range);
    const existing = this.inFlight.get(key) ?? this.queued.get(key);
    if (existing !== undefined) {
      if (waiter) existing.waiters.push(waiter);
      this.counters.deduped++;
      if (this.queued.has(key) && LANE_PRIORITY[lane] < LANE_PRIORITY[existing.lane]) {
        const q = this.queues[existing.lane];
        q.splice(q.indexOf(existing), 1);
        existing.lane = lane;
        this.queues[lane].push(existing);
      }
    } else {
      const job: Job = { key, coin, range, lane, waiters: waiter ? [waiter] : [], attempts: 0, notBeforeMs: 0 };
      this.queued.set(key, job);
      this.queues[lane].push(job);
    }
    this.pump();
  }

  /**
   * Every priority interval, queues the priority coins' priority ranges in the `top` lane (skipping pairs
   * fetched in the last half of it), independently of how long a full sweep round takes on a small budget.
   */
  private maybeStartTopRound(now: number): void {
    if (now < this.nextTopAtMs || this.priorityCoins.length === 0) return;
    this.nextTopAtMs = now + (this.opts.priorityIntervalMs ?? 0.8 * this.intervalMs);
    for (const coin of this.priorityCoins) {
      for (const range of this.priorityRanges) {
        const key = keyOf(coin, range);
        const at = this.fresh.get(key)?.atMs;
        if (this.inFlight.has(key) || (at !== undefined && now - at < (this.opts.priorityIntervalMs ?? 0.8 * this.intervalMs) / 2)) continue;
        const queued = this.queued.get(key);
        if (queued !== undefined) {
          // Lift a queued sweep job of this pair into the top lane.
          if (queued.lane === 'sweep') {
            this.queues.sweep.splice(this.queues.sweep.indexOf(queued), 1);
            queued.lane = 'top';
            this.queues.top.push(queued);
          }
          continue;
        }
        const job: Job = { key, coin, range, lane: 'top', waiters: [], attempts: 0, notBeforeMs: 0 };
        this.queued.set(key, job);
        this.queues.top.push(job);
      }
    }
  }

  /** Queues a sweep round when the previous one drained and the interval has passed. */
  private maybeStartRound(now: number): void {
    if (this.queues.sweep.length > 0 || now < this.nextRoundAtMs || this.coins.size === 0) return;
    this.nextRoundAtMs = now + this.intervalMs;
    this.counters.sweepRounds++;
    const coins = [...this.coins].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [coin] of coins) {
      const fetchedAt = (r: CoinGlassHeatmapRange) => this.lastFetchedAt(coin, r) ?? Number.MIN_SAFE_INTEGER;
      const staleFirst = [...this.ranges].sort((a, b) => fetchedAt(a) - fetchedAt(b));
      for (const range of staleFirst) {
        const key = keyOf(coin, range);
        const f = this.fresh.get(key);
        // A pair another lane (pre-trade, spike, top) fetched in the last half interval waits for the next round.
        // A pair the previous round fetched is always requeued: on a budget that just fits, the end of a round
        // lands shortly before the next one starts, and skipping it would leave it twice the interval old.
        const recentOtherLane = f !== undefined && f.lane !== 'sweep' && now - f.atMs < this.intervalMs / 2;
        if (this.queued.has(key) || this.inFlight.has(key) || recentOtherLane) continue;
        const job: Job = { key, coin, range, lane: 'sweep', waiters: [], attempts: 0, notBeforeMs: 0 };
        this.queued.set(key, job);
        this.queues.sweep.push(job);
      }
    }
  }

  /** Dispatches as much as budget, pause and concurrency allow, then arms the wake-up timer. */
  private pump(): void {
    if (this.state !== 'running') return;
    const clock = this.opts.clock;
    const now = clock.now();
    this.maybeStartTopRound(now);
    this.maybeStartRound(now);
    const maxConcurrent = this.opts.maxConcurrent ?? 4;
    while (this.inFlight.size < maxConcurrent && now >= this.pausedUntilMs) {
      const job = this.nextReady(now);
      if (job === undefined || !this.bucket.tryTake(now)) break;
      const q = this.queues[job.lane];
      q.splice(q.indexOf(job), 1);
      this.queued.delete(job.key);
      this.dispatch(job);
    }
    let wakeAt = Infinity;
    if (this.queued.size > 0 && this.inFlight.size < maxConcurrent) {
      let earliest = Infinity;
      for (const job of this.queued.values()) earliest = Math.min(earliest, job.notBeforeMs);
      wakeAt = Math.max(earliest, this.pausedUntilMs, this.bucket.nextAvailableAt(now));
    }
    if (this.coins.size > 0 && this.queues.sweep.length === 0) wakeAt = Math.min(wakeAt, this.nextRoundAtMs);
    if (this.priorityCoins.length > 0) wakeAt = Math.min(wakeAt, this.nextTopAtMs);
    if (wakeAt > now && Number.isFinite(wakeAt)) clock.setTimer(this.timerName, wakeAt, () => this.pump());
    else clock.cancelTimer(this.timerName);
  }

  /** First job, highest lane first, whose retry time has come; drops sweep jobs of coins left the universe. */
  private nextReady(now: number): Job | undefined {
    for (const lane of REFRESH_LANES) {
      const q = this.queues[lane];
      for (let i = 0; i < q.length; i++) {
        const job = q[i]!;
        if ((lane === 'sweep' || lane === 'top') && job.waiters.length === 0 && !this.coins.has(job.coin)) {
          q.splice(i--, 1);
          this.queued.delete(job.key);
          continue;
        }
        if (job.notBeforeMs <= now) return job;
      }
    }
    return undefined;
  }

  private dispatch(job: Job): void {
    this.inFlight.set(job.key, job);
    this.counters.dispatched[job.lane]++;
    let reply: Promise<HeatmapSnapshot>;
    try {
      reply = Promise.resolve(this.opts.fetchHeatmap(job.coin, job.range, job.lane));
    } catch (err) {
      reply = Promise.reject(err);
    }
    reply.then(
      (snapshot) => this.succeeded(job, snapshot),
      (err: unknown) => this.failed(job, err instanceof Error ? err : new Error(String(err))),
    );
  }

  private succeeded(job: Job, snapshot: HeatmapSnapshot): void {
    this.inFlight.delete(job.key);
    this.fresh.set(job.key, { coin: job.coin, range: job.range, atMs: this.opts.clock.now(), snapshot, lane: job.lane });
    this.lastErrors.delete(job.key);
    this.consecutive429 = 0;
    this.counters.succeeded++;
    for (const w of job.waiters) w.resolve(snapshot);
    this.safely(() => this.opts.onSnapshot?.(snapshot, job.lane));
    this.pump();
  }

  private failed(job: Job, err: Error): void {
    this.inFlight.delete(job.key);
    const now = this.opts.clock.now();
    const cg = err instanceof CoinGlassError ? err : undefined;
    if (cg?.kind === 'rate-limited' && this.state === 'running') {
      this.counters.rateLimited++;
      this.consecutive429++;
      const delay = cg.retryAfterMs ?? this.jitter(this.opts.rateLimitBaseMs ?? 10_000, this.opts.rateLimitCapMs ?? 120_000, this.consecutive429);
      this.pausedUntilMs = Math.max(this.pausedUntilMs, now + delay);
      this.requeueFront(job);
    } else if (cg?.retryable && this.state === 'running' && job.attempts + 1 < (this.opts.maxAttempts ?? 3)) {
      this.counters.retried++;
      job.attempts++;
      job.notBeforeMs = now + this.jitter(this.opts.retryBaseMs ?? 2_000, this.opts.retryCapMs ?? 60_000, job.attempts);
      this.requeueFront(job);
    } else {
      this.counters.failed++;
      this.lastErrors.set(job.key, { coin: job.coin, range: job.range, message: err.message });
      for (const w of job.waiters) w.reject(err);
      this.safely(() => this.opts.onError?.(err, job.coin, job.range, job.lane));
      if (cg?.fatal && this.state === 'running') this.halt(err.message);
    }
    this.pump();
  }

  /** Runs a caller hook; a hook that throws is counted, never allowed to break the scheduler. */
  private safely(hook: () => void): void {
    try {
      hook();
    } catch {
      this.counters.hookErrors++;
    }
  }

  /** Back to the head of its lane. Nothing else can be queued for this pair: requests join in-flight jobs. */
  private requeueFront(job: Job): void {
    this.queued.set(job.key, job);
    this.queues[job.lane].unshift(job);
  }

  private halt(reason: string): void {
    this.state = 'halted';
    this.reason = `halted: ${reason}`;
    this.opts.clock.cancelTimer(this.timerName);
    this.dropQueued(() => new CoinGlassSchedulerError('HALTED', `CoinGlass scheduler ${this.reason}`));
  }

  private dropQueued(error: () => Error): void {
    for (const lane of REFRESH_LANES) {
      for (const job of this.queues[lane]) for (const w of job.waiters) w.reject(error());
      this.queues[lane].length = 0;
    }
    this.queued.clear();
  }

  /** Equal jitter: half the ceiling fixed, half random, ceiling doubling per attempt from base to cap. */
  private jitter(baseMs: number, capMs: number, attempt: number): number {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
    const r = this.random();
    return Math.floor(ceiling / 2 + (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5) * (ceiling / 2));
  }
}
