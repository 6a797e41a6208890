/**
 * A bounded run-to-completion mailbox.
 *
 * Market data carries a conflation key: a newer message with the key of one still queued is merged into that
 * slot (for a ticker the newer full state simply wins; trades in the same second are summed), so a burst costs
 * one slot per key instead of one per frame. Data that can neither conflate nor fit is shed and counted.
 * Commands (no key) are never dropped: they are queued past the capacity and `overCapacity` counts it.
 *
 * Invariant, checked by tests: received = processed + conflated + dropped + queued.
 */
export interface Conflation<M> {
  /** Key for market data; undefined marks a command that must never be conflated or dropped. */
  key(msg: M): string | undefined;
  /** Combines a queued message with a newer one of the same key; undefined when they cannot be combined. */
  merge(queued: M, incoming: M): M | undefined;
}

export interface MailboxCounters {
  received: number;
  processed: number;
  conflated: number;
  dropped: number;
  overCapacity: number;
  maxQueued: number;
}

export class Mailbox<M> {
  private slots: (M | undefined)[] = [];
  private slotKeys: (string | undefined)[] = [];
  private head = 0;
  private readonly byKey = new Map<string, number>();
  readonly counters: MailboxCounters = { received: 0, processed: 0, conflated: 0, dropped: 0, overCapacity: 0, maxQueued: 0 };

  constructor(
    readonly capacity: number,
    private readonly conflation?: Conflation<M>,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`Mailbox capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.slots.length - this.head;
  }

  /** Queues `msg`; returns false only when data was shed because the mailbox is full. */
  offer(msg: M): boolean {
    const c = this.counters;
    c.received++;
    const key = this.conflation?.key(msg);
    if (key !== undefined) {
      const at = this.byKey.get(key);
      if (at !== undefined) {
        const merged = this.conflation!.merge(this.slots[at] as M, msg);
        if (merged !== undefined) {
          this.slots[at] = merged;
          c.conflated++;
          return true;
        }
      }
      if (this.size >= this.capacity) {
        c.dropped++;
        return false;
      }
    } else if (this.size >= this.capacity) {
      c.overCapacity++;
    }
    if (key !== undefined) this.byKey.set(key, this.slots.length);
    this.slots.push(msg);
    this.slotKeys.push(key);
    if (this.size > c.maxQueued) c.maxQueued = this.size;
    return true;
  }

  /** Takes the oldest message; the caller must count it processed via `markProcessed` once handled. */
  poll(): M | undefined {
    if (this.head >= this.slots.length) return undefined;
    const at = this.head;
    const msg = this.slots[at];
    const key = this.slotKeys[at];
    this.slots[at] = undefined;
    this.head++;
    if (key !== undefined && this.byKey.get(key) === at) this.byKey.delete(key);
    if (this.head === this.slots.length) this.reset();
    else if (this.head >= 1024 && this.head * 2 >= this.slots.length) this.compact();
    return msg;
  }

  markProcessed(): void {
    this.counters.processed++;
  }

  /** Empties the queue, counting what it held as dropped (used when an actor is stopped). */
  clear(): number {
    const n = this.size;
    this.counters.dropped += n;
    this.reset();
    return n;
  }

  private reset(): void {
    this.slots.length = 0;
    this.slotKeys.length = 0;
    this.head = 0;
    this.byKey.clear();
  }

  private compact(): void {
    const shift = this.head;
    this.slots = this.slots.slice(shift);
    this.slotKeys = this.slotKeys.slice(shift);
    this.head = 0;
    for (const [k, at] of this.byKey) this.byKey.set(k, at - shift);
  }
}
