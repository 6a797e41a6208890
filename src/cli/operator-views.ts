import type { ExecutionOutput } from '../actors/execution-state.js';
import { fmtCompactUsd, fmtDuration, fmtPct, fmtPrice, fmtUsd } from '../core/notification-format.js';
import type { ControlCommand, OperatorConsole } from '../sinks/notify/operator-console.js';
import type { DaemonWiring } from './daemon-parts.js';

const DAY_MS = 86_400_000;

/**
 * The operator console over the daemon's parts: the same facts as the HTTP views (/readyz, /rankings,
 * /symbols/:s, /positions, /orders, /trades, /risk) as short plain-text tables for a phone. Controls go to the
 * execution actor as messages; its `control` answer (emitted synchronously: the actor runs on a sync system) is
 * handed back through `onExecutionOutput`.
 */
export function operatorConsole(w: DaemonWiring): OperatorConsole & { onExecutionOutput(o: ExecutionOutput): void } {
  const waiting = new Map<string, (r: { ok: boolean; message: string }) => void>();
  let seq = 0;
  const now = (): number => w.clock.now();
  const exec = () => w.execution;
  const noTrading = (): string => (w.tradingRefusal !== undefined ? `trading disabled: ${w.tradingRefusal.reason}: ${w.tradingRefusal.message}` : `trading off (TRADING_MODE=${w.config.trading.mode})`);
  const closed = () => {
    const s = exec()?.ref.peek();
    return [...(s?.recentClosed ?? [])].filter((t) => t.status === 'closed').sort((a, b) => (b.closedAtMs ?? 0) - (a.closedAtMs ?? 0));
  };
  return {
    onExecutionOutput(o) {
      if (o.kind !== 'control') return;
      waiting.get(o.requestId)?.({ ok: o.ok, message: o.message });
      waiting.delete(o.requestId);
    },
    status() {
      const t = now();
      const stats = w.stream.stats();
      const lags = stats.map((s) => (Number.isNaN(s.lastFrameAt) ? Infinity : t - s.lastFrameAt));
      const down = [...w.sources.values()].filter((e) => e.kind === 'source-down');
      const risk = exec()?.ref.peek()?.risk;
      const lines = [
        `mode: ${w.config.trading.mode}${exec() === undefined ? ` (${noTrading()})` : ` on ${exec()!.broker.venue}`}`,
        `risk: ${risk === undefined ? 'n/a' : `${risk.mode}${risk.killSwitch ? ' (kill switch)' : ''}${risk.entriesPaused === true ? ' (entries paused)' : ''}: ${risk.reason}`}`,
        `symbols: ${w.stream.symbols().length}, connections up ${stats.filter((s) => s.up).length}/${stats.length}`,
        `lag: ${lags.length === 0 ? 'n/a' : `max ${Number.isFinite(Math.max(...lags)) ? fmtDuration(Math.max(...lags)) : 'no frame yet'}`}`,
        `sources down: ${down.length === 0 ? 'none' : down.map((d) => `${d.source} (${fmtDuration(t - d.tsInit)}: ${d.reason})`).join(', ')}`,
        `coinglass: ${w.coinglass === undefined ? 'off (no key)' : 'on'}`,
      ];
      return lines.join('\n');
    },
    top() {
      const r = w.engine?.rankings();
      if (r === undefined || r.top.length === 0) return 'no ranking yet';
      const head = `ranked ${r.coins} coins ${fmtDuration(now() - r.rankedAt)} ago`;
      return [head, ...r.top.slice(0, 15).map((c) => `${String(c.rank).padStart(2)} ${c.symbol.padEnd(14)} ${c.direction.padEnd(7)} ${c.score.toFixed(1).padStart(6)}  imb ${c.imbalance.toFixed(2)}${r.armed.includes(c.symbol) ? '  armed' : ''}`)].join('\n');
    },
    coin(symbol) {
      const d = w.engine?.describe(symbol) as { features?: Record<string, number | null>; liquidation?: { direction: string; imbalance: number | null; score: number | null; ranges: { range: string; source: string; ageMs: number; clusters: { low: number; high: number; usd: number; side: string }[] }[] } | null } | undefined;
      if (d === undefined) return undefined;
      const f = d.features ?? {};
      const num = (k: string, fmt: (n: number) => string) => (typeof f[k] === 'number' ? fmt(f[k]) : 'n/a');
      const lines = [`${symbol}  price ${num('lastPrice', fmtPrice)}`, `OI 15m ${num('oiChangePct15m', fmtPct)}  price 5m ${num('priceChangePct5m', fmtPct)}  vol ×${num('volumeRatio5m', (n) => n.toFixed(2))}`];
      const a = d.liquidation;
      if (a === null || a === undefined) lines.push('no liquidation assessment yet');
      else {
        lines.push(`imbalance ${a.imbalance?.toFixed(3) ?? 'n/a'} ${a.direction}  score ${a.score?.toFixed(1) ?? 'n/a'}`);
        for (const r of a.ranges) {
          const cl = r.clusters.slice(0, 4).map((c) => `${c.side === 'long' ? 'L' : 'S'} ${fmtPrice(c.low)}–${fmtPrice(c.high)} ${fmtCompactUsd(c.usd)}`);
          lines.push(`${r.range} (${r.source}, ${fmtDuration(r.ageMs)} old): ${cl.length === 0 ? 'no cluster' : cl.join('; ')}`);
        }
      }
      const patterns = [...(exec()?.ref.peek()?.patterns.values() ?? [])].filter((p) => p.symbol === symbol);
      for (const p of patterns) lines.push(`range ${p.range}: ${p.successCount} won / ${p.failureCount} lost, typical ${fmtCompactUsd(p.typicalClusterUsd)}`);
      return lines.join('\n');
    },
    positions() {
      const e = exec();
      if (e === undefined) return noTrading();
      const ps = e.broker.positions();
      const a = e.broker.account();
      const rows = ps.map((p) => `${p.symbol} ${p.direction} ${fmtPrice(p.qty)} @ ${fmtPrice(p.avgEntryPrice)} ${p.leverage}×  mark ${fmtPrice(p.markPrice)}  uPnL ${fmtUsd(p.unrealizedPnlUsd)}  SL ${p.stopLossPrice === undefined ? '—' : fmtPrice(p.stopLossPrice)} TP ${p.takeProfitPrice === undefined ? '—' : fmtPrice(p.takeProfitPrice)}`);
      return [`equity ${fmtUsd(a.equityUsd)} USDT, ${ps.length} position(s)`, ...rows].join('\n');
    },
    orders() {
      const e = exec();
      if (e === undefined) return noTrading();
      const os = e.broker.openOrders();
      return [`${os.length} open order(s) on ${e.broker.venue}`, ...os.slice(0, 30).map((o) => `${o.symbol} ${o.side} ${o.orderType} ${fmtPrice(o.qty)} @ ${o.priceUsd === undefined ? 'market' : fmtPrice(o.priceUsd)}${o.reduceOnly ? ' reduce-only' : ''}  ${o.orderLinkId}`)].join('\n');
    },
    async pnl(period) {
      const e = exec();
      if (e === undefined) return noTrading();
      const from = period === 'all' ? 0 : now() - (period === 'day' ? DAY_MS : 7 * DAY_MS);
      // Every close in the store, plus the recent ones in memory the writer may not have flushed yet.
      const byId = new Map<string, number>();
      let stored = true;
      try {
        const fromStore = await e.closedSince(from);
        if (fromStore === undefined) stored = false;
        else for (const [id, pnl] of fromStore) byId.set(id, pnl);
      } catch {
        stored = false;
      }
      for (const t of closed()) if ((t.closedAtMs ?? 0) > from) byId.set(t.tradeId, t.pnlUsd ?? 0);
      const pnls = [...byId.values()];
      const pnl = pnls.reduce((s, x) => s + x, 0);
      const wins = pnls.filter((x) => x > 0).length;
      const a = e.broker.account();
      return [
        `${period}: ${fmtUsd(pnl)} USDT over ${pnls.length} closed trade(s)`,
        `win rate ${pnls.length === 0 ? 'n/a' : `${((wins / pnls.length) * 100).toFixed(0)} %`}`,
        `equity ${fmtUsd(a.equityUsd)} USDT`,
        ...(stored ? [] : ['(store unavailable: the recent closes kept in memory only, up to 200)']),
      ].join('\n');
    },
    trades(limit) {
      if (exec() === undefined) return noTrading();
      const s = exec()!.ref.peek();
      const all = [...(s?.trades.values() ?? []), ...(s?.recentClosed ?? [])].sort((a, b) => b.createdAtMs - a.createdAtMs).slice(0, limit);
      if (all.length === 0) return 'no trades yet';
      return all.map((t) => `${new Date(t.createdAtMs).toISOString().slice(5, 16)} ${t.symbol} ${t.direction} ${t.status}${t.pnlUsd === undefined ? '' : ` ${fmtUsd(t.pnlUsd)}`}${t.exitReason === undefined ? '' : ` ${t.exitReason}`}`).join('\n');
    },
    async control(command: ControlCommand, symbol: string | undefined, by: string) {
      const e = exec();
      if (e === undefined) return { ok: false, message: noTrading() };
      const requestId = `${now()}-${++seq}`;
      const answer = new Promise<{ ok: boolean; message: string }>((resolve) => waiting.set(requestId, resolve));
      e.ref.tell({ kind: 'control', command, symbol, by, requestId });
      const timeout = new Promise<{ ok: boolean; message: string }>((r) => setTimeout(() => r({ ok: false, message: 'no answer from the execution actor within 5 s' }), 5000).unref());
      const r = await Promise.race([answer, timeout]);
      waiting.delete(requestId);
      return r;
    },
  };
}
