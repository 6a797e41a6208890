import type { Clock } from '../core/clock.js';
import type { Logger } from './logger.js';

export interface OutageLogOptions {
  readonly log: Logger;
  readonly clock: Clock;
  /** An ongoing outage is logged again this often, with its retry count. */
  readonly reminderMs: number;
  /**
   * The source's own cumulative count of failed attempts (e.g. a connection's connect failures), if it keeps
   * one; otherwise the calls to `failure()` are counted.
   */
  readonly attempts?: (source: string) => number | undefined;
}

interface Outage {
  readonly startedAt: number;
  readonly baseAttempts: number | undefined;
  failures: number;
  reason: string;
}

/**
 * Turns a source's down/up reports into what an operator needs while a venue is unreachable: one line when
 * the outage starts, a reminder every `reminderMs` with how long it has lasted and how many retries failed
 * (so a silent log never means "all is well"), and one line when it ends, with its duration.
 */
export class OutageLog {
  private readonly open = new Map<string, Outage>();

  constructor(private readonly opts: OutageLogOptions) {}

  /** The source is down (first report opens the outage; later ones only update the reason). */
  down(source: string, reason: string): void {
    const o = this.open.get(source);
    if (o !== undefined) {
      o.reason = reason;
      return;
    }
    const now = this.opts.clock.now();
    this.open.set(source, { startedAt: now, baseAttempts: this.opts.attempts?.(source), failures: 0, reason });
    this.opts.log.warn({ source, reason }, `source down: ${source} (outage started; retrying)`);
    this.schedule(source, now);
  }

  /** One more failed attempt (for sources that report each one); opens the outage on the first. */
  failure(source: string, reason: string): void {
    const o = this.open.get(source);
    if (o === undefined) this.down(source, reason);
    else {
      o.failures++;
      o.reason = reason;
    }
  }

  /** The source answered again: closes its outage, if one is open. */
  up(source: string): void {
    const o = this.open.get(source);
    if (o === undefined) {
      this.opts.log.info({ source }, `source up: ${source}`);
      return;
    }
    this.open.delete(source);
    this.opts.clock.cancelTimer(this.timerName(source));
    const downSec = (this.opts.clock.now() - o.startedAt) / 1000;
    this.opts.log.info({ source, downSec, retries: this.retries(source, o) }, `source up: ${source} (outage over after ${downSec.toFixed(0)} s, ${this.retries(source, o)} failed retries)`);
  }

  isDown(source: string): boolean {
    return this.open.has(source);
  }

  /** Sources currently in an outage. */
  sources(): string[] {
    return [...this.open.keys()];
  }

  stop(): void {
    for (const source of this.open.keys()) this.opts.clock.cancelTimer(this.timerName(source));
    this.open.clear();
  }

  private retries(source: string, o: Outage): number {
    const total = this.opts.attempts?.(source);
    return total !== undefined && o.baseAttempts !== undefined ? Math.max(0, total - o.baseAttempts) : o.failures;
  }

  private schedule(source: string, fromMs: number): void {
    this.opts.clock.setTimer(this.timerName(source), fromMs + this.opts.reminderMs, () => {
      const o = this.open.get(source);
      if (o === undefined) return;
      const now = this.opts.clock.now();
      const downSec = (now - o.startedAt) / 1000;
      const retries = this.retries(source, o);
      this.opts.log.warn({ source, downSec, retries, reason: o.reason }, `source still down: ${source} for ${downSec.toFixed(0)} s, ${retries} failed retries`);
      this.schedule(source, now);
    });
  }

  private timerName(source: string): string {
    return `outage-reminder:${source}`;
  }
}
