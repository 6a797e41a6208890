import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoinEvaluated, RankingUpdated } from '../src/actors/messages.js';
import { loadConfig } from '../src/cli/config.js';
import type { EngineOutput } from '../src/engine/engine.js';
import { replayTape } from '../src/cli/replay.js';
import { startDaemon } from '../src/cli/run.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { createLogger } from '../src/sinks/logger.js';
import { startFakeBybit } from './support/fake-bybit.js';
import { FakeCoinGlass, heatmapData } from './support/fake-coinglass.js';
import { Redis } from 'ioredis';
import { decodeBusMessage } from '../src/sinks/bus-schema.js';
import { REDIS_URL, redisAvailable } from './support/services.js';
import { Cleanups, waitFor } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());


/** What a ranking decided, without wall-clock-only fields. */
const decision = (r: RankingUpdated) => ({ rankedAt: r.rankedAt, top: r.top, armed: r.armed });

describe('CoinGlass heatmaps through the daemon', () => {
  it('ranks and arms a coin from CoinGlass clusters, records the replies, and a replay of the tape decides the same', async () => {
    const KEY = 'cg-test-key-0123456789';
    const cg = await FakeCoinGlass.start(KEY);
    cleanups.push(() => cg.stop());
    // Shorts stacked above 100 (significant for BTC's $100M threshold), a thin long band below: LONG.
    cg.heatmap = () =>
      heatmapData({
        refPriceUsd: 100,
        bands: [
          { priceUsd: 104, usd: 300_000_000, fromColumn: 0 },
          { priceUsd: 104.2, usd: 150_000_000, fromColumn: 5 },
          { priceUsd: 95, usd: 40_000_000, fromColumn: 2 },
        ],
      });
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const tapeDir = mkdtempSync(path.join(tmpdir(), 'ws-cg-tape-'));
    const prefix = `wstest${process.pid}${Date.now()}`;
    const live: EngineOutput[] = [];
    const config = loadConfig({
      BYBIT_WS_URL: ws.url,
      BYBIT_REST_URL: rest.baseUrl,
      HTTP_PORT: '0',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-cg-data-')),
      COINGLASS_API_KEY: KEY,
      COINGLASS_URL: cg.baseUrl,
      ...(redisAvailable ? { REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    });
    const daemon = await startDaemon(config, createLogger('silent'), { recordDir: tapeDir, onOutput: (e) => live.push(e) });
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : daemon.close()));

    const armed = () => live.some((e) => e.kind === 'ranking' && e.armed.includes('BTCUSDT'));
    await waitFor('BTCUSDT armed from CoinGlass clusters', armed);
    const res = await fetch(`http://127.0.0.1:${daemon.port}/rankings`);
    const rankings = (await res.json()) as RankingUpdated;
    expect(rankings.top[0]).toMatchObject({ symbol: 'BTCUSDT', direction: 'LONG' });
    expect(rankings.armed).toEqual(['BTCUSDT']);
    const view = (await (await fetch(`http://127.0.0.1:${daemon.port}/symbols/BTCUSDT`)).json()) as { liquidation: { direction: string; ranges: { range: string; source: string }[] } };
    expect(view.liquidation.direction).toBe('LONG');
    expect(view.liquidation.ranges.filter((r) => r.source === 'coinglass').map((r) => r.range).sort()).toEqual(['12h', '180d', '1y', '24h', '30d', '3d', '7d', '90d']);
    // 14d is never CoinGlass's: it is the own estimate, shown as such.
    expect(view.liquidation.ranges.find((r) => r.range === '14d')?.source).toBe('estimate');
    const status = (await (await fetch(`http://127.0.0.1:${daemon.port}/coinglass`)).json()) as { state: string; coverage: { pairs: number; share: number }; ownEstimateRanges: string[] };
    expect(status).toMatchObject({ state: 'running', ownEstimateRanges: ['14d'], coverage: { pairs: 8 } });
    expect(status.coverage.share).toBeGreaterThan(0);
    expect(cg.requests.length).toBeGreaterThanOrEqual(4);
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.port}/metrics`)).text();
    expect(metrics).toMatch(/whalestack_coinglass_heatmap_age_seconds\{coin="BTCUSDT",range="7d"\} \d/);
    expect(metrics).toMatch(/whalestack_coinglass_coverage_ratio\{scope="all"\} [\d.]+/);
    expect(metrics).toContain('# TYPE whalestack_source_distance_centre_pct histogram');
    await daemon.close();
    closed = true;
    if (redisAvailable) {
      const redis = new Redis(REDIS_URL);
      cleanups.push(async () => {
        await redis.del(`${prefix}:rankings`, `${prefix}:signals`);
        redis.disconnect();
      });
      const entries = await redis.xrange(`${prefix}:rankings`, '-', '+');
      expect(entries.length).toBeGreaterThan(0);
      const fields = entries.at(-1)![1];
      const decoded = decodeBusMessage(fields[fields.indexOf('data') + 1]!);
      expect(decoded.ok && decoded.message.type === 'ranking' && decoded.message.armed).toEqual(['BTCUSDT']);
    }

    const replayed: EngineOutput[] = [];
    const summary = await replayTape([tapeDir], { symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS }, onOutput: (e) => replayed.push(e) });
    expect(summary.tapeIssues).toBe(0);
    const liveRankings = live.filter((e): e is RankingUpdated => e.kind === 'ranking').map(decision);
    const replayRankings = replayed.filter((e): e is RankingUpdated => e.kind === 'ranking').map(decision);
    expect(replayRankings).toEqual(liveRankings);
    const evals = (xs: EngineOutput[]) => xs.filter((e): e is CoinEvaluated => e.kind === 'evaluated').map((e) => ({ at: e.atMs, a: e.assessment }));
    expect(evals(replayed)).toEqual(evals(live));
  }, 60_000);
});
