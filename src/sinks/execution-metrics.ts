import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AccountView } from '../core/broker.js';
import type { RiskMode } from '../core/risk-state.js';

export interface ExecutionMetricSources {
  counters(): { signals: number; ordersSent: number; ordersFilled: number; refused: Record<string, number> };
  account(): AccountView;
  openPositions(): number;
  riskMode(): RiskMode | undefined;
}

export interface ExecutionMetrics {
  /** Signal receipt (tsInit) → order handed to the broker port, ms. */
  observeSignalToOrder(latencyMs: number): void;
  /** Signal receipt (tsInit) → the venue acknowledged the order (order-accepted), ms. */
  observeSignalToAck(latencyMs: number): void;
}

const RISK_MODES: readonly RiskMode[] = ['ACTIVE', 'REDUCING', 'HALTED'];

/**
 * Trading metrics: orders sent/filled/refused by reason, open positions, realized and unrealized PnL, equity,
 * risk state (one gauge per mode, 1 for the current one) and the signal → order-sent latency histogram.
 * Counters are read from the actor's counters at scrape time.
 */
export function registerExecutionMetrics(registry: Registry, sources: ExecutionMetricSources): ExecutionMetrics {
  const latency = new Histogram({
    name: 'whalestack_signal_to_order_seconds',
    help: 'Time from the frame that completed a signal (tsInit) to its order handed to the broker port',
    buckets: [0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.0025, 0.01, 0.05, 0.25, 1, 5, 30],
    registers: [registry],
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  counter('whalestack_execution_signals_total', 'Signals received by the execution actor', () => sources.counters().signals);
  counter('whalestack_orders_sent_total', 'Orders handed to the broker', () => sources.counters().ordersSent);
  counter('whalestack_orders_filled_total', 'Entry fills reported by the broker', () => sources.counters().ordersFilled);
  new Counter({
    name: 'whalestack_orders_refused_total',
    help: 'Signals or orders refused, by stable reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(sources.counters().refused)) this.inc({ reason }, n);
    },
  });
  const gauge = (name: string, help: string, read: () => number) => new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('whalestack_open_positions', 'Open positions', () => sources.openPositions());
  gauge('whalestack_realized_pnl_usd', 'Realized PnL since the first deposit, USDT (fees not included)', () => sources.account().realizedPnlUsd);
  gauge('whalestack_fees_usd', 'Fees paid, USDT', () => sources.account().feesUsd);
  gauge('whalestack_unrealized_pnl_usd', 'Unrealized PnL of open positions, USDT', () => sources.account().unrealizedPnlUsd);
  gauge('whalestack_equity_usd', 'Account equity (balance + margin + unrealized), USDT', () => sources.account().equityUsd);
  new Gauge({
    name: 'whalestack_risk_state',
    help: 'Risk state: 1 for the current mode (ACTIVE, REDUCING, HALTED)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const mode = sources.riskMode();
      for (const m of RISK_MODES) this.set({ state: m }, m === mode ? 1 : 0);
    },
  });
  const ack = new Histogram({
    name: 'whalestack_signal_to_ack_seconds',
    help: 'Time from the frame that completed a signal (tsInit) to its order acknowledged by the venue',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    registers: [registry],
  });
  return { observeSignalToOrder: (ms) => latency.observe(ms / 1000), observeSignalToAck: (ms) => ack.observe(ms / 1000) };
}
