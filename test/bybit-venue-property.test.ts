import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { BybitVenue } from '../src/venues/bybit/bybit-venue.js';
import type { FakeBybitExchange } from './support/fake-bybit-exchange.js';
import { exchangeInvariants, startExchange, startVenue } from './support/bybit-venue-harness.js';
import { Cleanups } from './support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

type Action =
  | { kind: 'limit'; side: 'Buy' | 'Sell'; offset: number }
  | { kind: 'market'; side: 'Buy' | 'Sell' }
  | { kind: 'price'; delta: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'drop' }
  | { kind: 'restart' };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('limit' as const), side: fc.constantFrom('Buy' as const, 'Sell' as const), offset: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('market' as const), side: fc.constantFrom('Buy' as const, 'Sell' as const) }),
  fc.record({ kind: fc.constant('price' as const), delta: fc.integer({ min: -40, max: 40 }) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.constant({ kind: 'drop' as const }),
  fc.constant({ kind: 'restart' as const }),
);

/** The exchange's open orders and positions in the venue's terms, for comparison. */
function exchangeView(ex: FakeBybitExchange) {
  const positions = [...ex.book.positions.values()].filter((p) => p.size > 0).map((p) => ({ symbol: p.symbol, side: p.side, size: p.size, stopLoss: p.stopLoss })).sort((a, b) => a.symbol.localeCompare(b.symbol));
  const orders = [...ex.book.orders.values()].filter((o) => ex.book.isOpen(o)).map((o) => ({ orderLinkId: o.orderLinkId, qty: o.qty, price: o.price, cumExecQty: o.cumExecQty })).sort((a, b) => a.orderLinkId.localeCompare(b.orderLinkId));
  return { positions, orders };
}

function venueView(v: BybitVenue) {
  const s = v.snapshot();
  return {
    positions: s.positions.map((p) => ({ symbol: p.symbol, side: p.side, size: p.size, stopLoss: p.stopLoss })),
    orders: s.orders.map((o) => ({ orderLinkId: o.orderLinkId, qty: o.qty, price: o.price, cumExecQty: o.cumExecQty })).sort((a, b) => a.orderLinkId.localeCompare(b.orderLinkId)),
  };
}

describe('Bybit venue: reconciled view equals the exchange over random interleavings', () => {
  it('fills (whole or partial), cancels, disconnects and restarts in any order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), fc.boolean(), async (actions, partialFills) => {
        const ex = await startExchange(cleanups);
        ex.book.partialFills = partialFills;
        ex.book.setPrice('BTCUSDT', 600); // a small price keeps the arithmetic readable: tick 0.1, stop 5 % away
        let { venue, store } = await startVenue(ex, cleanups, { symbols: ['BTCUSDT'] });
        let n = 0;
        for (const a of actions) {
          const last = ex.book.lastPrice.get('BTCUSDT')!;
          if (a.kind === 'limit' || a.kind === 'market') {
            const id = `p-${n++}`;
            const price = a.kind === 'limit' ? (a.side === 'Buy' ? last - a.offset : last + a.offset) : last;
            const stopLoss = Math.round(a.side === 'Buy' ? price * 0.95 : price * 1.05);
            await venue.placeEntry({ orderLinkId: id, symbol: 'BTCUSDT', side: a.side, orderType: a.kind === 'limit' ? 'Limit' : 'Market', qty: 0.01, stopLoss, ...(a.kind === 'limit' ? { price } : {}) });
          } else if (a.kind === 'price') {
            ex.book.setPrice('BTCUSDT', Math.max(100, last + a.delta));
          } else if (a.kind === 'cancel') {
            const open = [...ex.book.orders.values()].filter((o) => ex.book.isOpen(o));
            if (open.length > 0) await venue.cancel(open[a.pick % open.length]!.orderLinkId);
          } else if (a.kind === 'drop') {
            ex.privateWs.dropAll();
          } else {
            await venue.stop();
            ({ venue, store } = await startVenue(ex, cleanups, { symbols: ['BTCUSDT'], store }));
          }
        }
        for (let k = 0; k < 5; k++) {
          await new Promise((r) => setTimeout(r, 30));
          const report = await venue.reconcile();
          if (report.ok && report.differences === 0 && report.stopsSet.length === 0) break;
        }
        expect(venueView(venue)).toEqual(exchangeView(ex));
        expect(exchangeInvariants(ex)).toEqual({ duplicateLinkIds: [], unprotected: [], offStep: [] });
        await venue.stop();
        await cleanups.runAll();
      }),
      { numRuns: 25, verbose: 1 },
    );
  }, 120_000);
});
