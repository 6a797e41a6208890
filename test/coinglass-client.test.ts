import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CoinGlassClient, CoinGlassError, liquidationMapSnapshot, type CoinGlassClientOptions, type CoinGlassRateLimit } from '../src/streams/coinglass-client.js';
import { FakeCoinGlass, heatmapData } from './support/fake-coinglass.js';

const KEY = 'cg-test-key-7f3a9c1e5b';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const samplesDir = path.resolve(repoRoot, '../shared/data', 'samples/coinglass');

let fake: FakeCoinGlass;
/** Everything the client ever showed the outside: error messages, serialised errors, onReply URLs and bodies. */
const exposed: string[] = [];
const recordings: { url: string; body: string; tsInit: number; status: number }[] = [];
const limits: CoinGlassRateLimit[] = [];
let nowMs = 1_786_000_000_000;

function client(extra: Partial<CoinGlassClientOptions> = {}): CoinGlassClient {
  return new CoinGlassClient({
    apiKey: KEY,
    baseUrl: fake.baseUrl,
    timeoutMs: 2_000,
    now: () => nowMs,
    onReply: (url, body, tsInit, status) => {
      recordings.push({ url, body, tsInit, status });
      exposed.push(url, body);
    },
    onRateLimit: (l) => limits.push(l),
    ...extra,
  });
}

async function failure(p: Promise<unknown>): Promise<CoinGlassError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CoinGlassError);
    const e = err as CoinGlassError;
    exposed.push(e.message, String(e), JSON.stringify(e), JSON.stringify(e.details), e.stack ?? '');
    return e;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  fake = await FakeCoinGlass.start(KEY);
});
afterAll(async () => {
  await fake.stop();
  // Checked last, over everything every test exposed.
  expect(exposed.length).toBeGreaterThan(20);
  for (const text of exposed) expect(text).not.toContain(KEY);
});
beforeEach(() => {
  fake.requests.length = 0;
  recordings.length = 0;
  limits.length = 0;
  nowMs += 1000;
});

describe('CoinGlassClient against a local CoinGlass v4 server', () => {
  it('pair heatmap (default model2) → snapshot of the latest column, sided against the newest close', async () => {
    const h = await client().pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' });
    expect(fake.requests[0]).toMatchObject({ path: '/api/futures/liquidation/heatmap/model2', query: { exchange: 'Binance', symbol: 'BTCUSDT', range: '24h' }, keyOk: true });
    expect(h.model).toBe(2);
    expect(h.scope).toBe('pair');
    const s = h.snapshot;
    expect(s).toMatchObject({ symbol: 'BTCUSDT', range: '24h', source: 'coinglass', refPrice: 100, fetchedAt: nowMs });
    // 97 rested from column 5 to 20 and was run through at column 21: gone from the latest column.
    expect(s.levels.map((l) => [l.priceUsd, l.usd, l.side, l.label])).toEqual([
      [90, 2_000_000, 'long', 'ESTIMATED'],
      [95, 1_000_000, 'long', 'ESTIMATED'],
      [104, 3_000_000, 'short', 'ESTIMATED'],
      [110, 500_000, 'short', 'ESTIMATED'],
    ]);
    expect(h.lastCandleAtMs).toBe((1_786_000_000 + 47 * 1800) * 1000);
    expect(h.diagnostics).toMatchObject({ rowsWithData: 5, latestColumn: 47, cellsOutsideYAxis: 0 });
    expect(h.diagnostics.meanColumnsPerRow).toBeGreaterThan(10);
  });

  it('aggregated heatmap with model1 and model3, labelled <COIN>USDT, sides follow the payload price', async () => {
    fake.heatmap = (req) =>
      heatmapData({ refPriceUsd: req.symbol === 'ETH' ? 2000 : 1, bands: [{ priceUsd: 1900, usd: 5e6, fromColumn: 0 }, { priceUsd: 2100, usd: 7e6, fromColumn: 2 }] });
    const c = client();
    const m1 = await c.aggregatedHeatmap({ coin: 'ETH', range: '7d', model: 1 });
    const m3 = await c.aggregatedHeatmap({ coin: 'ETH', range: '30d', model: 3 });
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/futures/liquidation/aggregated-heatmap/model1', '/api/futures/liquidation/aggregated-heatmap/model3']);
    expect(fake.requests[0]?.query).toEqual({ symbol: 'ETH', range: '7d' });
    for (const h of [m1, m3]) {
      expect(h.scope).toBe('aggregated');
      expect(h.snapshot.symbol).toBe('ETHUSDT');
      expect(h.snapshot.levels.map((l) => [l.priceUsd, l.side])).toEqual([[1900, 'long'], [2100, 'short']]);
    }
    expect([m1.model, m3.model, m3.snapshot.range]).toEqual([1, 3, '30d']);
    const custom = await client({ snapshotSymbol: (r) => `1000${r.coin}USDT` }).aggregatedHeatmap({ coin: 'ETH', range: '12h' });
    expect(custom.snapshot.symbol).toBe('1000ETHUSDT');
  });

  it('sum-uncrossed reduction sums columns and drops levels price ran through', async () => {
    fake.heatmap = () => heatmapData({ refPriceUsd: 100, columns: 10, bands: [{ priceUsd: 90, usd: 10, fromColumn: 6 }, { priceUsd: 97, usd: 50, fromColumn: 0, toColumn: 4 }, { priceUsd: 105, usd: 3, fromColumn: 0 }] });
    const h = await client({ heatmapReduction: 'sum-uncrossed' }).pairHeatmap({ exchange: 'Bybit', pair: 'XUSDT', range: '3d' });
    expect(h.snapshot.levels.map((l) => [l.priceUsd, l.usd, l.side])).toEqual([[90, 40, 'long'], [105, 30, 'short']]);
  });

  it('liquidation maps: rows per leverage bucket summed per price; sided with a caller price', async () => {
    const c = client();
    const pair = await c.liquidationMap({ exchange: 'Binance', pair: 'BTCUSDT', range: '1d' });
    const agg = await c.aggregatedLiquidationMap({ coin: 'BTC', range: '30d' });
    expect(fake.requests.map((r) => [r.path, r.query])).toEqual([
      ['/api/futures/liquidation/map', { exchange: 'Binance', symbol: 'BTCUSDT', range: '1d' }],
      ['/api/futures/liquidation/aggregated-map', { symbol: 'BTC', range: '30d' }],
    ]);
    expect(pair.levels).toEqual([{ priceUsd: 95.5, usd: 1_250_000 }, { priceUsd: 104.25, usd: 3_000_000 }]);
    expect(agg.symbol).toBe('BTCUSDT');
    const { snapshot } = liquidationMapSnapshot(pair, 100);
    expect(snapshot.range).toBe('24h');
    expect(snapshot.levels.map((l) => l.side)).toEqual(['long', 'short']);
    expect(liquidationMapSnapshot(pair, 200).snapshot.levels.map((l) => l.side)).toEqual(['long', 'long']);
  });

  it('open-interest history (pair and aggregated) → numeric bars sorted by time; params in snake_case ms', async () => {
    const c = client();
    const bars = await c.openInterestHistory({ exchange: 'Bybit', pair: 'BTCUSDT', interval: '1h', limit: 500, startTimeMs: 1, endTimeMs: 2, unit: 'usd' });
    await c.aggregatedOpenInterestHistory({ coin: 'BTC', interval: '4h' });
    expect(fake.requests[0]?.query).toEqual({ exchange: 'Bybit', symbol: 'BTCUSDT', interval: '1h', limit: '500', start_time: '1', end_time: '2', unit: 'usd' });
    expect(fake.requests[1]).toMatchObject({ path: '/api/futures/open-interest/aggregated-history', query: { symbol: 'BTC', interval: '4h' } });
    expect(bars).toEqual([
      { timeMs: 1_786_000_000_000, open: 2644845344, high: 2692643311, low: 2576975597, close: 2608846475 },
      { timeMs: 1_786_003_600_000, open: 2608846475, high: 2620807645, low: 2327236202, close: 2340177420 },
    ]);
  });

  it('supported exchange pairs, and rate-limit headers reported', async () => {
    fake.maxLimitPerMinute = 300;
    const pairs = await client().supportedExchangePairs();
    fake.maxLimitPerMinute = 1200;
    expect(pairs.Bybit?.map((p) => p.instrumentId)).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(pairs.Binance?.[0]).toEqual({ instrumentId: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT' });
    expect(limits).toHaveLength(1);
    expect(limits[0]?.maxPerMinute).toBe(300);
    expect(limits[0]?.usedInWindow).toBeGreaterThanOrEqual(1);
  });

  it('an error that arrives with HTTP 200 is an api error carrying the server message', async () => {
    fake.inject({ kind: 'api', code: '40001', msg: 'Upgrade plan' });
    const c = client();
    const e = await failure(c.aggregatedHeatmap({ coin: 'BTC', range: '24h' }));
    expect(e.kind).toBe('api');
    expect(e.message).toContain('Upgrade plan');
    expect(e.details).toMatchObject({ httpStatus: 200, code: '40001', url: '/api/futures/liquidation/aggregated-heatmap/model2?symbol=BTC&range=24h' });
    expect([e.fatal, e.retryable]).toEqual([true, false]);
    fake.inject({ kind: 'api', code: '400', msg: 'Missing parameter: x' });
    const plain = await failure(c.aggregatedHeatmap({ coin: 'BTC', range: '24h' }));
    expect([plain.kind, plain.fatal, plain.retryable]).toEqual(['api', false, false]);
    expect(c.stats().errors.api).toBe(2);
  });

  it('429 as HTTP status and as body code → rate-limited, with Retry-After when sent', async () => {
    const c = client();
    fake.inject({ kind: 'rate-limited', via: 'status', retryAfterSec: 7 });
    const byStatus = await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }));
    fake.inject({ kind: 'rate-limited', via: 'body', retryAfterSec: 2 });
    const byBody = await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }));
    fake.inject({ kind: 'rate-limited', via: 'body' });
    const bare = await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }));
    expect([byStatus.kind, byStatus.details.httpStatus, byStatus.retryAfterMs]).toEqual(['rate-limited', 429, 7000]);
    expect([byBody.kind, byBody.details.httpStatus, byBody.details.code, byBody.retryAfterMs]).toEqual(['rate-limited', 200, '429', 2000]);
    expect([bare.kind, bare.retryAfterMs, bare.retryable]).toEqual(['rate-limited', undefined, true]);
    expect(c.stats().errors['rate-limited']).toBe(3);
  });

  it('malformed data → shape error naming the field, counted', async () => {
    const c = client();
    fake.inject({ kind: 'malformed', mutate: (d) => ({ ...(d as object), y_axis: [90, 'abc', 97, 104, 110] }) });
    const badY = await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }));
    expect(badY.kind).toBe('shape');
    expect(badY.message).toContain('data.y_axis[1]');
    expect(badY.message).toContain('"abc"');
    fake.inject({ kind: 'malformed', mutate: (d) => ({ ...(d as object), liquidation_leverage_data: [[1, 2]] }) });
    expect((await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }))).message).toContain('data.liquidation_leverage_data[0][2]');
    fake.inject({ kind: 'malformed', mutate: (d) => ({ ...(d as object), price_candlesticks: undefined }) });
    expect((await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }))).message).toContain('data.price_candlesticks: ');
    fake.inject({ kind: 'malformed', mutate: (d) => ({ ...(d as object), price_candlesticks: [] }) });
    expect((await failure(c.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }))).message).toContain('no reference price');
    fake.inject({ kind: 'malformed', mutate: () => [{ time: 1, open: '1', high: '2', low: '0.5' }] });
    expect((await failure(c.openInterestHistory({ exchange: 'Bybit', pair: 'BTCUSDT', interval: '1h' }))).message).toContain('data[0].close');
    fake.inject({ kind: 'raw', body: '{"code":"0","msg":"success"}' });
    expect((await failure(c.supportedExchangePairs())).message).toContain('data: missing');
    fake.inject({ kind: 'raw', body: '<html>gateway</html>' });
    expect((await failure(c.supportedExchangePairs())).message).toContain('body is not JSON');
    fake.inject({ kind: 'raw', body: '{"msg":"no code"}' });
    expect((await failure(c.supportedExchangePairs())).message).toContain('code: ');
    expect(c.stats().errors.shape).toBe(8);
    expect(c.stats().ok).toBe(0);
  });

  it('slow reply (headers or body) → timeout', async () => {
    const c = client({ timeoutMs: 150 });
    fake.inject({ kind: 'slow', delayMs: 1000 });
    const slowHeaders = await failure(c.supportedExchangePairs());
    fake.inject({ kind: 'stall-body', delayMs: 1000 });
    const slowBody = await failure(c.supportedExchangePairs());
    expect([slowHeaders.kind, slowBody.kind]).toEqual(['timeout', 'timeout']);
    expect(slowHeaders.message).toContain('timed out after 150 ms');
    expect(slowHeaders.retryable).toBe(true);
  });

  it('wrong key → clear, fatal http error that never repeats the key (the server echoes it)', async () => {
    const e = await failure(client({ apiKey: `${KEY}-wrong` }).aggregatedHeatmap({ coin: 'BTC', range: '24h' }));
    expect([e.kind, e.details.httpStatus, e.fatal, e.retryable]).toEqual(['http', 401, true, false]);
    expect(e.message).toContain('CoinGlass rejected the API key');
    expect(e.message).toContain('Invalid API key: ***');
    expect(recordings[0]?.body).toContain('***');
    const missing = await failure(client({ apiKey: '' }).aggregatedHeatmap({ coin: 'BTC', range: '24h' }));
    expect([missing.kind, missing.fatal]).toEqual(['api', true]);
    expect(missing.message).toContain('API key missing');
  });

  it('5xx, 404 and an unreachable server', async () => {
    const c = client();
    fake.inject({ kind: 'http', status: 502 });
    const bad = await failure(c.supportedExchangePairs());
    expect([bad.kind, bad.details.httpStatus, bad.retryable, bad.fatal]).toEqual(['http', 502, true, false]);
    const notFound = await failure(client({ baseUrl: `${fake.baseUrl}/v3` }).supportedExchangePairs());
    expect([notFound.kind, notFound.details.httpStatus, notFound.retryable]).toEqual(['http', 404, false]);
    expect(notFound.message).toContain('Endpoint not found');
    const down = await failure(client({ baseUrl: 'http://127.0.0.1:1' }).supportedExchangePairs());
    expect([down.kind, down.retryable]).toEqual(['network', true]);
  });

  it('onReply URLs carry no key, and fromRecorded reproduces every live result and error', async () => {
    const live = client();
    const results: unknown[] = [];
    const settle = (p: Promise<unknown>) => p.then((v) => results.push({ ok: true, v }), (e: CoinGlassError) => results.push({ ok: false, kind: e.kind, msg: e.message }));
    await settle(live.pairHeatmap({ exchange: 'Binance', pair: 'BTCUSDT', range: '24h' }));
    await settle(live.aggregatedHeatmap({ coin: 'SOL', range: '1y', model: 3 }));
    await settle(live.liquidationMap({ exchange: 'OKX', pair: 'BTC-USDT-SWAP', range: '7d' }));
    await settle(live.openInterestHistory({ exchange: 'Bybit', pair: 'BTCUSDT', interval: '5m' }));
    await settle(live.supportedExchangePairs({ exchange: 'Bybit' }));
    fake.inject({ kind: 'api', code: '40001', msg: 'Upgrade plan' });
    await settle(live.aggregatedHeatmap({ coin: 'BTC', range: '3d' }));
    fake.inject({ kind: 'malformed', mutate: (d) => ({ ...(d as object), y_axis: 'x' }) });
    await settle(live.aggregatedHeatmap({ coin: 'BTC', range: '90d' }));
    expect(recordings).toHaveLength(7);
    const replay = new CoinGlassClient({ apiKey: KEY });
    const replayed = recordings.map((r) => {
      expect(r.url.startsWith(`${fake.baseUrl}/api/futures/`)).toBe(true);
      const out = replay.fromRecorded(r.url, r.body, r.tsInit, r.status);
      return out.ok ? { ok: true, v: out.value.value } : { ok: false, kind: out.error.kind, msg: out.error.message };
    });
    expect(replayed).toEqual(results);
    const unknown = replay.fromRecorded('/api/futures/funding-rate/history?symbol=BTC', '{"code":"0","data":[]}', 1);
    expect(unknown.ok).toBe(false);
  });
});

describe.skipIf(!existsSync(samplesDir))('CoinGlass doc examples (../shared/data/samples/coinglass)', () => {
  const read = (name: string) => readFileSync(path.join(samplesDir, name), 'utf8');
  const replay = new CoinGlassClient({ apiKey: KEY });

  it('heatmap model2 doc example parses (its indices point past its truncated axes: counted, not thrown)', () => {
    const out = replay.fromRecorded('/api/futures/liquidation/heatmap/model2?exchange=Binance&symbol=BTCUSDT&range=24h', read('heatmap_model2_pair.doc-example.json'), 5);
    if (!out.ok) throw out.error;
    if (out.value.endpoint !== 'heatmap') throw new Error(out.value.endpoint);
    expect(out.value.value.snapshot).toMatchObject({ refPrice: 61590.5, fetchedAt: 5, levels: [] });
    expect(out.value.value.diagnostics).toMatchObject({ cellCount: 3, cellsOutsideYAxis: 3 });
    expect(out.value.value.lastCandleAtMs).toBe(1_722_676_800_000);
  });

  it('the v3 heatmap shape is refused with the v4 field named', () => {
    const out = replay.fromRecorded('/api/futures/liquidation/aggregated-heatmap/model2?symbol=BTC&range=24h', read('heatmap_v3_shape.doc-example.json'), 5);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error.message).toContain('data.y_axis');
  });

  it('liquidation maps, OI history and supported pairs doc examples parse', () => {
    const pairMap = replay.fromRecorded('/api/futures/liquidation/map?exchange=Binance&symbol=BTCUSDT&range=1d', read('liquidation_map_pair.doc-example.json'), 1);
    const aggMap = replay.fromRecorded('/api/futures/liquidation/aggregated-map?symbol=BTC&range=7d', read('liquidation_aggregated_map.doc-example.json'), 1);
    const oi = replay.fromRecorded('/api/futures/open-interest/history?exchange=Binance&symbol=BTCUSDT&interval=1d', read('open_interest_history.doc-example.json'), 1);
    const pairs = replay.fromRecorded('/api/futures/supported-exchange-pairs', read('supported_exchange_pairs.doc-example.json'), 1);
    const values = [pairMap, aggMap, oi, pairs].map((r) => (r.ok ? r.value.value : r.error.message));
    expect(values[0]).toMatchObject({ levels: [{ priceUsd: 48935, usd: 1579370.77 }] });
    expect(values[1]).toMatchObject({ symbol: 'BTCUSDT', range: '7d', levels: [{ priceUsd: 48935, usd: 1579370.77 }] });
    expect(values[2]).toHaveLength(2);
    expect((values[2] as unknown as { close: number }[])[0]?.close).toBe(2340177420);
    expect(Object.keys(values[3] as object)).toEqual(['Binance', 'Bitget']);
  });

  it('every observed error body is an api error with its message; plan/key ones are fatal', () => {
    const bodies = JSON.parse(read('observed_error_bodies.json')) as { body: { code: string; msg: string } }[];
    expect(bodies.length).toBeGreaterThan(0);
    for (const { body } of bodies) {
      const out = replay.fromRecorded('/api/futures/liquidation/aggregated-heatmap/model2?symbol=BTC&range=24h', JSON.stringify(body), 1);
      expect(out.ok).toBe(false);
      if (out.ok) continue;
      expect(out.error.kind).toBe('api');
      expect(out.error.message).toContain(body.msg);
      expect(out.error.details.code).toBe(body.code);
      expect(out.error.fatal).toBe(true);
    }
  });
});
