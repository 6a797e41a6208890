import { BybitVenue, type BybitVenueOptions } from '../../src/venues/bybit/bybit-venue.js';
import { InMemoryOrderRecordStore } from '../../src/venues/bybit/order-record-store.js';
import type { OrderRecordStore, VenueLog } from '../../src/venues/bybit/venue-types.js';
import { FakeBybitExchange } from './fake-bybit-exchange.js';
import type { Cleanups } from './wait.js';

/** A log that keeps every line, so tests can assert on what an operator would read. */
export class CapturingLog implements VenueLog {
  readonly lines: { level: string; msg: string; fields: object }[] = [];
  info(fields: object, msg: string): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(fields: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(fields: object, msg: string): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  has(re: RegExp): boolean {
    return this.lines.some((l) => re.test(l.msg));
  }
}

/** The fake exchange with BTCUSDT and ETHUSDT listed and priced. */
export async function startExchange(cleanups: Cleanups): Promise<FakeBybitExchange> {
  const ex = await FakeBybitExchange.start();
  cleanups.push(() => ex.close());
  ex.book.addInstrument({ symbol: 'BTCUSDT', tickSize: 0.1, qtyStep: 0.001, minOrderQty: 0.001 });
  ex.book.addInstrument({ symbol: 'ETHUSDT', tickSize: 0.01, qtyStep: 0.01, minOrderQty: 0.01 });
  ex.book.setPrice('BTCUSDT', 60_000);
  ex.book.setPrice('ETHUSDT', 3_000);
  return ex;
}

/** A started venue over `ex`; `store` may be shared with a previous venue to simulate a restart. */
export async function startVenue(
  ex: FakeBybitExchange,
  cleanups: Cleanups,
  over: Partial<BybitVenueOptions> = {},
): Promise<{ venue: BybitVenue; log: CapturingLog; store: OrderRecordStore }> {
  const log = new CapturingLog();
  const store = over.store ?? new InMemoryOrderRecordStore();
  const venue = new BybitVenue({
    restUrl: ex.restUrl, privateWsUrl: ex.privateWsUrl, apiKey: 'test-key', apiSecret: 'test-secret', symbols: ['BTCUSDT', 'ETHUSDT'],
    store, log, requestTimeoutMs: 500, pollIntervalMs: 200, stream: { pingIntervalMs: 1000, pongTimeoutMs: 1000, backoffBaseMs: 50, backoffCapMs: 300 },
    ...over,
  });
  cleanups.push(() => venue.stop());
  const started = await venue.start();
  if (!started.ok) throw new Error(`venue did not start: ${started.message}`);
  return { venue, log, store };
}

/** The exchange-side invariants every fault test ends on. */
export function exchangeInvariants(ex: FakeBybitExchange): { duplicateLinkIds: string[]; unprotected: string[]; offStep: string[] } {
  const seen = new Map<string, number>();
  for (const o of ex.book.orders.values()) if (o.orderLinkId !== '') seen.set(o.orderLinkId, (seen.get(o.orderLinkId) ?? 0) + 1);
  const duplicateLinkIds = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const unprotected = [...ex.book.positions.values()].filter((p) => p.size > 0 && !(p.stopLoss > 0)).map((p) => p.symbol);
  const offStep = [...ex.book.positions.values()]
    .filter((p) => {
      const step = ex.book.instruments.get(p.symbol)!.qtyStep;
      return Math.abs(p.size / step - Math.round(p.size / step)) > 1e-6;
    })
    .map((p) => p.symbol);
  return { duplicateLinkIds, unprotected, offStep };
}
