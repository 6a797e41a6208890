import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summariseDistances } from '../src/cli/coinglass.js';
import { DEFAULT_CLUSTER_CONFIG } from '../src/core/clusters.js';
import { CoinLiquidity } from '../src/core/coin-liquidity.js';
import { buildHeatmapSnapshot } from '../src/core/heatmap.js';
import { compareSources } from '../src/core/source-distance.js';
import { CoinGlassClient, liquidationMapSnapshot } from '../src/streams/coinglass-client.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 1);

/** `../shared/data/samples/coinglass` beside the main checkout or beside this worktree's parent; absent → skip. */
const SAMPLES = [
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data/samples/coinglass'),
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/samples/coinglass'),
].find((d) => existsSync(d));

describe('CoinGlass vs own estimate distance', () => {
  it('compares the largest cluster per side by centre and size', () => {
    const snap = (source: 'coinglass' | 'estimate', levels: { priceUsd: number; usd: number }[]) =>
      buildHeatmapSnapshot({ symbol: 'XUSDT', range: '7d', source, refPrice: 100, fetchedAt: T0, levels }).snapshot;
    const cg = snap('coinglass', [{ priceUsd: 103, usd: 40e6 }, { priceUsd: 103.2, usd: 20e6 }, { priceUsd: 95, usd: 30e6 }]);
    const est = snap('estimate', [{ priceUsd: 104, usd: 30e6 }, { priceUsd: 96, usd: 45e6 }]);
    const d = compareSources(cg, est, 100, DEFAULT_CLUSTER_CONFIG);
    expect(d).toMatchObject({ symbol: 'XUSDT', range: '7d', externalClusters: 2, estimateClusters: 2 });
    expect(d.short!.externalCentreUsd).toBeCloseTo((103 * 40 + 103.2 * 20) / 60, 9);
    expect(d.short!.centreDistancePct).toBeCloseTo(((104 - d.short!.externalCentreUsd) / d.short!.externalCentreUsd) * 100, 9);
    expect(d.short!.sizeRatio).toBeCloseTo(0.5, 12);
    expect(d.long).toMatchObject({ externalCentreUsd: 95, estimateCentreUsd: 96, sizeRatio: 1.5 });
    expect(d.totalUsdRatio).toBeCloseTo(75 / 90, 12);
    const summary = summariseDistances([d]);
    expect(summary['7d']).toMatchObject({ coins: 1, medianSizeRatio: 0.5 });
  });

  describe.runIf(SAMPLES !== undefined)('on the sample CoinGlass replies (../shared/data/samples/coinglass)', () => {
    const client = new CoinGlassClient({ apiKey: 'replay-no-network' });
    const read = (name: string) => readFileSync(path.join(SAMPLES!, name), 'utf8');

    /** A coin whose own estimate has long liquidations near the sample's 48,935 level. */
    function coinNear(price: number): CoinLiquidity {
      const coin = new CoinLiquidity('BTCUSDT');
      let oi = 1000;
      for (let h = 0; h < 48; h++) {
        oi *= 1.01;
        coin.onTicker({ kind: 'ticker', symbol: 'BTCUSDT', tsEvent: T0 + h * HOUR, tsInit: T0 + h * HOUR, lastPrice: price, markPrice: price, openInterest: oi, openInterestValue: oi * price, fundingRate: 0 });
      }
      return coin;
    }

    it('liquidation map (one level at 48,935): the estimate is compared with it, long side', () => {
      const reply = client.fromRecorded('https://open-api-v4.coinglass.com/api/futures/liquidation/map?exchange=Bybit&symbol=BTCUSDT&range=7d', read('liquidation_map_pair.doc-example.json'), T0 + 48 * HOUR);
      expect(reply.ok).toBe(true);
      if (!reply.ok || reply.value.endpoint !== 'liquidation-map') throw new Error('not a liquidation map');
      const { snapshot } = liquidationMapSnapshot(reply.value.value, 50_000);
      expect(snapshot.levels).toEqual([{ priceUsd: 48935, usd: 1579370.77, side: 'long', label: 'ESTIMATED' }]);
      const coin = coinNear(50_000);
      const d = coin.onExternalSnapshot(snapshot)!;
      expect(d).toMatchObject({ symbol: 'BTCUSDT', range: '7d', externalClusters: 1 });
      expect(d.estimateClusters).toBeGreaterThan(0);
      expect(d.long!.externalCentreUsd).toBe(48935);
      expect(d.long!.centreDistancePct).toBeCloseTo((Math.abs(d.long!.estimateCentreUsd - 48935) / 48935) * 100, 12);
      expect(d.long!.sizeRatio).toBeCloseTo(d.long!.estimateUsd / 1579370.77, 12);
      expect(d.short).toBeUndefined(); // CoinGlass shows no short level
      console.log(`sample liquidation map vs own estimate: long centre ${d.long!.estimateCentreUsd.toFixed(0)} vs 48935 (${d.long!.centreDistancePct.toFixed(2)} %), size ratio ${d.long!.sizeRatio.toFixed(2)}`);
    });

    it('heatmap doc example (cells outside its y axis): no CoinGlass clusters, reported as such, nothing thrown', () => {
      const reply = client.fromRecorded('https://open-api-v4.coinglass.com/api/futures/liquidation/heatmap/model2?exchange=Bybit&symbol=BTCUSDT&range=7d', read('heatmap_model2_pair.doc-example.json'), T0 + 48 * HOUR);
      expect(reply.ok).toBe(true);
      if (!reply.ok || reply.value.endpoint !== 'heatmap') throw new Error('not a heatmap');
      const d = coinNear(61_590.5).onExternalSnapshot(reply.value.value.snapshot)!;
      expect(d).toMatchObject({ externalClusters: 0, long: undefined, short: undefined });
      expect(d.totalUsdRatio).toBeNaN();
    });
  });
});
