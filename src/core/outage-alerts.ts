import type { Notification } from './notification.js';
import { outageNotification } from './notification-producers.js';

/**
 * Which source outages deserve an alert: only those longer than `afterMs` (a WebSocket reconnect that heals in two
 * seconds is log material, not a phone buzz). Once an outage was alerted, its end is alerted too. Pure: the
 * caller passes the times (down/up events carry them; `tick` runs on the daemon's clock).
 */
export class OutageAlerts {
  private readonly down = new Map<string, { sinceMs: number; reason: string; alerted: boolean }>();

  constructor(private readonly afterMs: number) {}

  onDown(source: string, reason: string, atMs: number): void {
    if (!this.down.has(source)) this.down.set(source, { sinceMs: atMs, reason, alerted: false });
  }

  /** The source is back: a recovery notification when its outage had been alerted. */
  onUp(source: string, atMs: number): Notification | undefined {
    const d = this.down.get(source);
    this.down.delete(source);
    if (d === undefined || !d.alerted) return undefined;
    return outageNotification({ source, reason: d.reason, downSinceMs: d.sinceMs, nowMs: atMs, recovered: true });
  }

  /** Outages that have just passed the threshold (each alerted once). */
  tick(nowMs: number): Notification[] {
    const out: Notification[] = [];
    for (const [source, d] of this.down) {
      if (d.alerted || nowMs - d.sinceMs < this.afterMs) continue;
      d.alerted = true;
      out.push(outageNotification({ source, reason: d.reason, downSinceMs: d.sinceMs, nowMs, recovered: false }));
    }
    return out;
  }

  /** Sources currently down, for /status. */
  current(): ReadonlyArray<{ readonly source: string; readonly sinceMs: number; readonly reason: string }> {
    return [...this.down].map(([source, d]) => ({ source, sinceMs: d.sinceMs, reason: d.reason }));
  }
}
