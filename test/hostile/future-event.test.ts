import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../../src/core/spike-detector.js';
import { Engine, type EngineOutput } from '../../src/engine/engine.js';

const T0 = Date.UTC(2026, 5, 1, 12);
const ticker = (ts: number, price: number, type = 'delta') =>
  `{"topic":"tickers.BTCUSDT","type":"${type}","ts":${ts},"data":{"symbol":"BTCUSDT","lastPrice":"${price.toFixed(2)}","markPrice":"${price.toFixed(2)}","openInterest":"1000"}}`;
/** A trade at `T`; its envelope `ts` is the honest push time `ts` (default `T`), so a bad `T` is caught per item. */
const trade = (T: number, price: number, ts = T) => `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":${ts},"data":[{"T":${T},"s":"BTCUSDT","S":"Buy","v":"1","p":"${price.toFixed(2)}"}]}`;

/**
 * Drives the engine through `frames` (each delivered at its own receipt time) and returns the spikes raised.
 * A frame is `[tsInit, text]`.
 */
function spikesOf(frames: [number, string][]): { spikes: EngineOutput[]; engine: Engine } {
  const clock = new VirtualClock(frames[0]![0]);
  const out: EngineOutput[] = [];
  const engine = new Engine({ clock, drain: { mode: 'sync' }, symbol: { horizonSec: 3600, spike: DEFAULT_SPIKE_THRESHOLDS }, onOutput: (e) => out.push(e) });
  for (const [t, text] of frames) {
    clock.advanceTo(t);
    engine.ingest(text, t);
  }
  return { spikes: out.filter((e) => e.kind === 'spike'), engine };
}

/** Ten minutes of a flat BTCUSDT, then `poison` frames, then a 39 % rise over one minute. */
function scenario(poison: string[]): [number, string][] {
  const frames: [number, string][] = [[T0, ticker(T0, 100, 'snapshot')]];
  for (let s = 1; s <= 600; s++) frames.push([T0 + s * 1000, ticker(T0 + s * 1000, 100 + (s % 2) * 0.01)]);
  const tPoison = T0 + 600_500;
  for (const p of poison) frames.push([tPoison, p]);
  for (let s = 601; s <= 660; s++) {
    const price = 100 * (1 + (0.39 * (s - 600)) / 60);
    frames.push([T0 + s * 1000, ticker(T0 + s * 1000, price)]);
    frames.push([T0 + s * 1000 + 1, trade(T0 + s * 1000, price)]);
  }
  return frames;
}

describe('hostile exchange times: one bad event never poisons a coin (issue 7, defect 3)', () => {
  it('control: a 39 % rise in a minute raises a price spike', () => {
    expect(spikesOf(scenario([])).spikes.length).toBeGreaterThan(0);
  });

  it('a trade stamped in the far future (and ones at 0 and -5) are refused; the 39 % rise after them still raises a spike', () => {
    const tPoison = T0 + 600_500;
    const { spikes, engine } = spikesOf(
      scenario([trade(99999999999999, 100, tPoison), trade(0, 100, tPoison), trade(-5, 100, tPoison), trade(tPoison + 10 * 60_000, 100, tPoison), ticker(-1, 100), `{"topic":"allLiquidation.BTCUSDT","ts":${tPoison},"data":[{"T":99999999999999,"s":"BTCUSDT","S":"Buy","v":"1","p":"100"}]}`]),
    );
    expect(spikes.length).toBeGreaterThan(0);
    expect(engine.decoder.counters.bad['event-time']).toBe(6);
    const view = engine.describe('BTCUSDT') as { features: Record<string, number | null> };
    expect(view.features.priceChangePct1m).toBeGreaterThan(30);
  });

  it('a trade a few seconds ahead (inside the band) moves nothing permanently: the rise still raises a spike', () => {
    const tPoison = T0 + 600_500;
    expect(spikesOf(scenario([trade(tPoison + 4_000, 100, tPoison)])).spikes.length).toBeGreaterThan(0);
  });
});
