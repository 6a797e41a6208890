import { afterEach, describe, expect, it } from 'vitest';
import { LiveClock } from '../src/cli/live-clock.js';
import { VirtualClock } from '../src/core/clock.js';
import { BybitHistoryClient, HistoryFetchError } from '../src/streams/bybit-history.js';
import { runBackfill } from '../src/streams/history-backfill.js';
import { RestPacer } from '../src/streams/rest-pacer.js';
import { FakeBybitRest } from './support/fake-bybit-rest.js';
import { seedHistory } from './support/fake-history.js';
import { Cleanups } from './support/wait.js';

const H = 3_600_000;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

async function setup() {
  const rest = await FakeBybitRest.start();
  cleanups.push(() => rest.stop());
  const now = Date.now();
  const launch = Math.floor(now / H) * H - 10 * H;
  seedHistory(rest, 'AAAUSDT', launch, now);
  const clock = new LiveClock();
  cleanups.push(() => clock.cancelAll());
  const pacer = new RestPacer(clock, { limit: 50, timerName: 'client-test' });
  const client = new BybitHistoryClient({ baseUrl: rest.baseUrl, pacer, clock, retryBaseMs: 20, random: () => 0.5 });
  const window = { fromMs: launch, toMs: Math.floor(now / H) * H - H };
  return { rest, client, pacer, window, launch };
}

describe('Bybit history client', () => {
  it('HTTP 429 and 5xx are retried; the rows arrive once, ascending, inside the window', async () => {
    const { rest, client, window, launch } = await setup();
    rest.inject({ kind: 'http', status: 429 }, { times: 1 });
    rest.inject({ kind: 'http', status: 502 }, { times: 2 });
    const bars = await client.klines('AAAUSDT', '60', window);
    expect(bars.map((b) => b.tsMs)).toEqual(Array.from({ length: 10 }, (_, i) => launch + i * H));
    expect(client.stats).toMatchObject({ requests: 4, rateLimited: 1, retries: 2 });
  });

  it('a reply Bybit would not send, a retCode error and a ban are clear errors naming the request', async () => {
    const { rest, client, window } = await setup();
    rest.inject({ kind: 'malformed' });
    await expect(client.klines('AAAUSDT', '60', window)).rejects.toMatchObject({ reason: 'MALFORMED', message: expect.stringMatching(/^kline AAAUSDT 60 .*body is not JSON/) });
    rest.inject({ kind: 'retCode', retCode: 10001, retMsg: 'params error: symbol invalid' });
    await expect(client.openInterest('AAAUSDT', '1h', window)).rejects.toMatchObject({ reason: 'RET_CODE', message: expect.stringContaining('retCode 10001 "params error: symbol invalid"') });
    rest.inject({ kind: 'http', status: 403 }, { times: 100 });
    const err = await client.klines('AAAUSDT', '60', window).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryFetchError);
    expect((err as HistoryFetchError).reason).toBe('IP_BANNED');
  });

  it('an IP ban stops the whole backfill instead of hammering Bybit', async () => {
    const { rest, client } = await setup();
    rest.instruments = [];
    rest.inject({ kind: 'http', status: 403 }, { times: 100 });
    const clock = new LiveClock();
    const store = { coverage: async () => undefined, writeKlines: async () => 0, writeOpenInterest: async () => 0 };
    const result = await runBackfill(
      ['AAAUSDT', 'BBBUSDT', 'CCCUSDT'].map((symbol) => ({ symbol, launchTimeMs: Date.now() - 5 * H })),
      { client, store, clock, hourDays: 1, minuteDays: 0, oiMaxPages: 0, concurrency: 1 },
    );
    expect(result.stoppedReason).toMatch(/HTTP 403/);
    expect(rest.requests.length).toBe(1);
    expect(result.progress.symbolsDone).toBe(0);
  });

  it('a held pacer grants nothing before the hold ends (what 10006 and an exhausted X-Bapi-Limit-Status do)', async () => {
    const clock = new VirtualClock(1_000);
    const pacer = new RestPacer(clock, { limit: 100 });
    pacer.holdUntil(1_500);
    pacer.holdUntil(1_200); // an earlier hold never shortens a later one
    const granted: number[] = [];
    void pacer.acquire().then((t) => granted.push(t));
    await Promise.resolve();
    clock.advanceTo(1_499);
    await Promise.resolve();
    expect(granted).toEqual([]);
    clock.advanceTo(1_500);
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual([1_500]);
  });

  it('10006 replies hold the shared pacer until X-Bapi-Limit-Reset-Timestamp, and the requests still succeed', async () => {
    const { rest, client, pacer, window } = await setup();
    rest.rateLimitPerSec = 2;
    const t = Date.now();
    await Promise.all([client.klines('AAAUSDT', '60', window), client.klines('AAAUSDT', '60', window), client.klines('AAAUSDT', '60', window), client.klines('AAAUSDT', '60', window)]);
    expect(rest.rateLimitedReplies).toBeGreaterThan(0);
    expect(client.stats.rateLimited).toBe(rest.rateLimitedReplies);
    expect(pacer.heldUntil).toBeGreaterThan(t);
    expect(rest.maxRequestsPerWindow(1000, '/v5/market/kline')).toBeLessThanOrEqual(2 + rest.rateLimitedReplies);
  });

  it('aborting stops a request that waits on a long rate-limit hold at once', async () => {
    const { client, pacer, window } = await setup();
    pacer.holdUntil(Date.now() + 60_000);
    const abort = new AbortController();
    const t = Date.now();
    const pending = client.klines('AAAUSDT', '60', window, abort.signal);
    setTimeout(() => abort.abort(), 100);
    await expect(pending).rejects.toMatchObject({ reason: 'STOPPED' });
    expect(Date.now() - t).toBeLessThan(5_000);
  });
});
