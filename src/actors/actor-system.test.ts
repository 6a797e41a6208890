import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../core/clock.js';
import { ActorSystem, type ActorBehavior, type SystemEvent } from './actor-system.js';
import { Mailbox } from './mailbox.js';

type Msg = { kind: 'data'; key: string; n: number } | { kind: 'cmd'; n: number } | { kind: 'boom' };

const summing: ActorBehavior<{ total: number; seen: number[] }, Msg, never> = {
  kind: 'summing',
  init: () => ({ total: 0, seen: [] }),
  receive(state, msg) {
    if (msg.kind === 'boom') throw new Error('boom');
    state.total += msg.n;
    state.seen.push(msg.n);
    return state;
  },
  conflation: {
    key: (m) => (m.kind === 'data' ? m.key : undefined),
    merge: (a, b) => (a.kind === 'data' && b.kind === 'data' ? { kind: 'data', key: b.key, n: a.n + b.n } : undefined),
  },
  mailboxCapacity: 4,
};

const SEED = 20261121;

describe('Mailbox', () => {
  it('keeps received = processed + conflated + dropped + queued under any offer/poll interleaving', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('data' as const), key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), n: fc.integer({ min: 1, max: 9 }) }),
      fc.record({ t: fc.constant('cmd' as const), n: fc.integer({ min: 1, max: 9 }) }),
      fc.record({ t: fc.constant('poll' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.boolean(), (ops, mergeable) => {
        const box = new Mailbox<Msg>(4, {
          key: (m) => (m.kind === 'data' ? m.key : undefined),
          merge: (a, b) => (mergeable && a.kind === 'data' && b.kind === 'data' ? { kind: 'data', key: b.key, n: a.n + b.n } : undefined),
        });
        let offeredSum = 0;
        let polledSum = 0;
        let commandsOffered = 0;
        let commandsPolled = 0;
        for (const o of ops) {
          if (o.t === 'poll') {
            const m = box.poll();
            if (m !== undefined) {
              box.markProcessed();
              if (m.kind !== 'boom') polledSum += m.n;
              if (m.kind === 'cmd') commandsPolled++;
            }
          } else if (o.t === 'cmd') {
            box.offer({ kind: 'cmd', n: o.n });
            commandsOffered++;
            offeredSum += o.n;
          } else {
            const accepted = box.offer({ kind: 'data', key: o.key, n: o.n });
            if (accepted) offeredSum += o.n;
          }
          const c = box.counters;
          expect(c.received).toBe(c.processed + c.conflated + c.dropped + box.size);
        }
        for (let m = box.poll(); m !== undefined; m = box.poll()) {
          box.markProcessed();
          if (m.kind !== 'boom') polledSum += m.n;
          if (m.kind === 'cmd') commandsPolled++;
        }
        // Commands are never dropped; merged data keeps its amounts.
        expect(commandsPolled).toBe(commandsOffered);
        if (mergeable) expect(polledSum).toBe(offeredSum);
        const c = box.counters;
        expect(c.received).toBe(c.processed + c.conflated + c.dropped);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('sheds data beyond capacity but queues commands past it', () => {
    const box = new Mailbox<Msg>(2, { key: (m) => (m.kind === 'data' ? m.key : undefined), merge: () => undefined });
    expect(box.offer({ kind: 'data', key: 'a', n: 1 })).toBe(true);
    expect(box.offer({ kind: 'data', key: 'b', n: 1 })).toBe(true);
    expect(box.offer({ kind: 'data', key: 'c', n: 1 })).toBe(false);
    expect(box.offer({ kind: 'cmd', n: 1 })).toBe(true);
    expect(box.size).toBe(3);
    expect(box.counters).toMatchObject({ received: 4, dropped: 1, overCapacity: 1 });
  });
});

describe('ActorSystem', () => {
  it('processes in order, run to completion, and conflates only when draining is deferred', () => {
    const clock = new VirtualClock(0);
    let pending: (() => void) | undefined;
    const sys = new ActorSystem<never>({ clock, drain: { mode: 'deferred', schedule: (d) => (pending = d) } });
    const ref = sys.spawn('a', summing);
    ref.tell({ kind: 'data', key: 'x', n: 1 });
    ref.tell({ kind: 'cmd', n: 10 });
    ref.tell({ kind: 'data', key: 'x', n: 2 });
    expect(ref.peek()!.total).toBe(0);
    pending!();
    expect(ref.peek()!.seen).toEqual([3, 10]);
    expect(ref.stats()).toMatchObject({ received: 3, processed: 2, conflated: 1, queued: 0 });
  });

  it('adaptive drain handles the budget inline, then queues and conflates the rest of the turn', () => {
    const clock = new VirtualClock(0);
    const turns: (() => void)[] = [];
    const sys = new ActorSystem<never>({ clock, drain: { mode: 'adaptive', inlineBudget: 2, schedule: (d) => turns.push(d) } });
    const ref = sys.spawn('a', summing);
    for (const n of [1, 2, 3, 4, 5]) ref.tell({ kind: 'data', key: 'x', n });
    ref.tell({ kind: 'cmd', n: 100 });
    expect(ref.peek()!.seen).toEqual([1, 2]);
    for (const turn of turns.splice(0)) turn();
    expect(ref.peek()!.seen).toEqual([1, 2, 12, 100]);
    expect(ref.stats()).toMatchObject({ received: 6, processed: 4, conflated: 2, queued: 0 });
    ref.tell({ kind: 'cmd', n: 7 });
    expect(ref.peek()!.seen).toEqual([1, 2, 12, 100, 7]);
  });

  it('supervision: a throwing actor is restarted then stopped; other actors keep running', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.oneof(fc.constant<'boom'>('boom'), fc.integer({ min: 1, max: 5 }))), { maxLength: 120 }),
        (script) => {
          const clock = new VirtualClock(0);
          const events: SystemEvent[] = [];
          const sys = new ActorSystem<never>({
            clock,
            drain: { mode: 'sync' },
            supervision: { maxRestarts: 2, windowMs: 1_000_000 },
            onSystemEvent: (e) => events.push(e),
          });
          const refs = [0, 1, 2, 3, 4].map((i) => sys.spawn(`a${i}`, summing));
          const expected = [0, 0, 0, 0, 0];
          const faults = [0, 0, 0, 0, 0];
          for (const [i, m] of script) {
            const ref = refs[i]!;
            if (faults[i]! > 2) {
              ref.tell({ kind: 'cmd', n: 1 });
              continue;
            }
            if (m === 'boom') {
              faults[i]!++;
              expected[i] = 0;
              ref.tell({ kind: 'boom' });
            } else {
              expected[i]! += m;
              ref.tell({ kind: 'cmd', n: m });
            }
          }
          refs.forEach((ref, i) => {
            const stats = ref.stats();
            if (faults[i]! > 2) {
              expect(stats.stopped).toBe(true);
              expect(ref.peek()).toBeUndefined();
            } else {
              expect(stats.stopped).toBe(false);
              expect(ref.peek()!.total).toBe(expected[i]);
              expect(stats.restarts).toBe(faults[i]);
            }
          });
          const stoppedCount = faults.filter((f) => f > 2).length;
          expect(events.filter((e) => e.kind === 'actor-stopped').length).toBe(stoppedCount);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('faults outside the window do not accumulate', () => {
    const clock = new VirtualClock(0);
    const sys = new ActorSystem<never>({ clock, drain: { mode: 'sync' }, supervision: { maxRestarts: 1, windowMs: 1000 } });
    const ref = sys.spawn('a', summing);
    ref.tell({ kind: 'boom' });
    clock.advanceTo(5000);
    ref.tell({ kind: 'boom' });
    expect(ref.stats()).toMatchObject({ stopped: false, restarts: 2 });
    ref.tell({ kind: 'boom' });
    expect(ref.stats().stopped).toBe(true);
    ref.tell({ kind: 'cmd', n: 1 });
    expect(sys.deadLetters).toBe(1);
  });

  it('timers deliver commands on the injected clock and report latency from tsInit', () => {
    const clock = new VirtualClock(1000);
    const latencies: number[] = [];
    const got: number[] = [];
    const sys = new ActorSystem<never>({ clock, drain: { mode: 'sync' }, onLatency: (_k, ms) => latencies.push(ms) });
    const beh: ActorBehavior<null, { n: number; tsInit?: number }, never> = {
      kind: 'timer',
      init: () => null,
      receive(s, m, ctx) {
        got.push(m.n);
        if (m.n === 1) ctx.setTimer('later', 1500, { n: 2 });
        return s;
      },
    };
    const ref = sys.spawn('t', beh);
    ref.tell({ n: 1, tsInit: 990 });
    clock.advanceTo(1499);
    expect(got).toEqual([1]);
    clock.advanceTo(2000);
    expect(got).toEqual([1, 2]);
    expect(latencies).toEqual([10]);
  });
});

describe('VirtualClock', () => {
  it('refuses to go backwards and fires timers in time then arming order', () => {
    const clock = new VirtualClock(100);
    const fired: string[] = [];
    clock.setTimer('b', 200, (t) => fired.push(`b@${t}`));
    clock.setTimer('a', 150, (t) => fired.push(`a@${t}`));
    clock.setTimer('c', 150, (t) => fired.push(`c@${t}`));
    clock.setTimer('b', 300, (t) => fired.push(`b2@${t}`));
    clock.advanceTo(250);
    expect(fired).toEqual(['a@150', 'c@150']);
    expect(() => clock.advanceTo(249)).toThrow(/backwards/);
    clock.advanceTo(300);
    expect(fired).toEqual(['a@150', 'c@150', 'b2@300']);
    expect(clock.now()).toBe(300);
  });
});

describe('VirtualClock against a naive model', () => {
  it('fires the same timers in the same order at the same times (property)', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('set' as const), name: fc.constantFrom('a', 'b', 'c', 'd', 'e'), dt: fc.integer({ min: -5, max: 50 }) }),
      fc.record({ t: fc.constant('cancel' as const), name: fc.constantFrom('a', 'b', 'c', 'd', 'e') }),
      fc.record({ t: fc.constant('advance' as const), dt: fc.integer({ min: 0, max: 30 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const clock = new VirtualClock(0);
        const fired: string[] = [];
        // Naive model: a list scanned in full on every step.
        let now = 0;
        let seq = 0;
        const model = new Map<string, { at: number; seq: number }>();
        const expected: string[] = [];
        for (const o of ops) {
          if (o.t === 'set') {
            clock.setTimer(o.name, now + o.dt, (t) => fired.push(`${o.name}@${t}`));
            model.set(o.name, { at: Math.max(now, now + o.dt), seq: seq++ });
          } else if (o.t === 'cancel') {
            expect(clock.cancelTimer(o.name)).toBe(model.delete(o.name));
          } else {
            const target = now + o.dt;
            for (;;) {
              let best: [string, { at: number; seq: number }] | undefined;
              for (const e of model) if (e[1].at <= target && (best === undefined || e[1].at < best[1].at || (e[1].at === best[1].at && e[1].seq < best[1].seq))) best = e;
              if (best === undefined) break;
              model.delete(best[0]);
              expected.push(`${best[0]}@${best[1].at}`);
            }
            now = target;
            clock.advanceTo(target);
          }
          expect(fired).toEqual(expected);
          expect(clock.pendingTimers).toBe(model.size);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
