import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import { buildHeatmapSnapshot, type HeatmapSnapshot } from '../src/core/heatmap.js';
import { CoinGlassClient, CoinGlassError, type CoinGlassErrorKind } from '../src/streams/coinglass-client.js';
import { CoinGlassScheduler, CoinGlassSchedulerError, type CoinGlassSchedulerOptions, type RefreshLane } from '../src/streams/coinglass-scheduler.js';
import { COINGLASS_HEATMAP_RANGES, type CoinGlassHeatmapRange } from '../src/streams/coinglass-schemas.js';
import { TokenBucket } from '../src/streams/token-bucket.js';
import { FakeCoinGlass } from './support/fake-coinglass.js';

const SEED = 20260809;
const MIN = 60_000;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function snapshotOf(coin: string, range: CoinGlassHeatmapRange, atMs: number): HeatmapSnapshot {
  return buildHeatmapSnapshot({ symbol: `${coin}USDT`, range, source: 'coinglass', refPrice: 100, fetchedAt: atMs, levels: [{ priceUsd: 110, usd: 1 }] }).snapshot;
}

const cgError = (kind: CoinGlassErrorKind, msg: string, extra: { retryAfterMs?: number; httpStatus?: number; serverMessage?: string } = {}) =>
  new CoinGlassError(kind, msg, { url: '/api/futures/liquidation/aggregated-heatmap/model2', ...extra });

interface Call {
  readonly coin: string;
  readonly range: CoinGlassHeatmapRange;
  readonly lane: RefreshLane;
  readonly atMs: number;
}

/** A scheduler on a VirtualClock whose fetches answer at once with `answer(call)` (a snapshot, or an error to throw). */
function harness(answer: (call: Call, n: number) => HeatmapSnapshot | Error = (c) => snapshotOf(c.coin, c.range, c.atMs), opts: Partial<CoinGlassSchedulerOptions> = {}) {
  const clock = new VirtualClock(0);
  const calls: Call[] = [];
  const scheduler = new CoinGlassScheduler({
    clock,
    apiKey: 'k',
    random: () => 0,
    fetchHeatmap: async (coin, range, lane) => {
      const call = { coin, range, lane, atMs: clock.now() };
      calls.push(call);
      const out = answer(call, calls.length);
      if (out instanceof Error) throw out;
      return out;
    },
    ...opts,
  });
  /** Advances virtual time in steps, letting replies land between steps. */
  const runTo = async (targetMs: number, stepMs = 1000) => {
    await flush();
    while (clock.now() < targetMs) {
      clock.advanceTo(Math.min(targetMs, clock.now() + stepMs));
      await flush();
    }
  };
  return { clock, calls, scheduler, runTo };
}

/** Largest number of calls in any window (t − windowMs, t] ending at a call. */
function maxInWindow(times: readonly number[], windowMs = MIN): number {
  let best = 0;
  for (const t of times) best = Math.max(best, times.filter((u) => u > t - windowMs && u <= t).length);
  return best;
}

describe('TokenBucket', () => {
  it('agrees with a naive rolling-window count and predicts the next free slot exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 200 }), (limit, gaps) => {
        const bucket = new TokenBucket(limit, 60_000);
        const taken: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const inWindow = taken.filter((t) => t > now - 60_000).length;
          const next = bucket.nextAvailableAt(now);
          expect(next === now).toBe(inWindow < limit);
          if (next > now) expect(taken.filter((t) => t > next - 60_000).length).toBe(limit - 1);
          expect(bucket.tryTake(now)).toBe(inWindow < limit);
          if (inWindow < limit) taken.push(now);
        }
        expect(maxInWindow(taken)).toBeLessThanOrEqual(limit);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('CoinGlassScheduler', () => {
  it('without a key it is disabled: start is a no-op, status says why, requests are refused', async () => {
    for (const apiKey of [undefined, '', '   ']) {
      const { scheduler, calls, runTo } = harness(undefined, { apiKey });
      scheduler.setCoins([{ coin: 'BTC', rank: 1 }]);
      scheduler.start();
      expect(scheduler.status.state).toBe('disabled');
      expect(scheduler.status.reason).toContain('COINGLASS_API_KEY');
      await expect(scheduler.request('BTC', '24h', 'pre-trade')).rejects.toMatchObject({ reason: 'DISABLED' });
      await runTo(10 * MIN, 10_000);
      expect(calls).toHaveLength(0);
    }
  });

  it('serves queued pre-trade before spike before sweep', async () => {
    const { scheduler, calls, runTo } = harness(undefined, { planRequestsPerMinute: 2, budgetFraction: 1, maxConcurrent: 1, ranges: ['24h', '7d'] });
    scheduler.setCoins([{ coin: 'AAA', rank: 1 }, { coin: 'BBB', rank: 2 }]);
    scheduler.start();
    await runTo(1000);
    expect(calls.map((c) => c.lane)).toEqual(['sweep', 'sweep']);
    scheduler.request('X1', '24h', 'spike');
    scheduler.request('P1', '24h', 'pre-trade');
    scheduler.request('X2', '7d', 'spike');
    scheduler.request('P2', '7d', 'pre-trade');
    await runTo(3 * MIN);
    expect(calls.map((c) => `${c.lane}:${c.coin}`)).toEqual(['sweep:AAA', 'sweep:AAA', 'pre-trade:P1', 'pre-trade:P2', 'spike:X1', 'spike:X2', 'sweep:BBB', 'sweep:BBB']);
    expect(calls.map((c) => c.atMs)).toEqual([0, 0, MIN, MIN, 2 * MIN, 2 * MIN, 3 * MIN, 3 * MIN]);
  });

  it('dedupes queued and in-flight requests for the same (coin, range) and lifts them to the higher lane', async () => {
    const { scheduler, calls, runTo } = harness(undefined, { planRequestsPerMinute: 1, budgetFraction: 1, ranges: ['24h'] });
    scheduler.start();
    const first = scheduler.request('AAA', '24h', 'sweep');
    await runTo(10);
    expect(calls).toHaveLength(1);
    const sweepQueued = scheduler.request('BBB', '24h', 'sweep');
    const lifted = scheduler.request('BBB', '24h', 'pre-trade');
    const again = scheduler.request('BBB', '24h', 'spike');
    await runTo(MIN + 10);
    expect(calls.map((c) => `${c.lane}:${c.coin}`)).toEqual(['sweep:AAA', 'pre-trade:BBB']);
    const [a, b, c] = await Promise.all([sweepQueued, lifted, again]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect((await first).symbol).toBe('AAAUSDT');
    expect(scheduler.stats().deduped).toBe(2);

    let release: (s: HeatmapSnapshot) => void = () => undefined;
    const slow = harness(() => snapshotOf('Q', '24h', 0));
    const gated = new CoinGlassScheduler({ clock: slow.clock, apiKey: 'k', fetchHeatmap: () => new Promise((r) => (release = r)) });
    gated.start();
    const p1 = gated.request('Q', '24h', 'sweep');
    const p2 = gated.request('Q', '24h', 'pre-trade');
    await flush();
    expect(gated.budget()).toMatchObject({ inFlight: 1, usedInWindow: 1 });
    release(snapshotOf('Q', '24h', 0));
    expect(await p1).toBe(await p2);
    expect(gated.stats().dispatched).toEqual({ 'pre-trade': 0, spike: 0, top: 0, sweep: 1 });
  });

  it('sweeps every coin × range by rank, then staleness, every 5 minutes', async () => {
    const ranks = [7, 3, 12, 1, 20, 5, 9, 2, 15, 4, 11, 6, 18, 8, 13, 10, 19, 14, 17, 16];
    const coins = ranks.map((rank, i) => ({ coin: `C${i}`, rank }));
    const { scheduler, calls, runTo } = harness(undefined, { sweepIntervalMs: 5 * MIN });
    scheduler.setCoins(coins);
    scheduler.start();
    await runTo(MIN);
    expect(calls).toHaveLength(20 * 8);
    const byRank = [...coins].sort((a, b) => a.rank - b.rank).map((c) => c.coin);
    expect([...new Set(calls.map((c) => c.coin))]).toEqual(byRank);
    expect(calls.slice(0, 8).map((c) => c.range)).toEqual([...COINGLASS_HEATMAP_RANGES]);

    const top = byRank[0]!;
    await runTo(100_000);
    await scheduler.request(top, '24h', 'pre-trade');
    await runTo(250_000);
    await scheduler.request(top, '7d', 'pre-trade');
    await runTo(301_000);
    const round2 = calls.filter((c) => c.lane === 'sweep' && c.atMs === 5 * MIN);
    const topRound2 = round2.filter((c) => c.coin === top).map((c) => c.range);
    // 7d was fetched 50 s ago (skipped); 24h 200 s ago (kept, but stalest first puts it last).
    expect(topRound2).toEqual(['12h', '3d', '30d', '90d', '180d', '1y', '24h']);
    expect(round2).toHaveLength(20 * 8 - 1);

    await runTo(21 * MIN, 5000);
    for (const { coin } of coins) {
      for (const range of COINGLASS_HEATMAP_RANGES) {
        const times = calls.filter((c) => c.coin === coin && c.range === range && c.lane === 'sweep').map((c) => c.atMs);
        expect(times.length).toBeGreaterThanOrEqual(4);
        const gaps = times.slice(1).map((t, i) => t - times[i]!);
        // Replies land between 5 s steps of the harness, so a round may finish dispatching one step late.
        const offGaps = gaps.filter((g) => g < 5 * MIN || g > 5 * MIN + 5000);
        if (!(coin === top && (range === '7d' || range === '24h'))) expect({ coin, range, offGaps }).toEqual({ coin, range, offGaps: [] });
        expect(scheduler.ageMs(coin, range)).toBeLessThanOrEqual(5 * MIN);
      }
    }
    expect(scheduler.freshness()).toHaveLength(160);
  });

  it('reaches every pair when the budget is too small for 5 minutes, never exceeding it', async () => {
    const coins = Array.from({ length: 10 }, (_, i) => ({ coin: `C${i}`, rank: i + 1 }));
    const { scheduler, calls, runTo } = harness(undefined, { planRequestsPerMinute: 10, budgetFraction: 1 });
    scheduler.setCoins(coins);
    scheduler.start();
    await runTo(7 * MIN + 1000, 500);
    const pairs = new Set(calls.map((c) => `${c.coin}/${c.range}`));
    expect(pairs.size).toBe(80);
    expect(maxInWindow(calls.map((c) => c.atMs))).toBe(10);
    expect(scheduler.budget().usedInWindow).toBe(10);
  });

  it('429: honours Retry-After, else backs off exponentially, then resumes with the same request first', async () => {
    const { scheduler, calls, runTo } = harness((c, n) => (n <= 4 ? cgError('rate-limited', '429', n === 1 ? { retryAfterMs: 30_000 } : {}) : snapshotOf(c.coin, c.range, c.atMs)), {
      maxConcurrent: 1,
      rateLimitBaseMs: 10_000,
    });
    scheduler.start();
    const p = scheduler.request('BTC', '24h', 'spike');
    scheduler.request('ETH', '24h', 'sweep');
    await runTo(3 * MIN, 250);
    // 30 s (Retry-After), then equal jitter with random 0 on the 2nd, 3rd, 4th consecutive 429: 20 000/2, 40 000/2, 80 000/2.
    expect(calls.map((c) => [c.coin, c.atMs])).toEqual([['BTC', 0], ['BTC', 30_000], ['BTC', 40_000], ['BTC', 60_000], ['BTC', 100_000], ['ETH', 100_000]]);
    expect((await p).symbol).toBe('BTCUSDT');
    expect(scheduler.stats().rateLimited).toBe(4);
  });

  it('retries timeouts up to maxAttempts, then rejects and records the error', async () => {
    const { scheduler, calls, runTo } = harness(() => cgError('timeout', 'timed out'), { maxAttempts: 3, retryBaseMs: 2000 });
    scheduler.start();
    const p = scheduler.request('BTC', '24h', 'pre-trade');
    await runTo(MIN, 100);
    await expect(p).rejects.toMatchObject({ kind: 'timeout' });
    expect(calls.map((c) => c.atMs)).toEqual([0, 1000, 3000]);
    expect(scheduler.stats()).toMatchObject({ retried: 2, failed: 1 });
    expect(scheduler.freshness().find((f) => f.coin === 'BTC')?.lastError).toBe('timed out');
    expect(scheduler.status.state).toBe('running');
  });

  it('a key or plan refusal halts it: queued and later requests are refused', async () => {
    const { scheduler, calls, runTo } = harness(() => cgError('api', 'code 40001 "Upgrade plan"', { httpStatus: 200, serverMessage: 'Upgrade plan' }), { maxConcurrent: 1 });
    scheduler.start();
    const first = scheduler.request('BTC', '24h', 'pre-trade');
    const queued = scheduler.request('ETH', '24h', 'pre-trade');
    await runTo(MIN);
    await expect(first).rejects.toMatchObject({ kind: 'api' });
    await expect(queued).rejects.toBeInstanceOf(CoinGlassSchedulerError);
    await expect(scheduler.request('SOL', '24h', 'pre-trade')).rejects.toMatchObject({ reason: 'HALTED' });
    expect(scheduler.status).toMatchObject({ state: 'halted' });
    expect(scheduler.status.reason).toContain('Upgrade plan');
    expect(calls).toHaveLength(1);
  });

  it('sizes the budget from API-KEY-MAX-LIMIT and counts others using the key', () => {
    const { scheduler } = harness();
    expect(scheduler.budget().limitPerMinute).toBe(1080);
    scheduler.noteServerLimits({ maxPerMinute: 300 });
    expect(scheduler.budget().limitPerMinute).toBe(270);
    scheduler.noteServerLimits({ maxPerMinute: 6000, usedInWindow: 40 });
    expect(scheduler.budget()).toMatchObject({ limitPerMinute: 5400, usedInWindow: 40, serverMaxPerMinute: 6000, serverUsedInWindow: 40 });
    scheduler.noteServerLimits({ usedInWindow: 40 });
    expect(scheduler.budget().usedInWindow).toBe(40);
  });

  it('serves a fresh enough snapshot from cache and reports freshness', async () => {
    const { scheduler, calls, runTo } = harness();
    scheduler.start();
    const s = await scheduler.request('BTC', '7d', 'pre-trade');
    await runTo(5000);
    expect(scheduler.lastFetchedAt('BTC', '7d')).toBe(0);
    expect(scheduler.ageMs('BTC', '7d')).toBe(5000);
    expect(scheduler.ageMs('BTC', '24h')).toBeUndefined();
    expect(await scheduler.request('BTC', '7d', 'pre-trade', { maxAgeMs: 5 * MIN })).toBe(s);
    expect(calls).toHaveLength(1);
    await scheduler.request('BTC', '7d', 'pre-trade', { maxAgeMs: 1000 });
    expect(calls).toHaveLength(2);
    expect(scheduler.stats().servedFromCache).toBe(1);
    expect(scheduler.latest('BTC', '7d')?.range).toBe('7d');
  });

  it('under any interleaving of requests (all lanes), replies and 429s: budget, lane order and dedupe hold, and the sweep reaches every pair', async () => {
    type Step = { t: 'req'; coin: string; range: CoinGlassHeatmapRange; lane: RefreshLane } | { t: 'adv'; ms: number } | { t: 'reply' };
    type Reply = { ok: boolean; retryAfterMs?: number; serverMax?: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ t: fc.constant('req' as const), coin: fc.constantFrom('A', 'B', 'S1'), range: fc.constantFrom<CoinGlassHeatmapRange>('24h', '7d'), lane: fc.constantFrom<RefreshLane>('pre-trade', 'spike', 'sweep') }),
      fc.record({ t: fc.constant('adv' as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
      fc.constant({ t: 'reply' as const }),
    );
    const reply: fc.Arbitrary<Reply> = fc.record(
      { ok: fc.boolean(), retryAfterMs: fc.integer({ min: 0, max: 90_000 }), serverMax: fc.integer({ min: 1, max: 8 }) },
      { requiredKeys: ['ok'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.array(reply, { minLength: 1, maxLength: 12 }).filter((rs) => rs.some((r) => r.ok)),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        async (s, steps, replies, planLimit, maxConcurrent) => {
          const clock = new VirtualClock(0);
          const dispatches: { atMs: number; limit: number }[] = [];
          const inFlight = new Set<string>();
          const problems: string[] = [];
          /** No dispatch may start before this (a 429 said wait; without Retry-After the backoff is ≥ 5 s). */
          let mustWaitUntil = 0;
          let n = 0;
          const scheduler: CoinGlassScheduler = new CoinGlassScheduler({
            clock, apiKey: 'k', planRequestsPerMinute: planLimit, budgetFraction: 1, maxConcurrent, ranges: ['24h', '7d'], random: () => 0.5,
            fetchHeatmap: (coin, range, lane) => {
              const key = `${coin}/${range}`;
              const b = scheduler.budget();
              dispatches.push({ atMs: clock.now(), limit: b.limitPerMinute });
              if (inFlight.has(key)) problems.push(`${key} dispatched twice at once`);
              if (clock.now() < mustWaitUntil) problems.push(`${key} dispatched at ${clock.now()} during a 429 pause to ${mustWaitUntil}`);
              if (lane === 'spike' && b.queued['pre-trade'] > 0) problems.push(`spike ${key} before queued pre-trade`);
              if (lane === 'sweep' && b.queued['pre-trade'] + b.queued.spike > 0) problems.push(`sweep ${key} before queued higher lanes`);
              inFlight.add(key);
              const r = replies[n++ % replies.length]!;
              return s.schedule(Promise.resolve(r), `${lane} ${key}`).then((rr) => {
                inFlight.delete(key);
                if (rr.serverMax !== undefined) scheduler.noteServerLimits({ maxPerMinute: rr.serverMax });
                if (!rr.ok) mustWaitUntil = Math.max(mustWaitUntil, clock.now() + (rr.retryAfterMs ?? 5000));
                if (!rr.ok) throw cgError('rate-limited', '429', rr.retryAfterMs === undefined ? {} : { retryAfterMs: rr.retryAfterMs });
                return snapshotOf(coin, range, clock.now());
              });
            },
          });
          scheduler.setCoins([{ coin: 'S1', rank: 2 }, { coin: 'S2', rank: 1 }]);
          scheduler.start();
          const pending: Promise<HeatmapSnapshot>[] = [];
          for (const st of steps) {
            if (st.t === 'req') pending.push(scheduler.request(st.coin, st.range, st.lane));
            else if (st.t === 'adv') clock.advanceTo(clock.now() + st.ms);
            else if (s.count() > 0) await s.waitOne();
            await flush();
          }
          for (let i = 0; i < 3000 && clock.now() < 90 * MIN; i++) {
            if (s.count() > 0) await s.waitOne();
            else clock.advanceTo(clock.now() + 5000);
            await flush();
          }
          scheduler.stop();
          while (s.count() > 0) await s.waitOne();
          expect(problems).toEqual([]);
          for (let i = 0; i < dispatches.length; i++) {
            const { atMs, limit } = dispatches[i]!;
            const inWindow = dispatches.filter((d) => d.atMs > atMs - MIN && d.atMs <= atMs).length;
            const sameTimeLater = dispatches.slice(i + 1).filter((d) => d.atMs === atMs).length;
            if (inWindow - sameTimeLater > limit) throw new Error(`${inWindow - sameTimeLater} requests in the minute to ${atMs} > limit ${limit}`);
          }
          const settled = await Promise.allSettled(pending);
          expect(settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
          for (const coin of ['S1', 'S2']) for (const range of ['24h', '7d'] as const) expect(scheduler.lastFetchedAt(coin, range)).toBeDefined();
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  }, 60_000);
});

describe('CoinGlassScheduler + CoinGlassClient against the local server', () => {
  let fake: FakeCoinGlass;
  beforeAll(async () => {
    fake = await FakeCoinGlass.start('integration-key');
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('server limit headers resize the budget; a 429 body with Retry-After pauses the scheduler', async () => {
    const clock = new VirtualClock(1_000_000);
    fake.maxLimitPerMinute = 20;
    let scheduler: CoinGlassScheduler | undefined;
    const client = new CoinGlassClient({
      apiKey: 'integration-key', baseUrl: fake.baseUrl, now: () => clock.now(),
      onRateLimit: (l) => scheduler?.noteServerLimits({ maxPerMinute: l.maxPerMinute }),
    });
    scheduler = new CoinGlassScheduler({
      clock, apiKey: 'integration-key', ranges: ['24h'],
      fetchHeatmap: async (coin, range) => (await client.aggregatedHeatmap({ coin, range })).snapshot,
    });
    scheduler.start();
    const ok = await scheduler.request('BTC', '24h', 'pre-trade');
    expect(ok.levels.length).toBeGreaterThan(0);
    expect(scheduler.budget().limitPerMinute).toBe(18);
    fake.inject({ kind: 'rate-limited', via: 'body', retryAfterSec: 12 });
    const eth = scheduler.request('ETH', '24h', 'spike');
    for (let i = 0; i < 50 && scheduler.stats().rateLimited === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(scheduler.budget().pausedUntilMs).toBe(1_000_000 + 12_000);
    clock.advanceTo(1_000_000 + 12_000);
    expect((await eth).symbol).toBe('ETHUSDT');
    expect(fake.requests.map((r) => r.query.symbol)).toEqual(['BTC', 'ETH', 'ETH']);
  });
});
