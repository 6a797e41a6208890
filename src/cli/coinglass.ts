import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import { registerStatsGauges } from '../sinks/metrics.js';
import { redactUrl, type Logger } from '../sinks/logger.js';
import type { TapeWriter } from '../sinks/tape-writer.js';
import { LogSummary } from '../sinks/log-summary.js';
import type { OutageLog } from '../sinks/outage-log.js';
import { CoinGlassClient, CoinGlassError } from '../streams/coinglass-client.js';
import { CoinGlassScheduler } from '../streams/coinglass-scheduler.js';
import type { CoinGlassHeatmapRange } from '../streams/coinglass-schemas.js';
import type { Config } from './config.js';
import type { Engine } from '../engine/engine.js';

/** Ranges fetched from CoinGlass: the engine's evaluated ranges that CoinGlass serves (it has no 14d). */
export const COINGLASS_RANGES: readonly CoinGlassHeatmapRange[] = ['12h', '24h', '7d', '30d'];
/** Source name of recorded CoinGlass replies in tapes. */
export const COINGLASS_TAPE_SOURCE = 'coinglass';

export interface CoinGlassFeed {
  readonly scheduler: CoinGlassScheduler;
  /** Re-orders the background sweep: ranked coins first, then every other symbol. */
  setSymbols(symbols: readonly string[], ranked: readonly string[]): void;
  /** A spike asks for a priority refresh of that coin's heatmaps. */
  onSpike(symbol: string): void;
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
      const q = new URL(url).searchParams;
      bodies.set(`${q.get('symbol')}|${q.get('range')}`, { url, body });
    },
    onRateLimit: (limit) => scheduler?.noteServerLimits(limit),
  });
  scheduler = new CoinGlassScheduler({
    clock,
    apiKey,
    ranges: COINGLASS_RANGES,
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
  log.info({ url: redactUrl(config.coinglassUrl), ranges: COINGLASS_RANGES }, 'CoinGlass heatmaps on');
  const sched = scheduler;
  return {
    scheduler: sched,
    setSymbols(symbols, ranked) {
      const rankOf = new Map(ranked.map((s, i) => [s, i + 1]));
      sched.setCoins(symbols.map((coin) => ({ coin, rank: rankOf.get(coin) ?? Infinity })));
    },
    onSpike(symbol) {
      void sched.requestCoin(symbol, 'spike').catch(() => undefined);
    },
    stop: () => {
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

/** Replay: turns a recorded CoinGlass reply back into the snapshot the live run handed the engine. */
export function replayCoinGlassReply(client: CoinGlassClient, url: string, body: string, tsInit: number, engine: Engine): boolean {
  const result = client.fromRecorded(url, body, tsInit);
  if (!result.ok || result.value.endpoint !== 'heatmap') return false;
  engine.heatmap(result.value.value.snapshot);
  return true;
}

/** Budget use (gauges from the scheduler's budget and stats) and per-(coin, range) heatmap age. */
export function registerCoinGlassMetrics(registry: Registry, feed: CoinGlassFeed): void {
  const sched = feed.scheduler;
  const numeric = (o: object): Record<string, number> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, number] => typeof e[1] === 'number'));
  registerStatsGauges(registry, 'whalestack_coinglass_budget', 'CoinGlass request budget', () => numeric(sched.budget()));
  registerStatsGauges(registry, 'whalestack_coinglass', 'CoinGlass scheduler', () => numeric(sched.stats()));
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
