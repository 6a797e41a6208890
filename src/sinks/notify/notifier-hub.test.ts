import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Notification, NotificationChannel } from '../../core/notification.js';
import { NotifierHub } from './notifier-hub.js';

const note = (i: number, kind: Notification['kind'] = 'signal'): Notification => ({ id: `n${i}`, kind, tsMs: i, title: `t${i}`, fields: [], sensitive: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A channel that records batches and can be told to fail or hang. */
class Recorder implements NotificationChannel {
  readonly batches: Notification[][] = [];
  failNext = 0;
  gate: Promise<void> | undefined;
  constructor(readonly name: string, private readonly filter: (n: Notification) => boolean = () => true) {}
  accepts(n: Notification): boolean {
    return this.filter(n);
  }
  async send(batch: readonly Notification[]): Promise<void> {
    await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('https://api.example/botSECRET/x failed');
    }
    this.batches.push([...batch]);
  }
  async close(): Promise<void> {}
}

const opts = { groupWindowMs: 30, maxBatch: 20, queueCapacity: 50, retry: { baseMs: 10, capMs: 50, maxAttempts: 4 } };

describe('NotifierHub', () => {
  it('groups a burst, honours each channel filter, and retries a failing channel without delaying the other', async () => {
    const a = new Recorder('a');
    const b = new Recorder('b', (n) => n.kind === 'trade_closed');
    a.failNext = 2;
    const hub = new NotifierHub({ ...opts, channels: [a, b] });
    for (let i = 0; i < 45; i++) hub.publish(note(i, i % 5 === 0 ? 'trade_closed' : 'signal'));
    await sleep(60);
    expect(b.batches.flat().map((n) => n.id)).toEqual(Array.from({ length: 9 }, (_, k) => `n${k * 5}`));
    await sleep(200);
    expect(a.batches.map((x) => x.length)).toEqual([20, 20, 5]);
    expect(a.batches.flat().map((n) => n.id)).toEqual(Array.from({ length: 45 }, (_, i) => `n${i}`));
    expect(hub.stats().a).toMatchObject({ sent: 45, sendErrors: 2, dropped: 0, queued: 0 });
    await hub.close();
  });

  it('a full queue drops, counts in the metric, and the next send starts with an overflow summary; publish never waits', async () => {
    const registry = new Registry();
    const a = new Recorder('a');
    let open!: () => void;
    a.gate = new Promise((r) => (open = r));
    const hub = new NotifierHub({ ...opts, queueCapacity: 10, maxBatch: 10, channels: [a], registry });
    const t0 = performance.now();
    for (let i = 0; i < 25; i++) hub.publish(note(i, i < 20 ? 'signal' : 'fill'));
    expect(performance.now() - t0).toBeLessThan(50);
    expect(hub.stats().a).toMatchObject({ enqueued: 10, dropped: 15 });
    open();
    await sleep(100);
    const [first] = a.batches;
    expect(first![0]).toMatchObject({ kind: 'overflow', title: '15 notification(s) dropped on a: the queue was full', fields: [['signal', '10'], ['fill', '5']] });
    expect(first!.slice(1).map((n) => n.id)).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`));
    const metrics = await registry.getSingleMetricAsString('whalestack_notify_dropped_total');
    expect(metrics).toContain('whalestack_notify_dropped_total{channel="a",kind="signal"} 10');
    await hub.close();
  });

  it('gives up after maxAttempts, counts the loss, and goes on with the next notifications', async () => {
    const a = new Recorder('a');
    a.failNext = 4;
    const hub = new NotifierHub({ ...opts, maxBatch: 2, channels: [a] });
    for (let i = 0; i < 4; i++) hub.publish(note(i));
    await sleep(250);
    expect(hub.stats().a).toMatchObject({ failed: 2, sent: 2 });
    expect(a.batches.flat().map((n) => n.id)).toEqual(['n2', 'n3']);
    await hub.close();
  });

  it('close sends what is queued before closing the channels', async () => {
    const a = new Recorder('a');
    const hub = new NotifierHub({ ...opts, groupWindowMs: 10_000, channels: [a] });
    hub.publish(note(1));
    await hub.close();
    expect(a.batches.flat().map((n) => n.id)).toEqual(['n1']);
    hub.publish(note(2));
    expect(hub.stats().a!.queued).toBe(0);
  });
});
