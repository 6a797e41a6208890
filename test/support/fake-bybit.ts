import { FakeBybitRest, instrumentRow } from './fake-bybit-rest.js';
import { FakeBybitWs, type FakeBybitWsOptions } from './fake-bybit-ws.js';
import type { Cleanups } from './wait.js';

/** A local Bybit (REST listing `symbols` as Trading USDT perpetuals, and the public WS), stopped by `cleanups`. */
export async function startFakeBybit(cleanups: Cleanups, symbols: readonly string[], wsOptions: FakeBybitWsOptions = {}): Promise<{ rest: FakeBybitRest; ws: FakeBybitWs }> {
  const rest = await FakeBybitRest.start();
  cleanups.push(() => rest.stop());
  rest.instruments = symbols.map((s) => instrumentRow(s));
  const ws = await FakeBybitWs.start(wsOptions);
  cleanups.push(() => ws.stop());
  return { rest, ws };
}
