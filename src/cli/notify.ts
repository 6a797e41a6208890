import type { ExecutionOutput } from '../actors/execution-state.js';
import { dailySummaryNotification, nextDailySummaryAtMs } from '../core/daily-summary.js';
import type { SourceEvent } from '../core/events.js';
import type { Notification, NotificationChannel } from '../core/notification.js';
import { controlNotification, fillNotification, orderPlacedNotification, orderRefusedNotification, riskStateNotification, signalNotification, tradeClosedNotification, trailingMoveNotification, type LiquiditySource } from '../core/notification-producers.js';
import { OutageAlerts } from '../core/outage-alerts.js';
import type { EngineOutput } from '../engine/engine.js';
import { NotifierHub } from '../sinks/notify/notifier-hub.js';
import type { DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';

/** What the engine, execution and source paths call; set by `notifyPart` while it runs. */
export interface NotifierTap {
  onEngineOutput(event: EngineOutput): void;
  onExecutionOutput(output: ExecutionOutput): void;
  onSource(event: SourceEvent): void;
}

/**
 * Notifications as a daemon part: the engine's and the execution actor's outputs and the sources' up/down events
 * become `Notification`s (see core/notification-producers.ts) and go through one `NotifierHub` to `channels`
 * (Telegram, and the broadcast channels). Nothing here can block or throw into the engine: the tap only pushes
 * onto the hub's bounded queues. Outages are alerted past ALERT_OUTAGE_AFTER_SECONDS; the daily summary goes out
 * at ALERT_DAILY_SUMMARY_HOUR_UTC.
 */
export function notifyPart(w: DaemonWiring, channelsAtStart: readonly NotificationChannel[] | (() => readonly NotificationChannel[])): Part {
  let hub: NotifierHub | undefined;
  let tick: NodeJS.Timeout | undefined;
  let daily: NodeJS.Timeout | undefined;
  return {
    name: 'notifications',
    start() {
      // A function when some channels are built by an earlier part (the broadcasts).
      const channels = typeof channelsAtStart === 'function' ? channelsAtStart() : channelsAtStart;
      if (channels.length === 0) {
        w.log.info('notifications off: no channel configured (TELEGRAM_BOT_TOKEN, broadcasts)');
        return;
      }
      const { alerts } = w.config;
      const h = new NotifierHub({ channels, groupWindowMs: alerts.groupWindowMs, maxBatch: 50, queueCapacity: alerts.queueCapacity, retry: { baseMs: 2000, capMs: 60_000, maxAttempts: 6 }, registry: w.metrics.registry, log: w.log });
      hub = h;
      const outages = new OutageAlerts(alerts.outageAfterMs);
      const liquidity = new Map<string, ReadonlyMap<string, LiquiditySource>>();
      const publish = (n: Notification | undefined): void => {
        if (n !== undefined) h.publish(n);
      };
      w.notifier = {
        onEngineOutput(e) {
          if (e.kind === 'evaluated') liquidity.set(e.symbol, new Map(e.assessment.ranges.map((r) => [r.range, { source: r.source, ageMs: r.ageMs }])));
          else if (e.kind === 'signal') {
            const range = e.signal.target?.range;
            publish(signalNotification(e.signal, e.emittedAt, range === undefined ? undefined : liquidity.get(e.signal.symbol)?.get(range)));
          }
        },
        onExecutionOutput(o) {
          publish(notificationOf(o, w));
        },
        onSource(e) {
          if (e.kind === 'source-down') outages.onDown(e.source, e.reason, e.tsInit);
          else publish(outages.onUp(e.source, e.tsInit));
        },
      };
      tick = setInterval(() => {
        for (const n of outages.tick(w.clock.now())) h.publish(n);
      }, Math.min(5000, alerts.outageAfterMs));
      tick.unref();
      const scheduleDaily = (): void => {
        const at = nextDailySummaryAtMs(w.clock.now(), alerts.dailySummaryHourUtc);
        daily = setTimeout(() => {
          const e = w.execution;
          const s = e?.ref.peek();
          h.publish(dailySummaryNotification({
            atMs: w.clock.now(), trades: s?.recentClosed ?? [], signals: s?.counters.signals, equityUsd: e?.broker.account().equityUsd, riskMode: s?.risk?.mode, openPositions: e?.broker.positions().length ?? 0,
          }));
          scheduleDaily();
        }, Math.max(0, at - w.clock.now()));
        daily.unref();
      };
      scheduleDaily();
      w.log.info({ channels: channels.map((c) => c.name), outageAfterMs: alerts.outageAfterMs, dailySummaryHourUtc: alerts.dailySummaryHourUtc }, 'notifications on');
    },
    async stop() {
      w.notifier = undefined;
      if (tick !== undefined) clearInterval(tick);
      if (daily !== undefined) clearTimeout(daily);
      await hub?.close();
    },
  };
}

/** The notification for one execution output, or none (rows, metrics and internal outputs are not news); exported for tests. */
export function notificationOf(o: ExecutionOutput, w: Pick<DaemonWiring, "execution">): Notification | undefined {
  switch (o.kind) {
    case 'trade':
      if (o.trade.status === 'pending' && o.trade.entryFills.length === 0 && o.trade.updatedAtMs === o.trade.createdAtMs) return orderPlacedNotification(o.trade, o.tsMs);
      if (o.trade.status === 'closed' || o.trade.status === 'cancelled') return tradeClosedNotification(o.trade, o.tsMs);
      return undefined;
    case 'order-refused':
      return orderRefusedNotification(o);
    case 'order-filled':
      return fillNotification(o);
    case 'monitor':
      return o.action === 'move_sl' ? trailingMoveNotification(o) : undefined;
    case 'risk':
      return riskStateNotification(o.transition);
    case 'control':
      return controlNotification(o, w.execution?.ref.peek()?.risk?.mode);
    default:
      return undefined;
  }
}
