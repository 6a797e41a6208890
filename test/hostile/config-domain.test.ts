import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { engineSettings } from '../../src/cli/engine-settings.js';
import { VirtualClock } from '../../src/core/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { problemsOf } from '../support/config-problems.js';

describe('config: only plain numbers, every setting in its domain', () => {
  it.each([
    ['HTTP_PORT', '1e3'],
    ['DB_BATCH_ROWS', '0x10'],
    ['HTTP_PORT', ' 5'],
    ['HTTP_PORT', ''],
    ['HTTP_PORT', '+80'],
    ['SPIKE_PRICE_1M_PCT', 'Infinity'],
    ['SUCCESS_RATE_PRIOR', '1e-1'],
    ['WS_STALE_AFTER_MS', '60000.0.0'],
    ['THRESHOLD_OVERRIDES_USD', 'BTC:1e9'],
    ['ESTIMATOR_LEVERAGE_TIERS', '5:0x1'],
  ])('%s=%j is refused with one line naming the setting', (key, value) => {
    const problems = problemsOf({ [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${key}: `)).toBe(true);
    expect(problems[0]).toMatch(/plain decimal/);
  });

  it.each([
    ['ESTIMATOR_LEVERAGE_TIERS', '5:0', /> 0/],
    ['ESTIMATOR_LEVERAGE_TIERS', '100000:1', /maximum of 200/],
    ['ESTIMATOR_LEVERAGE_TIERS', '200:1', /maximum of 200/],
    ['ESTIMATOR_LEVERAGE_TIERS', '0.5:1', /≥ 1/],
    ['ESTIMATOR_LEVERAGE_TIERS', '5:0.5,10:0.6', /sum to 1/],
    ['ESTIMATOR_LEVERAGE_TIERS', '5:0.5,5.0:0.5', /twice/],
    ['SIGNAL_RANGE_WEIGHTS', '7d:0', /> 0/],
    ['SIGNAL_RANGE_WEIGHTS', '14d:1,2w:1', /twice/],
    ['THRESHOLD_OVERRIDES_USD', 'BTC:5', /≥ 1000/],
    ['SPIKE_PRICE_1M_PCT', '150', /≤ 100/],
    ['SPIKE_VOLUME_RATIO', '0.5', /> 1/],
    ['SUCCESS_RATE_PRIOR', '1.5', /\[0, 1\]/],
    ['RANK_ARMED_K', '20', /RANK_TOP_N/],
    ['WS_PONG_TIMEOUT_MS', '30000', /WS_PING_INTERVAL_MS/],
    ['READY_LIVE_TOPIC_SHARE', '0', /> 0/],
    ['INSTRUMENTS_MAX_DROP_FRACTION', '1.5', /≤ 1/],
    ['INSTRUMENTS_SHRINK_CONFIRMATIONS', '0', /≥ 1/],
    ['DISCOVERY_INTERVAL_MS', '0', /≥ 60000/],
  ])('%s=%s is out of its domain', (key, value, why) => {
    const problems = problemsOf({ [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`${key}: `)).toBe(true);
    expect(problems[0]).toMatch(why);
  });

  it('still accepts plain integers and decimals, and empty optional secrets as unset', () => {
    const c = loadConfig({ HTTP_PORT: '1000', DB_BATCH_ROWS: '16', SPIKE_PRICE_1M_PCT: '2.5', ESTIMATOR_LEVERAGE_TIERS: '10:0.5,20:0.5', COINGLASS_API_KEY: '' });
    expect([c.httpPort, c.db.batchRows, c.spike.price1mPct, c.coinglassApiKey]).toEqual([1000, 16, 2.5, undefined]);
    expect(c.estimatorLeverageTiers).toEqual([
      { leverage: 10, weight: 0.5 },
      { leverage: 20, weight: 0.5 },
    ]);
  });

  it('any leverage tier list the config accepts builds a working model (no fault on the first frame)', () => {
    for (const tiers of ['1:1', '199:1', '1:0.25,50:0.25,100:0.25,199.5:0.25', '5:0.3,10:0.3,25:0.2,50:0.15,100:0.05']) {
      const config = loadConfig({ ESTIMATOR_LEVERAGE_TIERS: tiers });
      const faults: string[] = [];
      const engine = new Engine({ clock: new VirtualClock(0), drain: { mode: 'sync' }, ...engineSettings(config), onSystemEvent: (e) => faults.push(e.error) });
      engine.ingest('{"topic":"tickers.BTCUSDT","type":"snapshot","ts":1,"cs":1,"data":{"symbol":"BTCUSDT","lastPrice":"100","openInterest":"5"}}', 1);
      expect(faults, tiers).toEqual([]);
      expect(engine.describe('BTCUSDT'), tiers).toBeDefined();
    }
  });
});
