import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import type { HeatmapSnapshot } from '../src/core/heatmap.js';
import { CoinGlassScheduler, type SchedulerCoverage } from '../src/streams/coinglass-scheduler.js';
import { COINGLASS_HEATMAP_RANGES } from '../src/streams/coinglass-schemas.js';
import { COINGLASS_PRIORITY_RANGES, COINGLASS_SCHEDULER_TUNING } from '../src/cli/coinglass.js';

const COINS = 500;
const TOP = 10;
const LATENCY_MS = 300;
const MIN = 60_000;

/**
 * The scheduler on the virtual clock, tuned as the daemon runs it: 500 coins × 8 CoinGlass ranges, the top 10 marked priority, every reply
 * arriving 300 ms after its request. Coverage (share of pairs fresher than 5 minutes) is sampled every minute
 * from minute 30 to 60, when every budget has reached its steady state.
 */
async function simulate(planRequestsPerMinute: number): Promise<{ all: number; priority: number; minPriority: number; dispatched: number }> {
  const clock = new VirtualClock(0);
  let n = 0;
  const scheduler = new CoinGlassScheduler({
    clock,
    apiKey: 'sim',
    planRequestsPerMinute,
    ...COINGLASS_SCHEDULER_TUNING,
    priorityRanges: COINGLASS_PRIORITY_RANGES,
    random: () => 0.5,
    fetchHeatmap: (coin, range) =>
      new Promise<HeatmapSnapshot>((resolve) => {
        clock.setTimer(`fetch-${n++}`, clock.now() + LATENCY_MS, (t) => resolve({ symbol: coin, range, source: 'coinglass', levels: [], refPrice: 1, fetchedAt: t }));
      }),
  });
  const coins = Array.from({ length: COINS }, (_, i) => ({ coin: `C${String(i).padStart(3, '0')}USDT`, rank: i < TOP ? i + 1 : Infinity, priority: i < TOP }));
  scheduler.setCoins(coins);
  scheduler.start();
  const samples: SchedulerCoverage[] = [];
  for (let t = 0; t <= 60 * MIN; t += 50) {
    clock.advanceTo(t);
    for (let i = 0; i < 4; i++) await Promise.resolve();
    if (t >= 30 * MIN && t % MIN === 0) samples.push(scheduler.coverage(5 * MIN));
  }
  scheduler.stop();
  const mean = (f: (c: SchedulerCoverage) => number) => samples.reduce((a, c) => a + f(c), 0) / samples.length;
  const d = scheduler.stats().dispatched;
  return { all: mean((c) => c.share), priority: mean((c) => c.priorityShare), minPriority: Math.min(...samples.map((c) => c.priorityShare)), dispatched: d.top + d.sweep };
}

describe('CoinGlass sweep coverage, 500 coins × 8 ranges, simulated on the virtual clock', () => {
  it('covers the top coins every 5 minutes at any budget, and everything as far as the budget reaches', async () => {
    const pairs = COINS * COINGLASS_HEATMAP_RANGES.length;
    const rows: string[] = [];
    for (const rpm of [30, 300, 1200]) {
      const r = await simulate(rpm);
      // What the budget allows: 90 % of the plan, 5 minutes' worth, over 4000 pairs (capped at 1).
      const bound = Math.min(1, (Math.floor(rpm * 0.9) * 5) / pairs);
      rows.push(`${rpm}/min: all ${(r.all * 100).toFixed(1)} % (budget bound ${(bound * 100).toFixed(1)} %), top-10 signal ranges ${(r.priority * 100).toFixed(1)} % (min ${(r.minPriority * 100).toFixed(0)} %), ${r.dispatched} requests in 60 min`);
      expect(r.minPriority).toBe(1);
      expect(r.all).toBeLessThanOrEqual(bound + 1e-9);
      expect(r.all).toBeGreaterThan(bound * 0.9);
    }
    console.log(`CoinGlass coverage (share of coin × range fresher than 5 min), ${COINS} coins × ${COINGLASS_HEATMAP_RANGES.length} ranges:\n  ${rows.join('\n  ')}`);
  }, 120_000);
});
