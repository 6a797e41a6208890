import net from 'node:net';
import fc from 'fast-check';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import type { SourceEvent } from '../src/core/events.js';
import { Backoff } from '../src/streams/backoff.js';
import { BybitConnection, type BybitConnectionOptions } from '../src/streams/bybit-connection.js';
import { BybitStream, type RawFrame } from '../src/streams/bybit-stream.js';
import { FakeBybitWs, realTimeClock, tickerDeltaFrame } from './support/fake-bybit-ws.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function fakeServer(opts: Parameters<typeof FakeBybitWs.start>[0] = {}): Promise<FakeBybitWs> {
  const s = await FakeBybitWs.start(opts);
  cleanups.push(() => s.stop());
  return s;
}

interface Harness {
  conn: BybitConnection;
  frames: string[];
  events: SourceEvent[];
}

function connection(url: string, topics: string[], extra: Partial<BybitConnectionOptions> = {}): Harness {
  const clock = realTimeClock();
  const frames: string[] = [];
  const events: SourceEvent[] = [];
  const conn = new BybitConnection({
    id: 'bybit-ws-1',
    url,
    topics,
    clock,
    random: () => 0.5,
    onFrame: (text) => frames.push(text),
    onSourceEvent: (ev) => events.push(ev),
    pingIntervalMs: 100,
    pongTimeoutMs: 100,
    backoff: { baseMs: 40, capMs: 200 },
    ...extra,
  });
  cleanups.push(async () => {
    await conn.close();
    clock.cancelAll();
  });
  conn.start();
  return { conn, frames, events };
}

const tickers = (n: number, prefix = 'SYM') => Array.from({ length: n }, (_, i) => `tickers.${prefix}${i}USDT`);

describe('BybitConnection against a fake Bybit server', () => {
  it('subscribes in batches of <=200 topics and <=10k args chars, keeping snapshots that arrive before the ack', async () => {
    const server = await fakeServer({ snapshotBeforeAck: true });
    const topics = tickers(450);
    const h = connection(server.url, topics);
    await waitFor(() => h.frames.length === 450, 3000, '450 snapshots');
    const subs = server.requests.filter((r) => r.op === 'subscribe');
    expect(subs.map((r) => r.args.length)).toEqual([200, 200, 50]);
    expect(new Set(subs.flatMap((r) => r.args))).toEqual(new Set(topics));
    expect(h.frames.every((f) => f.startsWith('{"topic":"tickers.') && f.includes('"type":"snapshot"'))).toBe(true);
    await waitFor(() => h.conn.stats().controlFrames >= 3, 1000, 'acks');
    expect(h.frames.some((f) => f.includes('"op"'))).toBe(false);
    expect(h.conn.stats().subscribeFailures).toBe(0);
    expect(h.events.map((e) => e.kind)).toEqual(['source-up']);

    const long = Array.from({ length: 300 }, (_, i) => `publicTrade.${'X'.repeat(40)}${i}USDT`);
    const server2 = await fakeServer();
    connection(server2.url, long);
    await waitFor(() => server2.subscribedTopics().length === 300, 3000, 'long topics');
    for (const r of server2.requests) expect(JSON.stringify(r.args).length).toBeLessThanOrEqual(10_000);
    expect(server2.requests.length).toBeGreaterThan(1);
  });

  it('stays up on pongs alone, and declares the socket dead when nothing answers a ping', async () => {
    const server = await fakeServer();
    const h = connection(server.url, ['allLiquidation.BTCUSDT']);
    await new Promise((r) => setTimeout(r, 700));
    expect(server.requests.filter((r) => r.op === 'ping').length).toBeGreaterThanOrEqual(4);
    expect(h.conn.stats()).toMatchObject({ up: true, heartbeatTimeouts: 0, reconnects: 0 });
    expect(h.frames).toEqual([]); // pongs are not data

    server.setAnswerPings(false);
    await waitFor(() => h.conn.stats().heartbeatTimeouts >= 1 && h.events.length >= 2, 2000, 'heartbeat timeout');
    expect(h.events.map((e) => e.kind).slice(0, 2)).toEqual(['source-up', 'source-down']);
    expect(h.events[1]).toMatchObject({ kind: 'source-down', reason: expect.stringMatching(/heartbeat timeout/) });
    server.setAnswerPings(true);
    await waitFor(() => h.conn.stats().reconnects >= 1 && h.conn.up, 2000, 'reconnect');
    await waitFor(() => server.subscribeCount('allLiquidation.BTCUSDT') >= 2, 2000, 'resubscribe after heartbeat loss');
  });

  it('on a dropped connection: SourceDown, jittered backoff, reconnect, resubscribe, SourceUp, data flows again', async () => {
    const server = await fakeServer();
    const topics = ['tickers.BTCUSDT', 'publicTrade.BTCUSDT'];
    const h = connection(server.url, topics, { backoff: { baseMs: 300, capMs: 1000 } });
    await waitFor(() => server.subscribedTopics().length === 2, 2000, 'subscribe');
    const downAt = Date.now();
    server.dropAll();
    await waitFor(() => h.events.length === 3, 3000, 'down and up');
    const upAt = Date.now();
    expect(h.events.map((e) => e.kind)).toEqual(['source-up', 'source-down', 'source-up']);
    expect(h.events[1]).toMatchObject({ source: 'bybit-ws-1' });
    expect(upAt - downAt).toBeGreaterThanOrEqual(140); // first delay = 0.5 * 300 ms
    await waitFor(() => server.subscribedTopics().length === 2, 2000, 'resubscribe');
    expect(server.accepted).toBe(2);
    expect(h.conn.stats().reconnects).toBe(1);
    server.push('publicTrade.BTCUSDT', '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[]}');
    await waitFor(() => h.frames.some((f) => f.startsWith('{"topic":"publicTrade')), 2000, 'frame after reconnect');
  });

  it('resubscribes a ticker topic that went silent, and only that one', async () => {
    const server = await fakeServer();
    server.autoPush(20);
    server.silence('tickers.BUSDT');
    const h = connection(server.url, ['tickers.AUSDT', 'tickers.BUSDT', 'publicTrade.CUSDT'], {
      staleAfterMs: 250,
      watchdogIntervalMs: 50,
    });
    await waitFor(() => h.conn.stats().staleRecoveries >= 1, 3000, 'stale recovery');
    await waitFor(() => server.subscribeCount('tickers.BUSDT') >= 2, 2000, 'resubscribe reaches the server');
    expect(h.conn.staleTopics(Date.now() + 10_000)).toEqual(['tickers.AUSDT', 'tickers.BUSDT']);
    expect(server.requests.some((r) => r.op === 'unsubscribe' && r.args.includes('tickers.BUSDT'))).toBe(true);
    expect(server.subscribeCount('tickers.BUSDT')).toBeGreaterThanOrEqual(2);
    expect(server.subscribeCount('tickers.AUSDT')).toBe(1);
    expect(server.subscribeCount('publicTrade.CUSDT')).toBe(1); // not watched by default
    // The fresh snapshot the resubscribe brings may still be in flight when the server has seen the request.
    await waitFor(() => h.frames.filter((f) => f.startsWith('{"topic":"tickers.BUSDT"')).length >= 2, 2000, 'fresh snapshot after resubscribe');
    expect(h.conn.stats().reconnects).toBe(0);
  });

  it('counts a frame as topic liveness whatever its key order', async () => {
    const server = await fakeServer({ snapshotBeforeAck: false });
    const h = connection(server.url, ['tickers.AUSDT'], { staleAfterMs: 150, watchdogIntervalMs: 25 });
    await waitFor(() => server.subscribedTopics().length === 1, 2000, 'subscribe');
    const frame = '{"type":"delta","ts":1,"topic":"tickers.AUSDT","data":{"symbol":"AUSDT"}}';
    const timer = setInterval(() => server.push('tickers.AUSDT', frame), 20);
    cleanups.push(() => clearInterval(timer));
    await new Promise((r) => setTimeout(r, 500));
    expect(h.frames.length).toBeGreaterThan(10);
    expect(h.conn.stats().staleRecoveries).toBe(0);
    clearInterval(timer);
    await waitFor(() => h.conn.stats().staleRecoveries === 1, 2000, 'recovery once silent');
  });

  it('hands garbage frames to onFrame as raw text without breaking the connection', async () => {
    const server = await fakeServer();
    const h = connection(server.url, ['tickers.BTCUSDT']);
    await waitFor(() => h.frames.length === 1, 2000, 'snapshot');
    const garbage = ['not json at all', '{"topic":"tickers.BTCUSDT","type":"delta","data":{', '', '{"op":"weird"', '[1,2,3]'];
    for (const g of garbage) server.pushRaw(g);
    server.push('tickers.BTCUSDT', tickerDeltaFrame('BTCUSDT', 1, 7));
    await waitFor(() => h.frames.length === 1 + garbage.length + 1, 2000, 'garbage and delta');
    expect(h.frames.slice(1)).toEqual([...garbage, tickerDeltaFrame('BTCUSDT', 1, 7)]);
    expect(h.conn.stats()).toMatchObject({ up: true, reconnects: 0, callbackErrors: 0 });
  });

  it('survives a throwing onFrame and counts it', async () => {
    const server = await fakeServer();
    let n = 0;
    const h = connection(server.url, ['tickers.BTCUSDT'], {
      onFrame: () => {
        n++;
        throw new Error('decoder bug');
      },
    });
    await waitFor(() => n === 1, 2000, 'snapshot');
    server.push('tickers.BTCUSDT', tickerDeltaFrame('BTCUSDT', 1, 1));
    await waitFor(() => n === 2, 2000, 'delta');
    expect(h.conn.stats()).toMatchObject({ callbackErrors: 2, up: true });
  });

  it('isolates a refused topic by splitting its batch; the rest get subscribed', async () => {
    const server = await fakeServer({ rejectTopic: (t) => t === 'tickers.BADUSDT' });
    const topics = [...tickers(9), 'tickers.BADUSDT'];
    const h = connection(server.url, topics);
    await waitFor(() => h.conn.stats().rejectedTopics.length === 1, 3000, 'rejection isolated');
    await waitFor(() => server.subscribedTopics().length === 9, 2000, 'others subscribed');
    expect(h.conn.stats().rejectedTopics).toEqual(['tickers.BADUSDT']);
    expect(server.subscribedTopics()).toEqual(tickers(9).sort());
    expect(h.conn.stats().subscribeFailures).toBeGreaterThanOrEqual(2);
  });

  it('adds and removes topics at runtime, and never reconnects after close()', async () => {
    const server = await fakeServer();
    const h = connection(server.url, ['tickers.AUSDT']);
    await waitFor(() => server.subscribedTopics().length === 1, 2000, 'first');
    h.conn.addTopics(['tickers.BUSDT', 'tickers.AUSDT']);
    await waitFor(() => server.subscribedTopics().length === 2, 2000, 'added');
    h.conn.removeTopics(['tickers.AUSDT']);
    await waitFor(() => server.subscribedTopics().length === 1, 2000, 'removed');
    expect(server.subscribedTopics()).toEqual(['tickers.BUSDT']);
    expect(h.conn.topics()).toEqual(['tickers.BUSDT']);
    await h.conn.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(server.accepted).toBe(1);
    expect(h.events.map((e) => e.kind)).toEqual(['source-up']);
  });
});

describe('BybitStream', () => {
  function stream(url: string, extra: Partial<ConstructorParameters<typeof BybitStream>[0]> = {}) {
    const clock = realTimeClock();
    const s = new BybitStream({ url, clock, random: () => 0.5, connection: { backoff: { baseMs: 50, capMs: 200 } }, ...extra });
    cleanups.push(async () => {
      await s.close();
      clock.cancelAll();
    });
    return s;
  }

  it('delivers a burst of 10k frames in order', async () => {
    const server = await fakeServer({ snapshotBeforeAck: false });
    const s = stream(server.url, { topicKinds: ['tickers'] });
    const got = firstValueFrom(s.frames$.pipe(take(10_000), toArray()));
    s.setSymbols(['BTCUSDT']);
    await waitFor(() => server.subscribedTopics().length === 1, 2000, 'subscribe');
    server.burst('BTCUSDT', 10_000);
    const frames = await got;
    const seqs = frames.map((f) => Number(/"bid1Size":"(\d+)"/.exec(f.text)?.[1]));
    expect(seqs).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(frames.every((f) => f.connId === 'bybit-ws-1' && f.tsInit > 0)).toBe(true);
    expect(frames.every((f, i) => i === 0 || f.tsInit >= (frames[i - 1] as RawFrame).tsInit)).toBe(true);
  });

  it('keeps retrying while the server is unreachable, then becomes ready when it comes up', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const s = stream(`ws://127.0.0.1:${port}/v5/public/linear`, { topicKinds: ['tickers'] });
    const events: SourceEvent[] = [];
    s.sourceEvents$.subscribe((e) => events.push(e));
    s.setSymbols(['BTCUSDT', 'ETHUSDT']);
    await waitFor(() => (s.stats()[0]?.connectFailures ?? 0) >= 3, 3000, 'retries');
    expect(s.isReady(Date.now())).toBe(false);
    expect(events.map((e) => e.kind)).toEqual(['source-down']); // announced once, not per retry
    const server = await fakeServer({ port });
    await waitFor(() => s.isReady(Date.now()), 3000, 'ready');
    expect(events.map((e) => e.kind)).toEqual(['source-down', 'source-up']);
    await waitFor(() => server.subscribedTopics().length === 2, 2000, 'subscribed after coming up');
    expect(server.subscribedTopics()).toEqual(['tickers.BTCUSDT', 'tickers.ETHUSDT']);
    expect(s.isReady(Date.now() + 120_000)).toBe(false); // silent for > staleAfterMs
  });

  it('a drop on one shard blinds only that shard, and readiness returns after its reconnect', async () => {
    const server = await fakeServer({ snapshotBeforeAck: true });
    const s = stream(server.url, { connection: { backoff: { baseMs: 600, capMs: 1000 } } });
    const events: SourceEvent[] = [];
    s.sourceEvents$.subscribe((e) => events.push(e));
    s.setSymbols(Array.from({ length: 250 }, (_, i) => `COIN${i}USDT`));
    await waitFor(() => s.isReady(Date.now()) && server.subscribedTopics().length === 750, 3000, 'ready');
    expect(server.dropConnectionOf('tickers.COIN249USDT')).toBe(true);
    await waitFor(() => events.some((e) => e.kind === 'source-down'), 2000, 'source-down');
    expect(s.isReady(Date.now())).toBe(false);
    const downs = events.filter((e) => e.kind === 'source-down').map((e) => e.source);
    expect(downs).toEqual(['bybit-ws-2']); // 10k chars fit 130 symbols; COIN249USDT sorts onto the second connection
    await waitFor(() => s.isReady(Date.now()), 3000, 'ready again');
    expect(s.stats().map((st) => st.reconnects)).toEqual([0, 1]);
  });

  it('diffs symbol sets into subscribes and unsubscribes over sharded connections', async () => {
    const server = await fakeServer({ snapshotBeforeAck: false });
    const s = stream(server.url);
    const syms = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `COIN${from + i}USDT`);
    expect(s.setSymbols(syms(250))).toMatchObject({ removed: [] });
    await waitFor(() => server.subscribedTopics().length === 750, 3000, '750 topics');
    expect(s.stats().length).toBe(2); // the 10k-char cap allows ~130 symbols x 3 kinds per connection
    const change = s.setSymbols([...syms(200), ...syms(10, 1000)]);
    expect(change.removed.length).toBe(50);
    expect(change.added).toEqual(syms(10, 1000).sort());
    const want = [...syms(200), ...syms(10, 1000)].flatMap((x) => s.topicsFor(x)).sort();
    await waitFor(() => server.subscribedTopics().join() === want.join(), 3000, 'diffed topics');
    expect(s.stats().length).toBe(2); // the emptied connection was closed, a new one opened
    await waitFor(() => server.conns.size === 2, 2000, 'emptied connection closed');
  });
});

describe('sharding invariants (seeded property, no network traffic needed)', () => {
  it('never exceeds 600 topics / 10k chars per connection, never duplicates a topic, keeps a symbol together', async () => {
    const seed = 424242;
    console.info(`sharding property seed ${seed}`);
    const symbol = fc.stringMatching(/^[A-Z0-9]{2,30}USDT$/);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uniqueArray(symbol, { maxLength: 700 }), { minLength: 1, maxLength: 4 }), async (sets) => {
        const s = new BybitStream({ url: 'ws://127.0.0.1:1/none', clock: new VirtualClock(0), random: () => 0.5 });
        try {
          for (const set of sets) {
            s.setSymbols(set);
            const seen = new Map<string, string>();
            for (const [id, topics] of s.assignment()) {
              expect(topics.length).toBeGreaterThan(0);
              expect(topics.length).toBeLessThanOrEqual(600);
              expect(JSON.stringify(topics).length).toBeLessThanOrEqual(10_000);
              for (const t of topics) {
                expect(seen.has(t)).toBe(false);
                seen.set(t, id);
              }
            }
            expect([...seen.keys()].sort()).toEqual(set.flatMap((x) => s.topicsFor(x)).sort());
            for (const x of set) expect(new Set(s.topicsFor(x).map((t) => seen.get(t))).size).toBe(1);
          }
        } finally {
          await s.close();
        }
      }),
      { seed, numRuns: 25 },
    );
  });
});

describe('Backoff', () => {
  it('draws full-jitter delays under min(cap, base * 2^n) and resets', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1, maxLength: 30 }), (draws) => {
        let i = 0;
        const b = new Backoff(() => draws[i++] ?? 0, { baseMs: 500, capMs: 30_000 });
        draws.forEach((r, n) => {
          const ceiling = Math.min(30_000, 500 * 2 ** n);
          expect(b.nextDelayMs()).toBe(Math.floor(r * ceiling));
        });
        b.reset();
        expect(b.ceilingMs()).toBe(500);
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});
