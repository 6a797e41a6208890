import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { startCoinGlass, type CoinGlassFeed } from '../src/cli/coinglass.js';
import { LiveClock } from '../src/cli/live-clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { Engine, type EngineOutput } from '../src/engine/engine.js';
import { createLogger } from '../src/sinks/logger.js';
import { PreTradeRefresher } from '../src/streams/pre-trade-refresh.js';
import { FakeCoinGlass } from './support/fake-coinglass.js';
import { Cleanups, waitFor } from './support/wait.js';

const KEY = 'cg-pretrade-key-0123456789';
const HEATMAP_PATH = '/api/futures/liquidation/heatmap/model2';
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function setup(env: Record<string, string> = {}): Promise<{ cg: FakeCoinGlass; feed: CoinGlassFeed; clock: LiveClock; engine: Engine; out: EngineOutput[] }> {
  const cg = await FakeCoinGlass.start(KEY);
  cleanups.push(() => cg.stop());
  const clock = new LiveClock();
  cleanups.push(() => clock.cancelAll());
  const out: EngineOutput[] = [];
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS }, onOutput: (e) => out.push(e) });
  const config = loadConfig({ COINGLASS_API_KEY: KEY, COINGLASS_URL: cg.baseUrl, ...env });
  const feed = startCoinGlass(config, createLogger('silent'), clock, engine, undefined)!;
  cleanups.push(() => feed.stop());
  return { cg, feed, clock, engine, out };
}

const heatmapRequests = (cg: FakeCoinGlass) => cg.requests.filter((r) => r.path.includes('/heatmap/'));

describe('pre-trade refresh against the local CoinGlass server', () => {
  it('refetches stale ranges in the pre-trade lane, hands them to the engine, then serves them from cache for 5 minutes', async () => {
    const { cg, feed, engine } = await setup();
    const first = await feed.refreshForTrade('BTCUSDT', ['7d', '30d'], 2000);
    expect(first.status).toBe('ok');
    expect(first.ranges.map((r) => [r.range, r.status])).toEqual([['7d', 'refreshed'], ['30d', 'refreshed']]);
    expect(heatmapRequests(cg).map((r) => r.query.range).sort()).toEqual(['30d', '7d']);
    expect(feed.scheduler.stats().dispatched['pre-trade']).toBe(2);
    // The engine got both snapshots (its coin evaluated from them).
    expect(engine.symbols()).toContain('BTCUSDT');
    const again = await feed.refreshForTrade('BTCUSDT', ['7d', '30d'], 2000);
    expect(again.ranges.map((r) => r.status)).toEqual(['cached', 'cached']);
    expect(heatmapRequests(cg)).toHaveLength(2);
    expect(feed.describe()).toMatchObject({ state: 'running', plan: 'professional', planRequestsPerMin: 1200, ownEstimateRanges: ['14d'] });
  });

  it('resolves by its deadline with what it has, and reports failures as values, never rejecting', async () => {
    const { cg, feed } = await setup();
    cg.inject({ kind: 'slow', delayMs: 1500 }, { times: 2, path: HEATMAP_PATH });
    const slow = await feed.refreshForTrade('ETHUSDT', ['7d', '30d'], 150);
    expect(slow.status).toBe('timeout');
    expect(slow.ranges.map((r) => r.status)).toEqual(['timeout', 'timeout']);
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(140);
    expect(slow.elapsedMs).toBeLessThan(1000);
    cg.inject({ kind: 'api', code: '400', msg: 'bad symbol' }, { times: 1, path: HEATMAP_PATH });
    const partial = await feed.refreshForTrade('SOLUSDT', ['7d', '30d'], 2000);
    expect(partial.status).toBe('partial');
    expect(partial.ranges.filter((r) => r.status === 'failed')).toHaveLength(1);
  });

  it('is unavailable without a key', async () => {
    const clock = new LiveClock();
    const { CoinGlassScheduler } = await import('../src/streams/coinglass-scheduler.js');
    const off = new CoinGlassScheduler({ clock, apiKey: undefined, fetchHeatmap: () => Promise.reject(new Error('never')) });
    const outcome = await new PreTradeRefresher({ clock, scheduler: off }).refreshForTrade('BTCUSDT', ['7d'], 100);
    expect(outcome).toMatchObject({ status: 'unavailable', ranges: [{ range: '7d', status: 'failed' }] });
  });

  it('reads market caps from coins-markets on a Professional plan, not on Hobbyist', async () => {
    const pro = await setup();
    await waitFor('coins-markets request', () => pro.cg.requests.some((r) => r.path === '/api/futures/coins-markets'));
    const hobby = await setup({ COINGLASS_PLAN: 'hobbyist' });
    await feedSettles();
    expect(hobby.cg.requests.some((r) => r.path === '/api/futures/coins-markets')).toBe(false);
  });

  it('measures a forced pre-trade refresh of the signal ranges CoinGlass serves (7d, 30d): p50 and p99', async () => {
    const { feed, clock } = await setup();
    const forced = new PreTradeRefresher({ clock, scheduler: feed.scheduler, maxAgeMs: -1 });
    const ms: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const outcome = await forced.refreshForTrade(`C${i % 50}USDT`, ['7d', '30d'], 5000);
      ms.push(performance.now() - t0);
      expect(outcome.status).toBe('ok');
    }
    ms.sort((a, b) => a - b);
    const p = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
    console.log(`pre-trade refresh (2 ranges, local CoinGlass server, 300 runs): p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, max ${ms.at(-1)!.toFixed(2)} ms`);
    expect(p(0.99)).toBeLessThan(1000);
  });
});

async function feedSettles(): Promise<void> {
  await new Promise((r) => setTimeout(r, 200));
}
