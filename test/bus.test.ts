import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../src/core/trigger.js';
import type { SymbolFeatures } from '../src/core/features.js';
import { BoundedBacklog, InProcessBus, type QueuedMessage } from '../src/sinks/bus.js';
import {
  busMessageSchema,
  decodeBusMessage,
  encodeRanking,
  encodeSignal,
  serializeBusMessage,
  type BusMessage,
  type SignalMessage,
} from '../src/sinks/bus-schema.js';

const SEED = 20240611;

function features(overrides: Partial<SymbolFeatures> = {}): SymbolFeatures {
  return {
    lastPrice: 65_000,
    markPrice: 65_010,
    openInterest: 50_000,
    openInterestValue: 3.25e9,
    priceChangePct1m: 0.4,
    priceChangePct5m: 1.6,
    oiChangePct15m: 3.4,
    volume5mUsd: 1.2e8,
    volumeRatio5m: 2.1,
    buyVolume5mUsd: 8e7,
    sellVolume5mUsd: 4e7,
    liqLongUsd5m: 0,
    liqShortUsd5m: 2.5e6,
    historySec: 3600,
    tsEvent: 1_718_000_000_000,
    ...overrides,
  };
}

/** A core Signal, so this file stops compiling if core's shape drifts from the encoder's input. */
function coreSignal(symbol = 'BTCUSDT', tsInit = 1_718_000_000_123, f: SymbolFeatures = features()): Signal {
  return {
    symbol,
    direction: 'LONG',
    score: 100.4,
    imbalance: 0.714,
    features: f,
    target: { low: 66_000, high: 66_400, centre: 66_210, usd: 2.39e8, side: 'short', levelCount: 7, range: '7d' },
    opposite: undefined,
    heatmapAgesMs: { '7d': 12_000, '30d': 95_000 },
    tsInit,
  };
}

describe('bus schema', () => {
  it('encodes a core Signal with a deterministic id and parses back', () => {
    const msg = encodeSignal(coreSignal(), 1_718_000_000_125);
    expect(msg.id).toBe('BTCUSDT:1718000000123');
    expect(msg).toMatchObject({
      v: 1,
      type: 'signal',
      direction: 'LONG',
      tsInit: 1_718_000_000_123,
      emittedAt: 1_718_000_000_125,
      opposite: null,
      target: { low: 66_000, high: 66_400, centre: 66_210, usd: 2.39e8, side: 'short', range: '7d' },
      heatmapAgesMs: { '7d': 12_000, '30d': 95_000 },
    });
    expect(msg.features).toMatchObject({ lastPrice: 65_000, priceChangePct5m: 1.6, oiChangePct15m: 3.4, volumeRatio5m: 2.1, historySec: 3600 });
    const json = serializeBusMessage(msg);
    expect(json.ok).toBe(true);
    if (!json.ok) return;
    const back = decodeBusMessage(json.json);
    expect(back).toEqual({ ok: true, message: msg });
    expect(encodeSignal(coreSignal(), 1_718_000_000_999).id).toBe(msg.id);
  });

  it('maps NaN and Infinity to null and never writes them to JSON (property)', () => {
    const num = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0));
    fc.assert(
      fc.property(num, num, num, num, num, num, (lastPrice, p5m, oi15m, vol, score, age) => {
        const s = { ...coreSignal(), score, imbalance: p5m, heatmapAgesMs: { '7d': age } };
        const msg = encodeSignal({ ...s, features: features({ lastPrice, priceChangePct5m: p5m, oiChangePct15m: oi15m, volumeRatio5m: vol }) }, 1);
        const out = serializeBusMessage(msg);
        expect(out.ok).toBe(true);
        if (!out.ok) return;
        expect(out.json).not.toMatch(/NaN|Infinity/);
        const parsed = busMessageSchema.parse(JSON.parse(out.json)) as SignalMessage;
        const expectValue = (x: number) => (Number.isFinite(x) ? (x === 0 ? 0 : x) : null);
        expect(parsed.features.lastPrice).toBe(expectValue(lastPrice));
        expect(parsed.features.volumeRatio5m).toBe(expectValue(vol));
        expect(parsed.score).toBe(expectValue(score));
        expect(parsed.heatmapAgesMs['7d']).toBe(expectValue(age));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('encodes rankings with 1-based ranks and armed symbols', () => {
    const msg = encodeRanking({
      rankedAt: 1_718_000_300_000,
      top: [
        { symbol: 'SOLUSDT', score: 101.2, direction: 'LONG', imbalance: 0.8, clusterPct: 210 },
        { symbol: 'ETHUSDT', score: Number.NaN, direction: 'NONE', imbalance: 0.5, clusterPct: 0 },
      ],
      armed: [{ symbol: 'SOLUSDT' }],
    });
    expect(msg).toEqual({
      v: 1,
      type: 'ranking',
      id: 'ranking:1718000300000',
      rankedAt: 1_718_000_300_000,
      top: [
        { rank: 1, symbol: 'SOLUSDT', score: 101.2, direction: 'LONG', imbalance: 0.8, clusterPct: 210 },
        { rank: 2, symbol: 'ETHUSDT', score: null, direction: 'NONE', imbalance: 0.5, clusterPct: 0 },
      ],
      armed: ['SOLUSDT'],
    });
    expect(encodeRanking({ rankedAt: 5, top: [], armed: [] }, 'shard-2').id).toBe('ranking:shard-2:5');
  });

  it('throws on broken invariants and reports bad input without throwing', () => {
    expect(() => encodeSignal(coreSignal('BTCUSDT', Number.NaN), 1)).toThrow(/tsInit/);
    expect(() => encodeRanking({ rankedAt: Infinity, top: [], armed: [] })).toThrow(/rankedAt/);
    const bad = { ...encodeSignal(coreSignal(), 1), score: Number.NaN } as BusMessage;
    const out = serializeBusMessage(bad);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toMatch(/score/);
    expect(decodeBusMessage('{"v":1,').ok).toBe(false);
    const wrongVersion = decodeBusMessage(JSON.stringify({ ...encodeSignal(coreSignal(), 1), v: 2 }));
    expect(wrongVersion.ok).toBe(false);
  });
});

describe('docs/bus.md', () => {
  it('has examples that match the schema, one per message type', () => {
    const doc = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/bus.md'), 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const decoded = blocks.map((b) => decodeBusMessage(b));
    expect(decoded.map((d) => (d.ok ? d.message.type : d.error))).toEqual(['signal', 'ranking']);
  });
});

describe('InProcessBus', () => {
  it('delivers in order, after publish returns, and isolates throwing handlers', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    const seenB: string[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    bus.subscribe((m) => seen.push(m.id));
    const unsubscribe = bus.subscribe((m) => seenB.push(m.id));
    const ids = ['A:1', 'B:2', 'C:3'].map((id) => id.split(':') as [string, string]);
    for (const [sym, ts] of ids) bus.publish(encodeSignal(coreSignal(`${sym}USDT`, Number(ts)), 9));
    expect(seen).toEqual([]);
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['AUSDT:1', 'BUSDT:2', 'CUSDT:3']);
    unsubscribe();
    bus.publish(encodeRanking({ rankedAt: 10, top: [], armed: [] }));
    bus.publish({ ...encodeSignal(coreSignal(), 1), direction: 'UP' } as unknown as BusMessage);
    await bus.close();
    bus.publish(encodeSignal(coreSignal('LATEUSDT', 11), 11));
    expect(seen).toEqual(['AUSDT:1', 'BUSDT:2', 'CUSDT:3', 'ranking:10']);
    expect(seenB).toEqual(['AUSDT:1', 'BUSDT:2', 'CUSDT:3']);
    expect(bus.stats()).toMatchObject({ published: 4, rejected: 1, handlerErrors: 4, dropped: 1, droppedSignals: 1, connected: false });
  });
});

describe('BoundedBacklog', () => {
  type Op = { kind: 'push'; type: 'signal' | 'ranking' } | { kind: 'take'; n: number } | { kind: 'settle'; failMask: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<'signal' | 'ranking'>('signal', 'ranking').map((type) => ({ kind: 'push' as const, type })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => ({ kind: 'take' as const, n })) },
    { weight: 2, arbitrary: fc.nat(15).map((failMask) => ({ kind: 'settle' as const, failMask })) },
  );

  it('stays bounded, keeps order, drops rankings before signals and accounts for every message (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 80 }), (capacity, ops) => {
        const b = new BoundedBacklog(capacity);
        let seq = 0;
        let inFlight: QueuedMessage[] = [];
        const delivered: number[] = [];
        for (const o of ops) {
          if (o.kind === 'push') {
            const queuedBefore = peekQueue(b);
            const m: QueuedMessage = { type: o.type, id: String(seq++), json: '{}' };
            const evicted = b.push(m);
            if (evicted?.type === 'signal') {
              // A signal only goes when no ranking was waiting, and never to make room for a ranking.
              expect(queuedBefore.some((q) => q.type === 'ranking')).toBe(false);
              expect(o.type).toBe('signal');
            }
          } else if (o.kind === 'take' && inFlight.length === 0) {
            inFlight = b.take(o.n);
          } else if (o.kind === 'settle' && inFlight.length > 0) {
            const failed = inFlight.filter((_, i) => ((o.failMask >> i) & 1) === 1);
            for (const m of inFlight) if (!failed.includes(m)) delivered.push(Number(m.id));
            b.settle(inFlight.length, failed);
            inFlight = [];
          }
          expect(b.size).toBeLessThanOrEqual(capacity);
        }
        b.settle(inFlight.length, inFlight);
        const rest = b.take(capacity).map((m) => Number(m.id));
        expect(b.droppedSignals + b.droppedRankings + delivered.length + rest.length).toBe(seq);
        expect(new Set([...delivered, ...rest]).size).toBe(delivered.length + rest.length);
        expect(rest).toEqual([...rest].sort((x, y) => x - y));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('keeps every signal while rankings can make room', () => {
    const b = new BoundedBacklog(4);
    const push = (type: 'signal' | 'ranking', id: string) => b.push({ type, id, json: '{}' });
    push('ranking', 'r1');
    push('signal', 's1');
    push('ranking', 'r2');
    push('signal', 's2');
    expect(push('signal', 's3')?.id).toBe('r1');
    expect(push('ranking', 'r3')?.id).toBe('r2');
    expect(push('signal', 's4')?.id).toBe('r3');
    expect(push('ranking', 'r4')?.id).toBe('r4');
    expect(push('signal', 's5')?.id).toBe('s1');
    expect(b.take(10).map((m) => m.id)).toEqual(['s2', 's3', 's4', 's5']);
    expect([b.droppedRankings, b.droppedSignals]).toEqual([4, 1]);
  });
});

/** Queued messages without disturbing the backlog (take everything, put it back as a failed batch). */
function peekQueue(b: BoundedBacklog): QueuedMessage[] {
  const all = b.take(Number.MAX_SAFE_INTEGER);
  b.settle(all.length, all);
  return all;
}
