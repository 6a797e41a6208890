import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BusLogger } from '../src/sinks/bus.js';
import {
  decodeBusMessage,
  encodeRanking,
  encodeSignal,
  type BusMessage,
  type SignalInput,
  type SignalMessage,
} from '../src/sinks/bus-schema.js';
import { busKeys, RedisBus, type RedisBusOptions } from '../src/sinks/redis-bus.js';
import { REDIS_URL, redisAvailable } from './support/services.js';
import { TcpProxy } from './support/tcp-proxy.js';

let prefixSeq = 0;
const usedPrefixes: string[] = [];
function uniquePrefix(): string {
  const prefix = `whalestack-test:bus:${process.pid}:${Date.now()}:${prefixSeq++}`;
  usedPrefixes.push(prefix);
  return prefix;
}

function signalInput(symbol: string, tsInit: number, overrides: Partial<SignalInput['features']> = {}): SignalInput {
  return {
    symbol,
    direction: 'SHORT',
    score: 88.5,
    imbalance: 0.21,
    tsInit,
    features: { lastPrice: 3_100, priceChangePct5m: -1.4, oiChangePct15m: 4.2, volumeRatio5m: 1.9, ...overrides },
    target: { low: 2_950, high: 2_990, centre: 2_971, usd: 2.4e9, side: 'long', range: '14d' },
    opposite: { low: 3_200, high: 3_230, centre: 3_214, usd: 6e8, side: 'short', range: '7d' },
    heatmapAgesMs: { '14d': 40_000 },
  };
}

const signal = (i: number): SignalMessage => encodeSignal(signalInput(`C${i}USDT`, 1_718_000_000_000 + i), 1_718_000_000_000 + i);
const ranking = (i: number): BusMessage =>
  encodeRanking({ rankedAt: 1_718_000_000_000 + i, top: [{ symbol: `C${i}USDT`, score: 90, direction: 'SHORT', imbalance: 0.2, clusterPct: 150 }], armed: [`C${i}USDT`] });

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Stream entries as [streamId, fields-as-object]. */
async function entries(redis: Redis, stream: string): Promise<Array<Record<string, string>>> {
  const raw = await redis.xrange(stream, '-', '+');
  return raw.map(([, fields]) => {
    const obj: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) obj[fields[i]!] = fields[i + 1]!;
    return obj;
  });
}

function recordingLogger(): BusLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (_o, msg) => lines.push(`warn ${msg}`), info: (_o, msg) => lines.push(`info ${msg}`) };
}

describe.runIf(redisAvailable)('RedisBus against a real Redis', () => {
  let admin: Redis;
  const buses: RedisBus[] = [];
  const open = (options: Omit<RedisBusOptions, 'url'> & { url?: string }): RedisBus => {
    const bus = new RedisBus({ url: REDIS_URL, retryBaseMs: 20, retryCapMs: 200, closeTimeoutMs: 500, ...options });
    buses.push(bus);
    return bus;
  };

  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    for (const prefix of usedPrefixes.splice(0)) {
      const k = busKeys(prefix);
      await admin.del(k.signalsStream, k.rankingsStream);
    }
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('writes the documented schema to the stream and pub/sub channel and delivers in-process', async () => {
    const prefix = uniquePrefix();
    const keys = busKeys(prefix);
    const sub = new Redis(REDIS_URL);
    const received: string[] = [];
    sub.on('message', (_channel: string, message: string) => received.push(message));
    await sub.subscribe(keys.signalsChannel, keys.rankingsChannel);
    const bus = open({ prefix });
    const local: BusMessage[] = [];
    bus.subscribe((m) => local.push(m));
    const sig = encodeSignal(signalInput('ETHUSDT', 1_718_000_000_500, { volumeRatio5m: Number.NaN, lastPrice: Infinity }), 1_718_000_000_501);
    const rank = ranking(7);
    bus.publish(sig);
    bus.publish(rank);
    await waitFor('two XADDs', () => bus.stats().published === 2);
    await waitFor('two pub/sub messages', () => received.length === 2);

    const [entry, ...more] = await entries(admin, keys.signalsStream);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ id: 'ETHUSDT:1718000000500', type: 'signal' });
    expect(entry!.data).not.toMatch(/NaN|Infinity/);
    const decoded = decodeBusMessage(entry!.data!);
    expect(decoded).toEqual({ ok: true, message: sig });
    if (decoded.ok && decoded.message.type === 'signal') {
      expect(decoded.message.features.volumeRatio5m).toBeNull();
      expect(decoded.message.features.lastPrice).toBeNull();
    }
    const [rankEntry] = await entries(admin, keys.rankingsStream);
    expect(decodeBusMessage(rankEntry!.data!)).toEqual({ ok: true, message: rank });
    expect(received.map((json) => decodeBusMessage(json))).toEqual([
      { ok: true, message: sig },
      { ok: true, message: rank },
    ]);
    expect(local).toEqual([sig, rank]);
    expect(bus.stats()).toMatchObject({ published: 2, failed: 0, backlog: 0, dropped: 0, connected: true });
    await sub.quit();
  });

  it('lets a consumer group share the stream between consumers, each entry once', async () => {
    const prefix = uniquePrefix();
    const { signalsStream } = busKeys(prefix);
    await admin.xgroup('CREATE', signalsStream, 'executors', '$', 'MKSTREAM');
    const bus = open({ prefix });
    for (let i = 0; i < 6; i++) bus.publish(signal(i));
    await waitFor('six XADDs', () => bus.stats().published === 6);

    const read = async (consumer: string, count: number): Promise<Array<[string, string]>> => {
      const reply = (await admin.xreadgroup('GROUP', 'executors', consumer, 'COUNT', count, 'STREAMS', signalsStream, '>')) as
        | Array<[string, Array<[string, string[]]>]>
        | null;
      return (reply?.[0]?.[1] ?? []).map(([streamId, fields]) => [streamId, fields[fields.indexOf('data') + 1]!]);
    };
    const first = await read('exec-1', 4);
    const second = await read('exec-2', 10);
    expect(first).toHaveLength(4);
    expect(second).toHaveLength(2);
    const ids = [...first, ...second].map(([, data]) => {
      const d = decodeBusMessage(data);
      if (!d.ok) throw new Error(d.error);
      return d.message.id;
    });
    expect(ids).toEqual([0, 1, 2, 3, 4, 5].map((i) => signal(i).id));
    expect(await admin.xack(signalsStream, 'executors', ...[...first, ...second].map(([sid]) => sid))).toBe(6);
    const pending = (await admin.xpending(signalsStream, 'executors')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('trims the stream with MAXLEN ~', async () => {
    const prefix = uniquePrefix();
    const { signalsStream } = busKeys(prefix);
    const bus = open({ prefix, maxLenSignals: 10, batchMax: 50 });
    const n = 1_000;
    for (let i = 0; i < n; i++) bus.publish(signal(i));
    await waitFor('all XADDs', () => bus.stats().published === n);
    const nodeMax = Number(((await admin.config('GET', 'stream-node-max-entries')) as string[])[1]);
    const len = await admin.xlen(signalsStream);
    expect(len).toBeGreaterThanOrEqual(10);
    expect(len).toBeLessThanOrEqual(10 + nodeMax);
    const [[, lastFields]] = (await admin.xrevrange(signalsStream, '+', '-', 'COUNT', 1)) as [[string, string[]]];
    expect(lastFields[lastFields.indexOf('id') + 1]).toBe(signal(n - 1).id);
  });

  it('survives Redis outages: publish stays immediate, backlog bounded, drains in order, each signal once', async () => {
    const target = new URL(REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const port = await proxy.start();
    const prefix = uniquePrefix();
    const keys = busKeys(prefix);
    const logger = recordingLogger();
    const bus = open({ prefix, url: `redis://127.0.0.1:${port}${target.pathname}`, backlogMax: 40, logger });
    try {
      bus.publish(signal(0));
      await waitFor('first XADD', () => bus.stats().published === 1);

      proxy.cut();
      await waitFor('disconnect noticed', () => !bus.stats().connected);
      // 30 signals and 30 rankings, interleaved, into a backlog of 40: the 20 oldest rankings must go.
      let slowestMs = 0;
      for (let i = 1; i <= 30; i++) {
        for (const m of [signal(i), ranking(i)]) {
          const t0 = performance.now();
          bus.publish(m);
          slowestMs = Math.max(slowestMs, performance.now() - t0);
        }
        expect(bus.stats().backlog).toBeLessThanOrEqual(40);
      }
      await new Promise((r) => setTimeout(r, 300)); // several reconnect attempts fail meanwhile
      // A publish that waited on the dead connection would take the reconnect delay (seconds); 250 ms is far below
      // that and far above a loaded CI machine's scheduling noise, so this cannot flake and still catches a block.
      expect(slowestMs).toBeLessThan(250);
      expect(bus.stats()).toMatchObject({ published: 1, backlog: 40, droppedSignals: 0, droppedRankings: 20, connected: false });

      proxy.restore();
      await waitFor('backlog drained', () => bus.stats().backlog === 0 && bus.stats().published === 41);
      const signalIds = (await entries(admin, keys.signalsStream)).map((e) => e.id);
      expect(signalIds).toEqual(Array.from({ length: 31 }, (_, i) => signal(i).id));
      const rankingIds = (await entries(admin, keys.rankingsStream)).map((e) => decodeBusMessage(e.data!)).map((d) => (d.ok ? d.message.id : d.error));
      expect(rankingIds).toEqual(Array.from({ length: 10 }, (_, i) => (ranking(21 + i) as { id: string }).id));

      // Second outage with more signals than the bound: the oldest signals go, counted.
      proxy.cut();
      await waitFor('disconnect noticed again', () => !bus.stats().connected);
      for (let i = 100; i < 145; i++) bus.publish(signal(i));
      expect(bus.stats()).toMatchObject({ backlog: 40, droppedSignals: 5, dropped: 25 });
      proxy.restore();
      await waitFor('second drain', () => bus.stats().backlog === 0 && bus.stats().published === 81);
      const after = (await entries(admin, keys.signalsStream)).map((e) => e.id);
      expect(after.slice(31)).toEqual(Array.from({ length: 40 }, (_, i) => signal(105 + i).id));
      expect(logger.lines.filter((l) => l.includes('unreachable'))).toHaveLength(2);
      expect(logger.lines.filter((l) => l.includes('backlog full'))).toHaveLength(2);
    } finally {
      await bus.close();
      await proxy.stop();
    }
  });

  it('re-queues batches cut mid-flight: every signal lands at least once and in order after deduping by id', async () => {
    const target = new URL(REDIS_URL);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const port = await proxy.start();
    const prefix = uniquePrefix();
    const bus = open({ prefix, url: `redis://127.0.0.1:${port}${target.pathname}`, batchMax: 20, backlogMax: 5_000 });
    try {
      await waitFor('connected', () => bus.stats().connected);
      const n = 2_000;
      for (let i = 0; i < n; i++) bus.publish(signal(i));
      await waitFor('some batches written', () => bus.stats().published > 0);
      proxy.cut();
      await new Promise((r) => setTimeout(r, 50));
      proxy.restore();
      await waitFor('drained', () => bus.stats().backlog === 0);
      const ids = (await entries(admin, busKeys(prefix).signalsStream)).map((e) => e.id!);
      const firstSeen = ids.filter((id, i) => ids.indexOf(id) === i);
      expect(firstSeen).toEqual(Array.from({ length: n }, (_, i) => signal(i).id));
      // A batch stored by Redis whose reply the cut swallowed counts as failed and is written again.
      const stats = bus.stats();
      expect(stats).toMatchObject({ dropped: 0, published: n });
      expect(ids.length - n).toBeLessThanOrEqual(stats.failed);
    } finally {
      await bus.close();
      await proxy.stop();
    }
  });

  it('never rejects or throws when Redis is unreachable from the start, and counts what close() leaves behind', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: 1 });
    const port = await proxy.start();
    proxy.cut();
    const bus = open({ prefix: uniquePrefix(), url: `redis://127.0.0.1:${port}/0`, closeTimeoutMs: 100 });
    bus.publish(signal(1));
    bus.publish(ranking(1));
    await new Promise((r) => setTimeout(r, 100));
    expect(bus.stats()).toMatchObject({ published: 0, backlog: 2, connected: false });
    await bus.close();
    bus.publish(signal(2));
    expect(bus.stats()).toMatchObject({ backlog: 0, dropped: 3, droppedSignals: 2, droppedRankings: 1 });
    await proxy.stop();
  });
});
