import { describe, expect, it } from 'vitest';
import { ActorSystem, type ActorBehavior, type SystemEvent } from '../../src/actors/actor-system.js';
import type { SymbolMessage } from '../../src/actors/messages.js';
import { symbolActor, type SymbolActorOutput, type SymbolState } from '../../src/actors/symbol-actor.js';
import { VirtualClock } from '../../src/core/clock.js';
import { loadConfig } from '../../src/cli/config.js';
import { engineSettings } from '../../src/cli/engine-settings.js';
import { Engine } from '../../src/engine/engine.js';

const T0 = Date.UTC(2026, 0, 1);
const ticker = (symbol: string, ts: number, price: number) =>
  JSON.stringify({ topic: `tickers.${symbol}`, type: 'snapshot', ts, cs: 1, data: { symbol, lastPrice: String(price), markPrice: String(price), openInterest: '1000', openInterestValue: String(price * 1000) } });

/** Valid settings, except the estimator: a 500× tier cannot be liquidated with a 0.5 % maintenance margin. */
function brokenModelSettings() {
  const good = engineSettings(loadConfig({}));
  const liquidity = good.symbol.liquidity!;
  return {
    good,
    bad: { ...good.symbol, liquidity: { ...liquidity, estimator: { ...liquidity.estimator, leverageTiers: [{ leverage: 500, weight: 1 }] } } },
  };
}

describe('a fault inside a coin model is contained by supervision', () => {
  it('an engine whose estimator cannot be built keeps ingesting: the coin actor stops, the process does not throw', () => {
    const { bad } = brokenModelSettings();
    const events: SystemEvent[] = [];
    const clock = new VirtualClock(T0);
    const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: bad, onSystemEvent: (e) => events.push(e) });
    // Before the fix, the first frame threw out of ingest (the daemon exited 1, replay printed a stack trace).
    expect(() => engine.ingest(ticker('BTCUSDT', T0, 100_000), T0)).not.toThrow();
    expect(() => engine.ingest(ticker('ETHUSDT', T0, 3_000), T0)).not.toThrow();
    expect(() => engine.ingest(ticker('BTCUSDT', T0 + 1000, 100_001), T0 + 1000)).not.toThrow();
    expect(events.map((e) => [e.kind, e.id])).toEqual([
      ['actor-stopped', 'symbol:BTCUSDT'],
      ['actor-stopped', 'symbol:ETHUSDT'],
    ]);
    expect(events[0]!.error).toMatch(/liquidatable/);
    expect(engine.describe('BTCUSDT')).toBeUndefined();
    // The ranker is a separate actor and still answers.
    expect(engine.system.stats().find((s) => s.kind === 'ranker')?.stopped).toBe(false);
  });

  it('faults only the coin whose model fails; its neighbours keep their windows', () => {
    const { good, bad } = brokenModelSettings();
    const goodBehavior = symbolActor(good.symbol);
    const badBehavior = symbolActor(bad);
    // One coin's model is deliberately broken; the others are built from the valid settings.
    const mixed: ActorBehavior<SymbolState, SymbolMessage, SymbolActorOutput> = {
      ...goodBehavior,
      init: (id) => (id === 'symbol:BADUSDT' ? badBehavior.init(id) : goodBehavior.init(id)),
    };
    const events: SystemEvent[] = [];
    const system = new ActorSystem<SymbolActorOutput>({ clock: new VirtualClock(T0), drain: { mode: 'sync' }, onSystemEvent: (e) => events.push(e) });
    const badRef = system.spawn('symbol:BADUSDT', mixed);
    const goodRef = system.spawn('symbol:GOODUSDT', mixed);
    const engine = new Engine({ clock: new VirtualClock(T0), drain: { mode: 'sync' }, symbol: good.symbol });
    const decoded: SymbolMessage[] = [];
    engine.decoder.decode(ticker('BADUSDT', T0, 1), T0, (e) => decoded.push(e));
    engine.decoder.decode(ticker('GOODUSDT', T0, 2), T0, (e) => decoded.push(e));
    expect(() => {
      badRef.tell(decoded[0]!);
      goodRef.tell(decoded[1]!);
    }).not.toThrow();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'actor-stopped', id: 'symbol:BADUSDT' });
    expect(badRef.peek()).toBeUndefined();
    expect(goodRef.peek()?.tickers).toBe(1);
    expect(goodRef.stats()).toMatchObject({ processed: 1, stopped: false, restarts: 0 });
  });
});
