import { describe, expect, it } from 'vitest';
import type { RankingUpdated, SignalRaised } from '../src/actors/messages.js';
import { Engine, type EngineOutput } from '../src/engine/engine.js';
import { VirtualClock } from '../src/core/clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../src/core/spike-detector.js';
import { simulateMarket, type MarketScenario } from '../src/streams/market-simulator.js';
import { SIMULATED_MARKET_LIQUIDITY as LIQUIDITY } from '../src/streams/market-simulator.js';


const START = Date.UTC(2026, 0, 1);
const MIN = 60_000;

/** Replays a simulated market through the engine (own estimate only, no CoinGlass) and returns its outputs. */
function run(scenarios: MarketScenario[], seed = 's1'): EngineOutput[] {
  const out: EngineOutput[] = [];
  let clock: VirtualClock | undefined;
  let engine: Engine | undefined;
  for (const rec of simulateMarket({ seed, symbolCount: 10, startMs: START, durationMs: 50 * MIN, scenarios })) {
    if (clock === undefined) {
      clock = new VirtualClock(rec.t);
      engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS, liquidity: LIQUIDITY }, onOutput: (e) => out.push(e) });
    }
    clock.advanceTo(rec.t);
    if (rec.k === undefined) engine!.ingest(rec.d, rec.t);
  }
  return out;
}

const signals = (out: EngineOutput[]) => out.filter((e): e is SignalRaised => e.kind === 'signal').map((e) => e.signal);
const rankings = (out: EngineOutput[]) => out.filter((e): e is RankingUpdated => e.kind === 'ranking');

describe('signals from simulated markets (own liquidation estimate)', () => {
  it('shorts piled in on a falling, OI-rising coin; the pump into their liquidations raises LONG on that coin only', () => {
    const out = run([
      { symbol: 'SYM003USDT', kind: 'dump', startMs: START + 5 * MIN, durationMs: 20 * MIN, movePct: 6, oiChangePct: 40, volumeMult: 3 },
      { symbol: 'SYM003USDT', kind: 'pump', startMs: START + 40 * MIN, durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 },
      { symbol: 'SYM006USDT', kind: 'quiet', startMs: START, durationMs: 50 * MIN },
    ]);
    const fired = signals(out);
    expect(fired.map((s) => [s.symbol, s.direction])).toEqual([['SYM003USDT', 'LONG']]);
    const s = fired[0]!;
    expect(s.tsInit).toBeGreaterThanOrEqual(START + 40 * MIN);
    expect(s.target!.side).toBe('short');
    expect(s.target!.centre).toBeGreaterThan(s.features.lastPrice);
    expect(s.features.oiChangePct15m).toBeGreaterThan(3);
    expect(s.features.volumeRatio5m).toBeGreaterThan(1.5);
    expect(s.features.priceChangePct5m).toBeGreaterThan(1);
    // It was armed by the ranker before the pump began.
    const armedBefore = rankings(out).filter((r) => r.rankedAt < START + 40 * MIN && r.armed.includes('SYM003USDT'));
    expect(armedBefore.length).toBeGreaterThan(0);
    expect(rankings(out).every((r) => !r.armed.includes('SYM006USDT'))).toBe(true);
  });

  it('longs piled in on a rising coin; the dump into their liquidations raises SHORT', () => {
    const out = run([
      { symbol: 'SYM003USDT', kind: 'pump', startMs: START + 5 * MIN, durationMs: 20 * MIN, movePct: 6, oiChangePct: 40, volumeMult: 3 },
      { symbol: 'SYM003USDT', kind: 'dump', startMs: START + 40 * MIN, durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 },
    ]);
    const fired = signals(out);
    expect(fired.map((s) => [s.symbol, s.direction])).toEqual([['SYM003USDT', 'SHORT']]);
    expect(fired[0]!.target!.side).toBe('long');
    expect(fired[0]!.target!.centre).toBeLessThan(fired[0]!.features.lastPrice);
  });

  it('a balanced market never signals, even with a sharp move', () => {
    const out = run([{ symbol: 'SYM004USDT', kind: 'pump', startMs: START + 40 * MIN, durationMs: 6 * MIN, movePct: 8, oiChangePct: 10, volumeMult: 5 }]);
    expect(signals(out)).toEqual([]);
    expect(out.some((e) => e.kind === 'spike' && e.symbol === 'SYM004USDT')).toBe(true);
  });
});
