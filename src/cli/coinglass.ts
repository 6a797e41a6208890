import { Gauge, Histogram, type Registry } from 'prom-client';
import type { CoinEvaluated } from '../actors/messages.js';
import type { SourceDistance } from '../core/source-distance.js';
import type { Clock } from '../core/clock.js';
import { registerStatsGauges } from '../sinks/metrics.js';
import { redactUrl, type Logger } from '../sinks/logger.js';
import type { TapeWriter } from '../sinks/tape-writer.js';
import { LogSummary } from '../sinks/log-summary.js';
import type { OutageLog } from '../sinks/outage-log.js';
import { CoinGlassClient, CoinGlassError } from '../streams/coinglass-client.js';
import { CoinGlassScheduler } from '../streams/coinglass-scheduler.js';
import { COINGLASS_HEATMAP_RANGES, type CoinGlassHeatmapRange, type CoinMarket } from '../streams/coinglass-schemas.js';
import { PreTradeRefresher, type PreTradeOutcome } from '../streams/pre-trade-refresh.js';
import { marketCapsBySymbol, MARKET_CAP_PLANS } from './market-caps.js';
import { applyCoinInputs } from './liquidity-state.js';
import type { Config } from './config.js';
import type { Engine } from '../engine/engine.js';

/**
 * Ranges fetched from CoinGlass: every range it serves (12h, 24h, 3d, 7d, 30d, 90d, 180d, 1y). It has no 14d,
 * one of the founder's three signal ranges: 14d always comes from the own estimate (`source: estimate`).
 */
export const COINGLASS_RANGES: readonly CoinGlassHeatmapRange[] = COINGLASS_HEATMAP_RANGES;
/** The signal ranges CoinGlass serves, refreshed first for the top-ranked and armed coins. */
export const COINGLASS_PRIORITY_RANGES: readonly CoinGlassHeatmapRange[] = ['7d', '30d'];
/**
 * Sweep tuning. Rounds every 4 minutes (priority coins every 3.2) so a pair refetched each round is never older
 * than the 5-minute freshness rule; 12 requests in flight let a Professional budget (1080 used of 1200 a minute)
 * be spent at ~0.5 s a reply (4 would cap it at ~480 a minute). Coverage figures: test/coinglass-coverage.test.ts.
 */
export const COINGLASS_SCHEDULER_TUNING = { sweepIntervalMs: 240_000, maxConcurrent: 12 } as const;
/** Market caps are re-read this often (a handful of requests an hour). */
const MARKET_CAP_REFRESH_MS = 3_600_000;
/** Source name of recorded CoinGlass replies in tapes. */
export const COINGLASS_TAPE_SOURCE = 'coinglass';

export interface CoinGlassFeed {
  readonly scheduler: CoinGlassScheduler;
  /** Re-orders the background sweep: ranked coins (top-ranked, armed) first, then every other symbol. */
  setSymbols(symbols: readonly string[], ranked: readonly string[]): void;
  /** A spike asks for a priority refresh of that coin's heatmaps. */
  onSpike(symbol: string): void;
  /**
   * The pre-trade lane: refreshes `ranges` of `symbol` older than 5 minutes, in the scheduler's highest lane,
   * and resolves by `timeoutMs` with what it got. Never rejects. Fresh snapshots also reach the engine.
   */
  refreshForTrade(symbol: string, ranges: readonly CoinGlassHeatmapRange[], timeoutMs: number): Promise<PreTradeOutcome>;
  /** `GET /coinglass`: state, plan, ranges, budget, counters, coverage and CoinGlass-vs-estimate distances. */
  describe(): Record<string, unknown>;
  /** An evaluation: when a CoinGlass reply triggered it, logs and exports its distance to the own estimate. */
  onEvaluated(event: CoinEvaluated): void;
  /** Registers a consumer of those distances (the metrics). */
  observeDistances(fn: (d: SourceDistance) => void): void;
  stop(): void;
}

/**
 * CoinGlass v4 pair heatmaps (Bybit pairs) into the engine, on a budgeted priority scheduler. Every successful
 * reply is written to the tape (`s: coinglass, k: http`, URL without the key) so a replay reproduces the same
 * snapshots at the same instants. Without COINGLASS_API_KEY it is off and the own estimate stands alone.
 */
export function startCoinGlass(config: Config, log: Logger, clock: Clock, engine: Engine, tape: TapeWriter | undefined, outages?: OutageLog): CoinGlassFeed | undefined {
  const apiKey = config.coinglassApiKey;
  if (apiKey === undefined) {
    log.info('CoinGlass off (no COINGLASS_API_KEY): liquidation levels come from the own estimate only');
    return undefined;
  }
  let scheduler: CoinGlassScheduler | undefined;
  const refreshFailures = new LogSummary(log, 'CoinGlass refresh failures', { firstLines: 5, windowMs: config.outageReminderMs, now: () => clock.now() });
  // Reply bodies wait here (by pair and range) until their snapshot is handed to the engine.
  const bodies = new Map<string, { readonly url: string; readonly body: string }>();
  const client = new CoinGlassClient({
    apiKey,
    baseUrl: config.coinglassUrl,
    heatmapModel: config.coinglassHeatmapModel,
    now: () => clock.now(),
    onReply: (url, body, _tsInit, status) => {
      if (status < 200 || status >= 300) return;
      const u = new URL(url);
      // Heatmap bodies wait for their snapshot; market caps reach the tape as the coin inputs they become.
      if (!u.pathname.endsWith('/coins-markets')) bodies.set(`${u.searchParams.get('symbol')}|${u.searchParams.get('range')}`, { url, body });
    },
    onRateLimit: (limit) => scheduler?.noteServerLimits(limit),
  });
  scheduler = new CoinGlassScheduler({
    clock,
    apiKey,
    ranges: COINGLASS_RANGES,
    priorityRanges: COINGLASS_PRIORITY_RANGES,
    ...COINGLASS_SCHEDULER_TUNING,
    planRequestsPerMinute: config.coinglassPlanRequestsPerMin,
    random: Math.random,
    fetchHeatmap: async (coin, range) => {
      let heatmap;
      try {
        heatmap = await client.pairHeatmap({ exchange: 'Bybit', pair: coin, range });
      } catch (err) {
        // Network, timeout and 5xx mean CoinGlass is unreachable: one outage, not one warning per coin and range.
        if (err instanceof CoinGlassError && isOutage(err)) outages?.failure(COINGLASS_SOURCE, err.message);
        throw err;
      }
      if (outages?.isDown(COINGLASS_SOURCE)) outages.up(COINGLASS_SOURCE);
      // Tape and engine get the snapshot at one instant, stamped with it: a replay hands it over at exactly the
      // same point in the stream (and a tape never sees time go backwards).
      const t = clock.now();
      const recorded = bodies.get(`${coin}|${range}`);
      bodies.delete(`${coin}|${range}`);
      if (recorded !== undefined) tape?.write({ t, s: COINGLASS_TAPE_SOURCE, k: 'http', u: recorded.url, d: recorded.body });
      const snapshot = { ...heatmap.snapshot, fetchedAt: t };
      engine.heatmap(snapshot);
      return snapshot;
    },
    onError: (err, coin, range, lane) => refreshFailures.line({ coin, range, lane, err: err.message }, 'CoinGlass refresh failed'),
  });
  scheduler.start();
  log.info(
    { url: redactUrl(config.coinglassUrl), ranges: COINGLASS_RANGES, plan: config.coinglassPlan, requestsPerMin: config.coinglassPlanRequestsPerMin },
    'CoinGlass heatmaps on',
  );
  const sched = scheduler;
  const refresher = new PreTradeRefresher({ clock, scheduler: sched });
  let universe: readonly string[] = [];
  let markets: readonly CoinMarket[] = [];
  let marketTimer: NodeJS.Timeout | undefined;
  const distances = new Map<string, SourceDistance>();
  const distanceObservers: ((d: SourceDistance) => void)[] = [];
  const applyMarketCaps = () => {
    for (const [symbol, marketCapUsd] of marketCapsBySymbol(markets, universe)) applyCoinInputs(engine, tape, clock, symbol, { marketCapUsd });
  };
  const loadMarketCaps = async () => {
    try {
      const all: CoinMarket[] = [];
      for (let page = 1; page <= 20; page++) {
        const rows = await client.coinsMarkets({ page, perPage: 100 });
        all.push(...rows);
        if (rows.length < 100) break;
      }
      markets = all;
      applyMarketCaps();
      log.info({ coins: all.length, withMarketCap: all.filter((m) => m.marketCapUsd !== undefined).length }, 'CoinGlass market caps loaded');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'CoinGlass market caps unavailable; thresholds use the Bybit OI proxy');
    }
  };
  if (MARKET_CAP_PLANS.includes(config.coinglassPlan)) {
    void loadMarketCaps();
    marketTimer = setInterval(() => void loadMarketCaps(), MARKET_CAP_REFRESH_MS).unref();
  }
  return {
    scheduler: sched,
    setSymbols(symbols, ranked) {
      const rankOf = new Map(ranked.map((s, i) => [s, i + 1]));
      const added = symbols.some((s) => !universe.includes(s));
      universe = symbols;
      if (added) applyMarketCaps();
      sched.setCoins(symbols.map((coin) => ({ coin, rank: rankOf.get(coin) ?? Infinity, priority: rankOf.has(coin) })));
    },
    onSpike(symbol) {
      void sched.requestCoin(symbol, 'spike').catch(() => undefined);
    },
    refreshForTrade: (symbol, ranges, timeoutMs) => refresher.refreshForTrade(symbol, ranges, timeoutMs),
    describe: () => ({
      ...sched.status,
      plan: config.coinglassPlan,
      planRequestsPerMin: config.coinglassPlanRequestsPerMin,
      ranges: COINGLASS_RANGES,
      priorityRanges: COINGLASS_PRIORITY_RANGES,
      ownEstimateRanges: ['14d'],
      note: 'CoinGlass serves no 14d heatmap: 14d is always the own estimate (source "estimate" in /symbols/:symbol)',
      coverage: sched.coverage(),
      budget: sched.budget(),
      stats: sched.stats(),
      marketCaps: markets.filter((m) => m.marketCapUsd !== undefined).length,
      sourceDistance: summariseDistances([...distances.values()]),
    }),
    onEvaluated(event) {
      const d = event.compared;
      if (d === undefined) return;
      distances.set(`${d.symbol}|${d.range}`, d);
      log.debug(
        {
          symbol: d.symbol, range: d.range, coinglassClusters: d.externalClusters, estimateClusters: d.estimateClusters, totalUsdRatio: d.totalUsdRatio,
          long: d.long && { centreDistancePct: d.long.centreDistancePct, sizeRatio: d.long.sizeRatio },
          short: d.short && { centreDistancePct: d.short.centreDistancePct, sizeRatio: d.short.sizeRatio },
        },
        'CoinGlass vs own estimate',
      );
      for (const fn of distanceObservers) fn(d);
    },
    observeDistances(fn) {
      distanceObservers.push(fn);
    },
    stop: () => {
      if (marketTimer !== undefined) clearInterval(marketTimer);
      refreshFailures.flush();
      sched.stop();
    },
  };
}

/** Source name of CoinGlass in outage logs. */
export const COINGLASS_SOURCE = 'coinglass';

function isOutage(err: CoinGlassError): boolean {
  return err.kind === 'network' || err.kind === 'timeout' || (err.kind === 'http' && (err.details.httpStatus ?? 0) >= 500);
}

/**
 * Replay: turns a recorded CoinGlass reply back into the snapshot the live run handed the engine. (Market caps
 * are replayed from the `coin-inputs` records they became.)
 */
export function replayCoinGlassReply(client: CoinGlassClient, url: string, body: string, tsInit: number, engine: Engine): boolean {
  const result = client.fromRecorded(url, body, tsInit);
  if (!result.ok || result.value.endpoint !== 'heatmap') return false;
  engine.heatmap(result.value.value.snapshot);
  return true;
}

/** Median of each range's largest-cluster centre distance (percent) and size ratio, over the coins compared last. */
export function summariseDistances(list: readonly SourceDistance[]): Record<string, { coins: number; medianCentreDistancePct: number | null; medianSizeRatio: number | null }> {
  const median = (xs: number[]): number | null => {
    if (xs.length === 0) return null;
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)]!;
  };
  const out: Record<string, { coins: number; medianCentreDistancePct: number | null; medianSizeRatio: number | null }> = {};
  for (const range of new Set(list.map((d) => d.range))) {
    const sides = list.filter((d) => d.range === range).flatMap((d) => [d.long, d.short]).filter((x) => x !== undefined);
    out[range] = {
      coins: list.filter((d) => d.range === range).length,
      medianCentreDistancePct: median(sides.map((x) => x.centreDistancePct)),
      medianSizeRatio: median(sides.map((x) => x.sizeRatio)),
    };
  }
  return out;
}

/** Budget use (gauges from the scheduler's budget and stats) and per-(coin, range) heatmap age. */
export function registerCoinGlassMetrics(registry: Registry, feed: CoinGlassFeed): void {
  const sched = feed.scheduler;
  const numeric = (o: object): Record<string, number> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => typeof e[1] === 'number'));
  registerStatsGauges(registry, 'whalestack_coinglass_budget', 'CoinGlass request budget', () => numeric(sched.budget()));
  registerStatsGauges(registry, 'whalestack_coinglass', 'CoinGlass scheduler', () => numeric(sched.stats()));
  const centre = new Histogram({
    name: 'whalestack_source_distance_centre_pct',
    help: 'CoinGlass vs own estimate: distance between the largest clusters of a side (percent of price)',
    labelNames: ['range', 'side'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
    registers: [registry],
  });
  const size = new Histogram({
    name: 'whalestack_source_distance_size_ratio',
    help: 'CoinGlass vs own estimate: largest cluster USD of a side, estimate / CoinGlass',
    labelNames: ['range', 'side'],
    buckets: [0.1, 0.25, 0.5, 0.8, 1.25, 2, 4, 10],
    registers: [registry],
  });
  feed.observeDistances((d) => {
    for (const s of [d.long, d.short]) {
      if (s === undefined) continue;
      centre.observe({ range: d.range, side: s.side }, s.centreDistancePct);
      size.observe({ range: d.range, side: s.side }, s.sizeRatio);
    }
  });
  new Gauge({
    name: 'whalestack_coinglass_coverage_ratio',
    help: 'Share of (coin x range) CoinGlass heatmaps fresher than 5 minutes; scope=priority: top-ranked and armed coins, signal ranges',
    labelNames: ['scope'],
    registers: [registry],
    collect() {
      const c = sched.coverage();
      this.set({ scope: 'all' }, c.share);
      this.set({ scope: 'priority' }, c.priorityShare);
    },
  });
  new Gauge({
    name: 'whalestack_coinglass_heatmap_age_seconds',
    help: 'Age of the latest CoinGlass heatmap per coin and range (-1 = never fetched)',
    labelNames: ['coin', 'range'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of sched.freshness()) this.set({ coin: f.coin, range: f.range }, f.ageMs === undefined ? -1 : f.ageMs / 1000);
    },
  });
}
