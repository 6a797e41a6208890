import { describe, expect, it } from 'vitest';
import { detectClusters, type Cluster } from '../src/core/clusters.js';
import { DEFAULT_COIN_LIQUIDITY_CONFIG } from '../src/core/coin-liquidity.js';
import type { HeatmapLevel } from '../src/core/heatmap.js';
import { LiquidationEstimator, type LiquidationEstimatorConfig } from '../src/core/liquidation-estimator.js';
import { Prng } from '../src/core/prng.js';
import { BruteForceEstimate } from './support/brute-force-estimate.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 9, 1);

interface Hour { readonly tsMs: number; readonly oi: number; readonly close: number; readonly high: number; readonly low: number }

/** 30 days of hourly OI and prices as the bootstrap feeds them: a seeded random walk, OI drifting up. */
function history(seed: string, days = 30): Hour[] {
  const rng = new Prng(seed);
  const out: Hour[] = [];
  let price = 100;
  let oi = 1e6;
  for (let h = 0; h < days * 24; h++) {
    price *= 1 + (rng.next() - 0.5) * 0.02;
    oi *= 1 + (rng.next() - 0.45) * 0.02;
    const wick = 0.003 + rng.next() * 0.004;
    out.push({ tsMs: START + h * HOUR, oi, close: price, high: price * (1 + wick), low: price * (1 - wick) });
  }
  return out;
}

function feed(target: { onOpenInterest(ts: number, oi: number, p: number): unknown; onPrice(p: number): void }, hours: readonly Hour[]): void {
  for (const h of hours) {
    target.onOpenInterest(h.tsMs, h.oi, h.close);
    target.onPrice(h.high);
    target.onPrice(h.low);
    target.onPrice(h.close);
  }
}

const bucketOf = (p: number) => Math.floor(Math.log(p) / Math.log1p(0.001));

/** Brute-force positions summed onto the estimator's 0.1 % grid (at the bucket's price), so levels compare one to one. */
function gridded(levels: readonly { side: 'long' | 'short'; priceUsd: number; usd: number }[]): HeatmapLevel[] {
  const byKey = new Map<string, HeatmapLevel>();
  for (const l of levels) {
    const b = bucketOf(l.priceUsd);
    const key = `${l.side}|${b}`;
    const prev = byKey.get(key);
    byKey.set(key, { priceUsd: Math.pow(1.001, b), usd: (prev?.usd ?? 0) + l.usd, side: l.side, label: 'ESTIMATED' });
  }
  return [...byKey.values()].sort((a, b) => a.priceUsd - b.priceUsd);
}

const sum = (ls: readonly { usd: number }[]) => ls.reduce((a, l) => a + l.usd, 0);
const largest = (cs: readonly Cluster[], side: 'long' | 'short') => cs.filter((c) => c.side === side).sort((a, b) => b.usd - a.usd)[0];

interface Fidelity {
  readonly maxCohorts: number;
  readonly cohorts: number;
  readonly levels: number;
  readonly refLevels: number;
  readonly usdShare: number;
  /** Share of the estimate's USD in each age band vs the reference's: [0–7 d, 7–14 d, 14–30 d]. */
  readonly ageBands: readonly [number, number, number];
  readonly refAgeBands: readonly [number, number, number];
  readonly clusterCentreErrPct: number;
  readonly clusterUsdErrPct: number;
}

function measure(hours: readonly Hour[], config: LiquidationEstimatorConfig): Fidelity {
  const est = new LiquidationEstimator('Q', config);
  const ref = new BruteForceEstimate(config.leverageTiers, config.maintenanceMarginRate, config.halfLifeMs);
  feed(est, hours);
  feed(ref, hours);
  const now = hours.at(-1)!.tsMs;
  const price = hours.at(-1)!.close;
  const view = (maxAgeMs: number) => est.exposureLevels(now, maxAgeMs);
  const refView = (maxAgeMs: number) => ref.levels(now, maxAgeMs);
  const e30 = view(30 * DAY);
  const r30 = gridded(refView(30 * DAY));
  const bands = (f: (ms: number) => readonly { usd: number }[]): [number, number, number] => {
    const a = sum(f(7 * DAY));
    const b = sum(f(14 * DAY));
    const c = sum(f(30 * DAY));
    return [a / c, (b - a) / c, (c - b) / c];
  };
  const levelsOf = (ls: readonly { priceUsd: number; usd: number; side: 'long' | 'short' }[]): HeatmapLevel[] => ls.map((l) => ({ ...l, label: 'ESTIMATED' as const }));
  const ce = detectClusters(levelsOf(e30), price);
  const cr = detectClusters(r30, price);
  let centreErr = 0;
  let usdErr = 0;
  for (const side of ['long', 'short'] as const) {
    const a = largest(ce, side);
    const b = largest(cr, side);
    if (a === undefined || b === undefined) {
      centreErr = Math.max(centreErr, a === b ? 0 : 100);
      usdErr = Math.max(usdErr, a === b ? 0 : 100);
      continue;
    }
    centreErr = Math.max(centreErr, (Math.abs(a.centre - b.centre) / b.centre) * 100);
    usdErr = Math.max(usdErr, (Math.abs(a.usd - b.usd) / b.usd) * 100);
  }
  return {
    maxCohorts: config.maxCohorts, cohorts: est.cohortCount, levels: e30.length, refLevels: r30.length, usdShare: sum(e30) / sum(r30),
    ageBands: bands(view), refAgeBands: bands((ms) => refView(ms)), clusterCentreErrPct: centreErr, clusterUsdErrPct: usdErr,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const show = (f: Fidelity) =>
  `maxCohorts ${String(f.maxCohorts).padStart(5)}: cohorts ${String(f.cohorts).padStart(5)}, levels ${f.levels}/${f.refLevels}, USD ${pct(f.usdShare)}, ` +
  `age bands 0-7/7-14/14-30 d ${f.ageBands.map(pct).join(' / ')} (ref ${f.refAgeBands.map(pct).join(' / ')}), largest cluster centre ±${f.clusterCentreErrPct.toFixed(2)} %, USD ±${f.clusterUsdErrPct.toFixed(1)} %`;

describe('own estimate after a 30-day bootstrap vs a brute-force estimate on the same inputs (30d view)', () => {
  it('prints levels, dollars, age and largest-cluster error per cohort limit; the default is faithful', () => {
    const base = DEFAULT_COIN_LIQUIDITY_CONFIG.estimator;
    const rows: string[] = [];
    const results = new Map<number, Fidelity[]>();
    for (const seed of ['q1', 'q2', 'q3']) {
      const hours = history(seed);
      for (const maxCohorts of [128, 512, 1024, 2048, 4096]) {
        const f = measure(hours, { ...base, maxCohorts });
        results.set(maxCohorts, [...(results.get(maxCohorts) ?? []), f]);
        rows.push(`${seed} ${show(f)}`);
      }
      rows.push(`${seed} default (${base.maxCohorts} cohorts, cohortMs ${base.cohortMs / HOUR} h): ${show(measure(hours, base))}`);
    }
    console.log(`estimator 30d fidelity:\n  ${rows.join('\n  ')}`);
    // Today's earlier limit (128) fails this: a third of the dollars, nothing older than 7 days.
    expect(results.get(128)!.every((f) => f.usdShare < 0.5 && f.ageBands[2] === 0)).toBe(true);
    for (const f of [history('q1'), history('q2'), history('q3')].map((h) => measure(h, base))) {
      // Within 3 %: the estimate consumes a level at its 0.1 % bucket's price, not the position's exact one.
      expect(Math.abs(f.usdShare - 1)).toBeLessThan(0.03);
      expect(f.levels).toBeGreaterThanOrEqual(f.refLevels - 3);
      expect(Math.abs(f.ageBands[2] - f.refAgeBands[2])).toBeLessThan(0.01);
      expect(f.clusterCentreErrPct).toBeLessThan(0.5);
      expect(f.clusterUsdErrPct).toBeLessThan(5);
    }
  }, 120_000);
});

