import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../core/clock.js';
import type { Notification } from '../../core/notification.js';
import { createLogger } from '../logger.js';
import { ChannelQueue, PermanentSendError } from './channel-queue.js';

type Op =
  | { readonly op: 'offer'; readonly n: number; readonly filtered: boolean }
  | { readonly op: 'succeed' }
  | { readonly op: 'fail'; readonly permanent: boolean }
  | { readonly op: 'advance'; readonly ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('offer' as const), n: fc.integer({ min: 1, max: 6 }), filtered: fc.boolean() }),
  fc.record({ op: fc.constant('succeed' as const) }),
  fc.record({ op: fc.constant('fail' as const), permanent: fc.boolean() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
);

const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * A channel whose sends stay pending until the test settles them, so every interleaving of offers, successes,
 * failures and retry timers can be driven from the property.
 */
function scriptedChannel() {
  const pending: { batch: readonly Notification[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  const delivered: string[] = [];
  const channel = {
    name: 'scripted',
    accepts: (n: Notification) => n.kind !== 'fill',
    send: (batch: readonly Notification[]) =>
      new Promise<void>((resolve, reject) => {
        pending.push({ batch, resolve: () => (delivered.push(...batch.map((n) => n.id)), resolve()), reject });
      }),
    close: async () => undefined,
  };
  return { channel, pending, delivered };
}

describe('ChannelQueue (property)', () => {
  it('accounts for every offer, delivers each at most once and in order, and never has two sends in flight', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`ChannelQueue property seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(opArb.chain((first) => fc.array(opArb, { maxLength: 50 }).map((rest) => [first, ...rest])), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), async (ops, capacity, maxBatch) => {
        const clock = new VirtualClock(1_000_000);
        const { channel, pending, delivered } = scriptedChannel();
        const q = new ChannelQueue(channel, { clock, log: createLogger('silent'), capacity, maxBatch, retryBaseMs: 100, retryMaxMs: 1000, maxAttempts: 3, random: () => 0.5 });
        let seq = 0;
        const accepted: string[] = [];
        const check = () => {
          const s = q.stats();
          expect(s.offered).toBe(s.filtered + s.sent + s.queued + s.inFlight + s.overflow + s.gaveUp + s.rejected + s.shutdown);
          expect(s.queued).toBeLessThanOrEqual(capacity);
          expect(s.inFlight).toBeLessThanOrEqual(maxBatch);
          expect(pending.length).toBeLessThanOrEqual(1);
        };
        for (const o of ops) {
          if (o.op === 'offer') {
            const batch = Array.from({ length: o.n }, () => {
              const id = `n${seq++}`;
              return { id, kind: o.filtered ? 'fill' : 'signal', tsMs: 0, title: id, fields: [], sensitive: false } as Notification;
            });
            for (const n of batch) if (!o.filtered) accepted.push(n.id);
            await q.send(batch);
          } else if (o.op === 'succeed') pending.shift()?.resolve();
          else if (o.op === 'fail') pending.shift()?.reject(o.permanent ? new PermanentSendError('no') : new Error('down'));
          else clock.advanceTo(clock.now() + o.ms);
          await settle();
          check();
        }
        // Let everything finish: succeed whatever is sent, fire retry timers.
        for (let i = 0; i < 1000 && (q.stats().queued > 0 || q.stats().inFlight > 0); i++) {
          pending.shift()?.resolve();
          clock.advanceTo(clock.now() + 1000);
          await settle();
        }
        check();
        const s = q.stats();
        expect(s.queued + s.inFlight).toBe(0);
        expect(s.sent).toBe(delivered.length);
        expect(new Set(delivered).size).toBe(delivered.length);
        // Delivered in the order accepted (a subsequence: overflow and give-ups remove some).
        let at = 0;
        for (const id of delivered) {
          at = accepted.indexOf(id, at);
          expect(at).toBeGreaterThanOrEqual(0);
          at++;
        }
      }),
      { seed, numRuns: 150 },
    );
  });

  it('retry delays double from the base, stay in the upper half of their ceiling and stop at the cap', async () => {
    const clock = new VirtualClock(0);
    const sendsAt: number[] = [];
    const channel = { name: 'down', accepts: () => true, send: async () => (sendsAt.push(clock.now()), Promise.reject(new Error('down'))), close: async () => undefined };
    for (const r of [0, 0.999]) {
      sendsAt.length = 0;
      const q = new ChannelQueue(channel, { clock, log: createLogger('silent'), capacity: 10, maxBatch: 1, retryBaseMs: 100, retryMaxMs: 800, maxAttempts: 7, random: () => r });
      await q.send([{ id: `x${r}`, kind: 'signal', tsMs: 0, title: 'x', fields: [], sensitive: false }]);
      for (let i = 0; i < 1000 && q.stats().gaveUp === 0; i++) {
        await settle();
        clock.advanceTo(clock.now() + 10);
      }
      const gaps = sendsAt.slice(1).map((t, i) => t - sendsAt[i]!);
      const ceilings = [100, 200, 400, 800, 800, 800];
      expect(gaps).toHaveLength(6);
      gaps.forEach((g, i) => {
        expect(g).toBeGreaterThanOrEqual(ceilings[i]! / 2);
        expect(g).toBeLessThanOrEqual(ceilings[i]! + 10);
      });
      expect(q.stats()).toMatchObject({ gaveUp: 1, failedAttempts: 7 });
    }
  });
});
