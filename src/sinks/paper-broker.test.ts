import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BrokerCommand, BrokerEvent } from '../core/broker.js';
import { DEFAULT_PAPER_BROKER_CONFIG, PaperBroker } from './paper-broker.js';

function setup(config = DEFAULT_PAPER_BROKER_CONFIG) {
  let t = 1_000;
  const broker = new PaperBroker(() => t, config);
  const events: BrokerEvent[] = [];
  broker.subscribe((e) => events.push(e));
  const tick = (symbol: string, last: number, mark = last) => {
    t += 1_000;
    broker.onPrice(symbol, last, mark);
  };
  return { broker, events, tick, at: () => t };
}

const place = (o: Partial<Extract<BrokerCommand, { kind: 'place' }>>): BrokerCommand => ({ kind: 'place', orderLinkId: 'a', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Market', qty: 1, reduceOnly: false, leverage: 5, ...o });

function conserved(broker: PaperBroker): void {
  const a = broker.account();
  expect(a.balanceUsd + a.marginUsd).toBeCloseTo(a.depositsUsd + a.realizedPnlUsd - a.feesUsd, 6);
  expect(a.equityUsd).toBeCloseTo(a.balanceUsd + a.marginUsd + a.unrealizedPnlUsd, 6);
}

describe('paper broker fills', () => {
  it('market: last price plus slippage, taker fee; margin = notional / leverage', () => {
    const { broker, events, tick } = setup();
    tick('SOLUSDT', 100);
    broker.submit(place({ stopLossPrice: 92, takeProfitPrice: 110 }));
    const fill = events.find((e) => e.kind === 'order-filled');
    expect(fill?.kind === 'order-filled' && fill.fill).toMatchObject({ priceUsd: 100.05, liquidity: 'taker' });
    expect(fill?.kind === 'order-filled' && fill.fill.feeUsd).toBeCloseTo(100.05 * 0.00055, 12);
    const [pos] = broker.positions();
    expect(pos).toMatchObject({ direction: 'LONG', qty: 1, leverage: 5, stopLossPrice: 92, takeProfitPrice: 110 });
    expect(pos!.marginUsd).toBeCloseTo(20.01, 10);
    expect(pos!.liquidationPrice).toBeCloseTo(100.05 * (1 - 0.2 + 0.005), 10);
    conserved(broker);
  });

  it('limit: rests until the last price trades through it, then fills at its price with the maker fee', () => {
    const { broker, events, tick } = setup();
    tick('SOLUSDT', 100);
    broker.submit(place({ orderType: 'Limit', priceUsd: 95 }));
    tick('SOLUSDT', 95); // touched, not traded through
    expect(broker.positions()).toHaveLength(0);
    tick('SOLUSDT', 94.9);
    const fill = events.find((e) => e.kind === 'order-filled');
    expect(fill?.kind === 'order-filled' && fill.fill).toMatchObject({ priceUsd: 95, liquidity: 'maker' });
    expect(fill?.kind === 'order-filled' && fill.fill.feeUsd).toBeCloseTo(95 * 0.0002, 12);
    conserved(broker);
  });

  it('stop triggers on last or on mark as configured; take-profit closes with a PnL', () => {
    for (const triggerBy of ['last', 'mark'] as const) {
      const { broker, events, tick } = setup({ ...DEFAULT_PAPER_BROKER_CONFIG, triggerBy, slippageFraction: 0 });
      tick('SOLUSDT', 100);
      broker.submit(place({ stopLossPrice: 92, takeProfitPrice: 110 }));
      tick('SOLUSDT', 91, 93); // last below the stop, mark above it
      expect(broker.positions()).toHaveLength(triggerBy === 'last' ? 0 : 1);
      if (triggerBy === 'mark') {
        tick('SOLUSDT', 93, 91.5);
        expect(broker.positions()).toHaveLength(0);
      }
      const closed = events.find((e) => e.kind === 'position-closed');
      expect(closed?.kind === 'position-closed' && closed.cause).toBe('STOP_LOSS');
      conserved(broker);
    }
    const { broker, events, tick } = setup({ ...DEFAULT_PAPER_BROKER_CONFIG, slippageFraction: 0 });
    tick('SOLUSDT', 100);
    broker.submit(place({ side: 'Sell', stopLossPrice: 108, takeProfitPrice: 90 }));
    tick('SOLUSDT', 89.5);
    const closed = events.find((e) => e.kind === 'position-closed');
    expect(closed?.kind === 'position-closed' && closed.cause).toBe('TAKE_PROFIT');
    expect(broker.account().realizedPnlUsd).toBeCloseTo(10.5, 10);
    conserved(broker);
  });

  it('liquidates on the mark at the liquidation price when no stop stands in the way', () => {
    const { broker, events, tick } = setup({ ...DEFAULT_PAPER_BROKER_CONFIG, slippageFraction: 0 });
    tick('SOLUSDT', 100);
    broker.submit(place({ leverage: 10 }));
    tick('SOLUSDT', 90);
    const closed = events.find((e) => e.kind === 'position-closed');
    expect(closed?.kind === 'position-closed' && closed.cause).toBe('LIQUIDATION');
    expect(closed?.kind === 'position-closed' && closed.fill.priceUsd).toBeCloseTo(90.5, 10);
    conserved(broker);
  });

  it('a duplicate orderLinkId is rejected and never places a second order', () => {
    const { broker, events, tick } = setup();
    tick('SOLUSDT', 100);
    broker.submit(place({ orderType: 'Limit', priceUsd: 90, orderLinkId: 'sig-1-0' }));
    broker.submit(place({ orderType: 'Limit', priceUsd: 90, orderLinkId: 'sig-1-0' }));
    expect(broker.openOrders()).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'order-rejected').map((e) => e.kind === 'order-rejected' && e.reason)).toEqual(['DUPLICATE_ORDER_LINK_ID']);
    broker.submit(place({ orderLinkId: 'x'.repeat(37) }));
    expect(events.at(-1)).toMatchObject({ kind: 'order-rejected', reason: 'BAD_ORDER_LINK_ID' });
    broker.submit(place({ reduceOnly: true, side: 'Sell', orderLinkId: 'r' }));
    expect(events.at(-1)).toMatchObject({ kind: 'order-rejected', reason: 'REDUCE_ONLY_NO_POSITION' });
  });

  it('a snapshot restores positions, resting orders and stops; continuing gives the same result as never stopping', () => {
    const run = (restartAt: number | undefined) => {
      let t = 0;
      let broker = new PaperBroker(() => t, DEFAULT_PAPER_BROKER_CONFIG);
      const prices = [100, 99, 97, 101, 95, 94, 96, 103, 108, 112, 90];
      prices.forEach((p, i) => {
        if (i === restartAt) broker = new PaperBroker(() => t, DEFAULT_PAPER_BROKER_CONFIG, JSON.parse(JSON.stringify(broker.snapshot())));
        t += 1000;
        broker.onPrice('SOLUSDT', p, p);
        if (i === 0) for (let r = 0; r < 4; r++) broker.submit(place({ orderLinkId: `l-${r}`, orderType: 'Limit', priceUsd: 98 - r, qty: r + 1, stopLossPrice: 88, takeProfitPrice: 110 }));
      });
      return { account: broker.account(), orders: broker.recentOrders().map((o) => [o.orderLinkId, o.status]) };
    };
    const straight = run(undefined);
    expect(straight.account.realizedPnlUsd).toBeGreaterThan(0);
    for (const at of [3, 5, 8]) expect(run(at)).toEqual(straight);
  });
});

describe('paper broker invariants (property)', () => {
  const action = fc.oneof(
    fc.record({ kind: fc.constant('price' as const), move: fc.double({ min: -0.08, max: 0.08, noNaN: true }), markOff: fc.double({ min: -0.01, max: 0.01, noNaN: true }) }),
    fc.record({ kind: fc.constant('order' as const), side: fc.constantFrom('Buy' as const, 'Sell' as const), type: fc.constantFrom('Market' as const, 'Limit' as const), off: fc.double({ min: -0.05, max: 0.05, noNaN: true }), qty: fc.integer({ min: 1, max: 50 }), lev: fc.integer({ min: 1, max: 20 }), reduceOnly: fc.boolean(), stop: fc.option(fc.double({ min: 0.02, max: 0.1, noNaN: true }), { nil: undefined }) }),
    fc.record({ kind: fc.constant('stop' as const), dist: fc.double({ min: -0.05, max: 0.1, noNaN: true }) }),
    fc.record({ kind: fc.constant('cancel' as const), idx: fc.nat() }),
    fc.record({ kind: fc.constant('close' as const) }),
  );

  it('money is conserved and the run is deterministic', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), (actions) => {
        const runOnce = () => {
          let t = 0;
          const broker = new PaperBroker(() => t, { ...DEFAULT_PAPER_BROKER_CONFIG, initialDepositUsd: 5_000 });
          let price = 100;
          let n = 0;
          broker.onPrice('X', price, price);
          for (const a of actions) {
            t += 500;
            if (a.kind === 'price') {
              price = Math.max(1, price * (1 + a.move));
              broker.onPrice('X', price, price * (1 + a.markOff));
            } else if (a.kind === 'order') {
              const stop = a.stop === undefined ? undefined : a.side === 'Buy' ? price * (1 - a.stop) : price * (1 + a.stop);
              broker.submit({ kind: 'place', orderLinkId: `o${n++}`, symbol: 'X', side: a.side, orderType: a.type, priceUsd: price * (1 + a.off), qty: a.qty / 10, reduceOnly: a.reduceOnly, leverage: a.lev, stopLossPrice: stop });
            } else if (a.kind === 'stop') {
              const pos = broker.positions()[0];
              if (pos !== undefined) broker.submit({ kind: 'set-trading-stop', symbol: 'X', stopLossPrice: pos.direction === 'LONG' ? price * (1 - a.dist) : price * (1 + a.dist) });
            } else if (a.kind === 'cancel') {
              const open = broker.openOrders();
              if (open.length > 0) broker.submit({ kind: 'cancel', symbol: 'X', orderLinkId: open[a.idx % open.length]!.orderLinkId });
            } else broker.submit({ kind: 'close-position', symbol: 'X', orderLinkId: `c${n++}` });
            conserved(broker);
            for (const p of broker.positions()) expect(p.qty).toBeGreaterThan(0);
            expect(broker.openOrders()).toEqual(broker.recentOrders().filter((o) => o.status === 'New'));
          }
          return broker.snapshot();
        };
        expect(runOnce()).toEqual(runOnce());
      }),
      { seed: 21, numRuns: 300 },
    );
  });
});
