import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { engineSettings } from '../src/cli/engine-settings.js';
import { problemsOf } from './support/config-problems.js';

describe('liquidation-intelligence settings', () => {
  it("default to the founder's bands and the blueprint's trigger", () => {
    const c = loadConfig({});
    expect(c.imbalanceBands).toEqual({ longAbove: 0.65, shortBelow: 0.35 });
    expect(c.trigger).toEqual({ preset: 'blueprint', oiChangePct15mMin: 3, volumeRatio5mMin: 1.5, priceChangePct5mMin: 1 });
    const s = engineSettings(c).symbol;
    expect(s.trigger).toMatchObject({ oiChangePct15mMin: 3, volumeRatio5mMin: 1.5, priceChangePct5mMin: 1, cooldownMs: 900_000 });
    expect(s.liquidity?.evaluation.imbalance).toMatchObject({ longAbove: 0.65, shortBelow: 0.35, mode: 'sum' });
    expect(s.liquidity?.evaluation.significance.learned).toBe('max');
    expect(engineSettings(loadConfig({ THRESHOLD_LEARNED_MODE: 'replace' })).symbol.liquidity?.evaluation.significance.learned).toBe('replace');
    expect(engineSettings(loadConfig({ IMBALANCE_MODE: 'mean' })).symbol.liquidity?.evaluation.imbalance.mode).toBe('mean');
  });

  it('TRIGGER_PRESET=strict is the transcript pair (OI 5 %, volume 2×); single thresholds override the preset', () => {
    expect(loadConfig({ TRIGGER_PRESET: 'strict' }).trigger).toEqual({ preset: 'strict', oiChangePct15mMin: 5, volumeRatio5mMin: 2, priceChangePct5mMin: 1 });
    const c = loadConfig({ TRIGGER_PRESET: 'strict', TRIGGER_OI_15M_PCT: '4', TRIGGER_PRICE_5M_PCT: '1.5' });
    expect(c.trigger).toEqual({ preset: 'strict', oiChangePct15mMin: 4, volumeRatio5mMin: 2, priceChangePct5mMin: 1.5 });
    expect(engineSettings(c).symbol.trigger).toMatchObject({ oiChangePct15mMin: 4, volumeRatio5mMin: 2, priceChangePct5mMin: 1.5 });
  });

  it('old bands are a setting; bad bands and presets are refused', () => {
    expect(loadConfig({ IMBALANCE_LONG_ABOVE: '0.55', IMBALANCE_SHORT_BELOW: '0.45' }).imbalanceBands).toEqual({ longAbove: 0.55, shortBelow: 0.45 });
    const problems = problemsOf({ IMBALANCE_LONG_ABOVE: '0.4', IMBALANCE_SHORT_BELOW: '0.6', TRIGGER_PRESET: 'loose', TRIGGER_VOLUME_RATIO: '0' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['IMBALANCE_LONG_ABOVE', 'IMBALANCE_SHORT_BELOW', 'TRIGGER_PRESET', 'TRIGGER_VOLUME_RATIO']);
  });
});
