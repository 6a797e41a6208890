import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { engineSettings } from '../src/cli/engine-settings.js';
import { replayCoinInputs } from '../src/cli/liquidity-state.js';
import { VirtualClock } from '../src/core/clock.js';
import type { ClusterOutcome } from '../src/core/cluster-outcomes.js';
import { buildHeatmapSnapshot } from '../src/core/heatmap.js';
import { Engine, type EngineOutput } from '../src/engine/engine.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const MIN = 60_000;
const HOUR = 60 * MIN;
const ticker = (ts: number, price: number) =>
  `{"topic":"tickers.SOLUSDT","type":"snapshot","ts":${ts},"data":{"symbol":"SOLUSDT","lastPrice":"${price.toFixed(2)}","markPrice":"${price.toFixed(2)}","openInterest":"3000000","openInterestValue":"300000000","fundingRate":"0.0001"}}`;

/**
 * SOL at 100 with a CoinGlass 12h map: $50M of shorts at 104 and $50M of longs at 95. The price climbs to 104
 * within the hour, then drifts at 101–102 for 13 hours: the short cluster is hit, the long one expires at
 * 12 h. Tickers every minute, evaluations every 5 minutes as in `run`.
 */
function run(env: Record<string, string> = {}): { outputs: EngineOutput[]; engine: Engine } {
  const clock = new VirtualClock(T0);
  const outputs: EngineOutput[] = [];
  const engine = new Engine({ clock, drain: { mode: 'sync' }, ...engineSettings(loadConfig(env, '')), onOutput: (e) => outputs.push(e) });
  engine.ingest(ticker(T0, 100), T0);
  engine.coinInputs('SOLUSDT', { dbOverrideUsd: 10e6 });
  const { snapshot } = buildHeatmapSnapshot({ symbol: 'SOLUSDT', range: '12h', source: 'coinglass', refPrice: 100, fetchedAt: T0 + 1000, levels: [{ priceUsd: 104, usd: 50e6 }, { priceUsd: 95, usd: 50e6 }] });
  clock.advanceTo(T0 + 1000);
  engine.heatmap(snapshot);
  for (let t = T0 + MIN; t <= T0 + 13 * HOUR; t += MIN) {
    const price = t <= T0 + HOUR ? 100 + (4 * (t - T0)) / HOUR : 101 + ((t / MIN) % 2);
    clock.advanceTo(t);
    engine.ingest(ticker(t, price), t);
  }
  return { outputs, engine };
}

const outcomesOf = (outputs: EngineOutput[]) => outputs.filter((o): o is ClusterOutcome => o.kind === 'cluster-outcome' && o.source === 'coinglass');

describe('cluster outcomes in the engine', () => {
  it('the short cluster is hit when the price reaches its centre, the long one expires after 12 h', () => {
    const { outputs, engine } = run();
    const outcomes = outcomesOf(outputs);
    expect(outcomes).toEqual([
      { kind: 'cluster-outcome', symbol: 'SOLUSDT', range: '12h', source: 'coinglass', side: 'short', priceLow: 104, priceHigh: 104, centerPrice: 104, detectedAtMs: T0 + 1000, expiresAtMs: T0 + 1000 + 12 * HOUR, outcome: 'hit', resolvedAtMs: T0 + HOUR },
      { kind: 'cluster-outcome', symbol: 'SOLUSDT', range: '12h', source: 'coinglass', side: 'long', priceLow: 95, priceHigh: 95, centerPrice: 95, detectedAtMs: T0 + 1000, expiresAtMs: T0 + 1000 + 12 * HOUR, outcome: 'expired', resolvedAtMs: T0 + 1000 + 12 * HOUR },
    ]);
    // Re-evaluations every 5 minutes did not follow the same clusters again.
    expect(outputs.filter((o) => o.kind === 'evaluated').length).toBeGreaterThan(100);
    const view = engine.describe('SOLUSDT')!.clusterOutcomes as { ranges: { range: string; hits: number; expired: number }[]; reliableRanges: string[] };
    const r12 = view.ranges.find((r) => r.range === '12h')!;
    expect(r12.hits).toBeGreaterThanOrEqual(1);
    expect(r12.expired).toBeGreaterThanOrEqual(1);
    expect(engine.clusterOutcomes().map((c) => c.symbol)).toEqual(['SOLUSDT']);
  });

  it('is deterministic: the same input gives the same outcomes (replay), with static or learned weights', () => {
    const a = run();
    const b = run();
    expect(JSON.stringify(a.outputs)).toBe(JSON.stringify(b.outputs));
    const learned = run({ RANGE_WEIGHTS: 'learned', RELIABLE_RANGE_MIN_OUTCOMES: '1' });
    expect(outcomesOf(learned.outputs)).toEqual(outcomesOf(a.outputs));
    expect((learned.engine.describe('SOLUSDT')!.clusterOutcomes as { rangeWeights: string }).rangeWeights).toBe('learned');
  });

  it('outcomes restored from the store reach the coin through the taped coin-inputs record (replay applies the same)', () => {
    const clock = new VirtualClock(T0);
    const engine = new Engine({ clock, drain: { mode: 'sync' }, ...engineSettings(loadConfig({ RELIABLE_RANGE_MIN_OUTCOMES: '3' }, '')) });
    engine.ingest(ticker(T0, 100), T0);
    const outcomes = [
      { range: '7d', resolvedAtMs: T0 - 3 * HOUR, hit: true },
      { range: '7d', resolvedAtMs: T0 - 2 * HOUR, hit: true },
      { range: '7d', resolvedAtMs: T0 - HOUR, hit: true },
      { range: '14d', resolvedAtMs: T0 - HOUR, hit: false },
      { range: 'bogus', resolvedAtMs: T0, hit: true },
      { range: '7d', resolvedAtMs: 'soon', hit: true },
    ];
    expect(replayCoinInputs(JSON.stringify({ symbol: 'SOLUSDT', inputs: { outcomes } }), engine)).toBe(true);
    const view = engine.describe('SOLUSDT')!.clusterOutcomes as { ranges: unknown[]; reliableRanges: string[] };
    expect(view.ranges).toEqual([
      { range: '7d', hits: 3, expired: 0, hitRate: 1 },
      { range: '14d', hits: 0, expired: 1, hitRate: 0 },
    ]);
    expect(view.reliableRanges).toEqual(['7d']);
  });
});
