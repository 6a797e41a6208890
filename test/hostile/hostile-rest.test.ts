import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import type { SourceEvent } from '../../src/core/events.js';
import { discoverLinearInstruments, InstrumentsWatcher, type InstrumentsChange } from '../../src/streams/bybit-instruments.js';
import { InstrumentShrinkGuard } from '../../src/streams/instrument-shrink-guard.js';
import { FakeBybitRest, instrumentRow } from '../support/fake-bybit-rest.js';
import { Cleanups } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const symbols = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `C${String(i + from).padStart(4, '0')}USDT`);

/** A watcher on a real local REST server, driven by `refresh()` and a virtual clock (timers fire only when advanced). */
async function setup() {
  const rest = await FakeBybitRest.start();
  cleanups.push(() => rest.stop());
  const clock = new VirtualClock(1_000_000);
  const watcher = new InstrumentsWatcher({
    clock,
    random: () => 1,
    intervalMs: 3_600_000,
    shrinkGuard: { maxDropFraction: 0.33, confirmations: 3 },
    suspectRetry: { baseMs: 20_000, capMs: 3_600_000 },
    discover: () => discoverLinearInstruments({ baseUrl: rest.baseUrl, timeoutMs: 5_000 }),
  });
  const changes: InstrumentsChange[] = [];
  const events: SourceEvent[] = [];
  watcher.changes$.subscribe((c) => changes.push(c));
  watcher.sourceEvents$.subscribe((e) => events.push(e));
  cleanups.push(() => watcher.stop());
  const listed = () => watcher.current().map((i) => i.symbol);
  const discoveries = () => rest.requests.filter((r) => r.path === '/v5/market/instruments-info' && r.query.cursor === undefined).length;
  return { rest, clock, watcher, changes, events, listed, discoveries };
}

describe('hostile instrument lists from Bybit REST', () => {
  it('an empty list is never applied: the last good list stays, the source reports down, and a short retry follows', async () => {
    const { rest, clock, watcher, changes, events, listed, discoveries } = await setup();
    rest.instruments = symbols(30).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    expect(listed()).toHaveLength(30);

    rest.instruments = [];
    await watcher.refresh();
    expect(listed()).toHaveLength(30);
    expect(changes).toHaveLength(1);
    expect(events.map((e) => e.kind)).toEqual(['source-down']);
    expect(events[0]!.kind === 'source-down' && events[0]!.reason).toMatch(/empty instrument list/);
    // Retried after the short suspect backoff (20 s here), not the hour-long discovery interval.
    const before = discoveries();
    clock.advanceTo(clock.now() + 20_000);
    await watcher.refresh();
    expect(discoveries()).toBeGreaterThan(before);
    // However often it repeats, an empty list never wins.
    for (let i = 0; i < 5; i++) await watcher.refresh();
    expect(listed()).toHaveLength(30);

    rest.instruments = symbols(30).map((s) => instrumentRow(s));
    await watcher.refresh();
    expect(events.map((e) => e.kind)).toEqual(['source-down', 'source-up']);
    expect(changes).toHaveLength(1);
  });

  it('an HTML body (HTTP 200, text/html) is a failed discovery that keeps the list', async () => {
    const { rest, watcher, events, listed } = await setup();
    rest.instruments = symbols(12).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    rest.inject({ kind: 'html' }, { path: '/v5/market/instruments-info' });
    await watcher.refresh();
    expect(listed()).toHaveLength(12);
    const down = events.at(-1)!;
    expect(down.kind === 'source-down' && down.reason).toMatch(/not JSON|envelope/);
    expect(watcher.stats().lastError).toMatch(/instruments-info page 1/);
  });

  it('a sudden shrink is held and retried, and applied only once it persists for the configured replies in a row', async () => {
    const { rest, watcher, changes, listed } = await setup();
    rest.instruments = symbols(90).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    rest.instruments = symbols(40).map((s) => instrumentRow(s)); // 50 of 90 gone (56 %)
    await watcher.refresh();
    await watcher.refresh();
    expect(listed()).toHaveLength(90);
    expect(watcher.stats()).toMatchObject({ suspectStreak: 2 });
    expect(watcher.stats().lastError).toMatch(/lost 50 of 90 symbols/);
    await watcher.refresh();
    expect(listed()).toHaveLength(40);
    const applied = changes.at(-1)!;
    expect(applied.delisted).toHaveLength(50);
    expect(applied.shrinkConfirmedAfter).toBe(3);
  });

  it('a shrink that recovers before it is confirmed is never applied', async () => {
    const { rest, watcher, changes, listed } = await setup();
    rest.instruments = symbols(60).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    rest.instruments = symbols(10).map((s) => instrumentRow(s));
    await watcher.refresh();
    await watcher.refresh();
    rest.instruments = symbols(60).map((s) => instrumentRow(s));
    await watcher.refresh();
    expect(listed()).toHaveLength(60);
    expect(changes).toHaveLength(1);
    expect(watcher.stats().suspectStreak).toBe(0);
  });

  it('a real delisting (a few symbols gone, one moved away from Trading) applies at once', async () => {
    const { rest, watcher, changes, listed } = await setup();
    rest.serveAllStatuses = true;
    rest.instruments = symbols(50).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    rest.instruments = symbols(50)
      .slice(2)
      .map((s, i) => instrumentRow(s, i === 0 ? { status: 'Settling' } : {}));
    await watcher.refresh();
    expect(listed()).toHaveLength(47);
    expect(changes.at(-1)!.delisted.map((i) => i.symbol)).toEqual(['C0000USDT', 'C0001USDT', 'C0002USDT']);
    expect(changes.at(-1)!.shrinkConfirmedAfter).toBeUndefined();
  });

  it('5,000 symbols page through and apply whole', async () => {
    const { rest, watcher, changes, listed } = await setup();
    rest.instruments = symbols(500).map((s) => instrumentRow(s));
    watcher.start();
    await watcher.refresh();
    rest.instruments = symbols(5000).map((s) => instrumentRow(s));
    await watcher.refresh();
    expect(listed()).toHaveLength(5000);
    expect(changes.at(-1)!.listed).toHaveLength(4500);
    expect(rest.requests.filter((r) => r.path === '/v5/market/instruments-info').length).toBe(1 + 5);
  });

  it('the guard alone: fraction and small-drop rules', () => {
    const g = new InstrumentShrinkGuard({ maxDropFraction: 0.33, confirmations: 2 });
    const list = (n: number) => symbols(n).map((symbol) => ({ symbol }));
    expect(g.check(list(0), list(3)).kind).toBe('accept');
    expect(g.check(list(9), list(4)).kind).toBe('accept'); // 5 gone: a few symbols always apply
    expect(g.check(list(300), list(201)).kind).toBe('accept'); // 33 % gone: at the limit
    expect(g.check(list(300), list(200)).kind).toBe('hold'); // a third gone: over 0.33
    expect(g.check(list(300), list(200))).toEqual({ kind: 'accept', confirmedAfter: 2 });
    expect(g.check(list(300), [])).toMatchObject({ kind: 'hold', needed: Infinity });
  });
});
