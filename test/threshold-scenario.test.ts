import { describe, expect, it } from 'vitest';
import type { RankingUpdated } from '../src/actors/messages.js';
import { replayCoinGlassReply } from '../src/cli/coinglass.js';
import { replayCoinInputs } from '../src/cli/liquidity-state.js';
import { VirtualClock } from '../src/core/clock.js';
import { DEFAULT_COIN_LIQUIDITY_CONFIG, type CoinLiquidityConfig } from '../src/core/coin-liquidity.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { Engine, type EngineOutput } from '../src/engine/engine.js';
import { CoinGlassClient } from '../src/streams/coinglass-client.js';
import { simulateMarket } from '../src/streams/market-simulator.js';
import { heatmapData } from './support/fake-coinglass.js';

const START = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const BIG = 'SYM001USDT'; // market cap $60B: tier $50M
const SMALL = 'SYM002USDT'; // market cap $500M: tier $10M
const CG_URL = 'https://open-api-v4.coinglass.com/api/futures/liquidation/heatmap/model2';

/**
 * A quiet simulated market for 35 minutes. At minute 2 the coins' market caps arrive (as the `coin-inputs`
 * records CoinGlass `coins-markets` becomes); at minute 20, CoinGlass 7d and 30d heatmaps: the big coin has a
 * $30M short cluster 3 % above its price (and $5M of longs 3 % below), the small coin a $15M short cluster
 * (and $3M of longs). Everything goes through the replay paths (`fromRecorded`, `replayCoinInputs`).
 */
function replay(liquidity: CoinLiquidityConfig): RankingUpdated {
  const out: EngineOutput[] = [];
  let clock: VirtualClock | undefined;
  let engine: Engine | undefined;
  const client = new CoinGlassClient({ apiKey: 'replay-no-network' });
  let capsSent = false;
  let mapsSent = false;
  for (const rec of simulateMarket({ seed: 'tiers', symbolCount: 4, startMs: START, durationMs: 35 * MIN, scenarios: [] })) {
    if (clock === undefined) {
      clock = new VirtualClock(rec.t);
      engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS, liquidity }, onOutput: (e) => out.push(e) });
    }
    clock.advanceTo(rec.t);
    if (!capsSent && rec.t >= START + 2 * MIN) {
      capsSent = true;
      expect(replayCoinInputs(JSON.stringify({ symbol: BIG, inputs: { marketCapUsd: 60e9 } }), engine!)).toBe(true);
      expect(replayCoinInputs(JSON.stringify({ symbol: SMALL, inputs: { marketCapUsd: 5e8 } }), engine!)).toBe(true);
    }
    if (!mapsSent && rec.t >= START + 20 * MIN) {
      mapsSent = true;
      for (const [symbol, shortUsd, longUsd] of [[BIG, 30e6, 5e6], [SMALL, 15e6, 3e6]] as const) {
        const price = Number((engine!.describe(symbol)!.features as { lastPrice: number }).lastPrice);
        const data = heatmapData({ refPriceUsd: price, bands: [{ priceUsd: price * 1.03, usd: shortUsd, fromColumn: 0 }, { priceUsd: price * 0.97, usd: longUsd, fromColumn: 0 }] });
        for (const range of ['7d', '30d']) {
          const body = JSON.stringify({ code: '0', msg: 'success', data });
          expect(replayCoinGlassReply(client, `${CG_URL}?exchange=Bybit&symbol=${symbol}&range=${range}`, body, rec.t, engine!)).toBe(true);
        }
      }
    }
    if (rec.k === undefined) engine!.ingest(rec.d, rec.t);
  }
  // The periodic ranking at minute 30, while the maps are fresh (a CoinGlass map older than 10 minutes gives way to the estimate).
  const rankings = out.filter((e): e is RankingUpdated => e.kind === 'ranking' && e.rankedAt === START + 30 * MIN);
  return rankings.at(-1)!;
}

const withDirection = (r: RankingUpdated) => r.top.filter((c) => c.direction !== 'NONE').map((c) => [c.symbol, c.direction]);

describe('replay: market-cap tiers decide which cluster is significant', () => {
  it('a $30M cluster on a > $10B coin (tier $50M) is not significant; a $15M cluster on a small coin (tier $10M) is', () => {
    const ranking = replay(DEFAULT_COIN_LIQUIDITY_CONFIG);
    expect(withDirection(ranking)).toEqual([[SMALL, 'LONG']]);
    expect(ranking.armed).toEqual([SMALL]);
    expect(ranking.top.find((c) => c.symbol === BIG)?.direction ?? 'NONE').toBe('NONE');
  });

  it("with the old $10M default for both, both would rank with a direction", () => {
    const old: CoinLiquidityConfig = {
      ...DEFAULT_COIN_LIQUIDITY_CONFIG,
      evaluation: { ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation, overridesUsd: { SYM001: 10e6, SYM002: 10e6 } },
    };
    const ranking = replay(old);
    expect(withDirection(ranking).sort()).toEqual([[BIG, 'LONG'], [SMALL, 'LONG']]);
  });
});
