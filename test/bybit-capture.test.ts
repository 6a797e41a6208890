import { describe, expect, it } from 'vitest';
import { TICKER_NUMERIC_FIELDS } from '../src/core/ticker-state.js';
import { BybitDecoder } from '../src/streams/bybit-decoder.js';
import { captureAvailable, readCapture } from './support/shared-data.js';

/**
 * Real Bybit v5 frames (../shared/data/bybit-v5-capture.jsonl). Linear perpetual frames are on BYBIT.ws.2; the
 * merged ticker state must equal a straightforward reference merge (snapshot replaces, delta assigns).
 */
describe.runIf(captureAvailable)('real Bybit capture', () => {
  it('merged ticker state equals a reference merge for every linear symbol', () => {
    const lines = readCapture().filter((l) => l.t === 'recv' && l.conn === 'BYBIT.ws.2' && l.data !== undefined);
    expect(lines.length).toBeGreaterThan(2000);
    const decoder = new BybitDecoder();
    const reference = new Map<string, Record<string, unknown>>();
    let tickerEvents = 0;
    let tradeEvents = 0;
    for (const line of lines) {
      decoder.decode(line.data!, line.ts! * 1000, (e) => {
        if (e.kind === 'ticker') tickerEvents++;
        if (e.kind === 'trades') tradeEvents++;
      });
      const frame = JSON.parse(line.data!) as { topic?: string; type?: string; data?: Record<string, unknown> };
      if (!frame.topic?.startsWith('tickers.')) continue;
      const symbol = frame.topic.slice('tickers.'.length);
      if (frame.type === 'snapshot') reference.set(symbol, { ...frame.data });
      else Object.assign(reference.get(symbol)!, frame.data);
    }
    expect(decoder.badFrames).toBe(0);
    // 758 ticker frames, of which most only move the book top: those merge into state without an event.
    expect(decoder.counters.tickers + decoder.counters.tickersQuiet).toBe(758);
    expect(tickerEvents).toBe(decoder.counters.tickers);
    expect(tickerEvents).toBe(145);
    expect(tradeEvents).toBe(102);
    expect([...reference.keys()].sort()).toEqual(['BTCUSDT', 'DOGEUSDT', 'ETHUSDT', 'SOLUSDT']);
    for (const [symbol, ref] of reference) {
      const state = decoder.tickerState(symbol)!;
      for (const field of TICKER_NUMERIC_FIELDS) {
        const raw = ref[field];
        const expected = raw === undefined || raw === '' ? NaN : parseFloat(raw as string);
        expect(state[field], `${symbol}.${field}`).toBe(expected);
      }
      expect(state.lastPrice).toBeGreaterThan(0);
      expect(state.openInterest).toBeGreaterThan(0);
    }
  });
});
