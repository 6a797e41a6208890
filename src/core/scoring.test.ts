import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imbalanceOf } from './imbalance.js';
import { roundTo, scoreCoin } from './scoring.js';
import { clusterPctOfTypical } from './thresholds.js';

const SEED = 0x5c0;

describe('scoreCoin', () => {
  it('reproduces the founder worked example to the cent: 35.7 + 47.7 + 17 = 100.4', () => {
    const s = scoreCoin({
      imbalance: imbalanceOf(500e6, 200e6),
      direction: 'LONG',
      clusterPct: clusterPctOfTypical(239e6, 150e6),
      successRate: 0.85,
    });
    expect(s.directionalImbalance).toBe(0.714);
    expect(s.clusterPct).toBe(159);
    expect(s.imbalanceTerm).toBe(35.7);
    expect(s.clusterTerm).toBe(47.7);
    expect(s.successTerm).toBe(17);
    expect(s.score).toBe(100.4);
    expect(s.score.toFixed(2)).toBe('100.40');
  });

  it('scores a long-heavy SHORT book like its mirrored LONG book', () => {
    const long = scoreCoin({ imbalance: imbalanceOf(500e6, 200e6), direction: 'LONG', clusterPct: 159, successRate: 0.85 });
    const short = scoreCoin({ imbalance: imbalanceOf(200e6, 500e6), direction: 'SHORT', clusterPct: 159, successRate: 0.85 });
    expect(short.directionalImbalance).toBe(0.714);
    expect(short.score).toBe(long.score);
    const none = scoreCoin({ imbalance: 0.48, direction: 'NONE', clusterPct: 0, successRate: 0 });
    expect(none.directionalImbalance).toBe(0.52);
    expect(none.score).toBe(26);
  });

  it('caps the cluster term at 200 % and survives broken inputs', () => {
    expect(scoreCoin({ imbalance: 1, direction: 'LONG', clusterPct: 900, successRate: 1 }).score).toBe(130);
    const broken = scoreCoin({ imbalance: Number.NaN, direction: 'LONG', clusterPct: Number.NaN, successRate: Number.NaN });
    expect(broken.score).toBe(0);
  });

  it('rounds half away from zero despite binary artefacts', () => {
    expect(roundTo(0.714 * 50, 2)).toBe(35.7);
    expect(roundTo(159 * 0.3, 2)).toBe(47.7);
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(-2.5, 0)).toBe(-3);
  });

  it('property: score is in [0, 130] and never falls when success rate or cluster size grows', () => {
    console.log(`score property seed=${SEED}`);
    const dir = fc.constantFrom('LONG' as const, 'SHORT' as const, 'NONE' as const);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), dir, fc.double({ min: 0, max: 1000, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (imbalance, direction, clusterPct, successRate, dSuccess, dPct) => {
        const a = scoreCoin({ imbalance, direction, clusterPct, successRate });
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(130);
        const b = scoreCoin({ imbalance, direction, clusterPct: clusterPct + dPct, successRate: Math.min(1, successRate + dSuccess) });
        expect(b.score).toBeGreaterThanOrEqual(a.score);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
