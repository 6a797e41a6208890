import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.js';

/**
 * Wall-clock time for live runs, built only by the CLI. `now()` is epoch ms with sub-millisecond resolution
 * (performance.timeOrigin + performance.now()), so receipt→processed latency can be measured below 1 ms and
 * never jumps backwards with NTP slews.
 */
export class LiveClock implements Clock {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly origin = performance.timeOrigin;

  now(): number {
    return this.origin + performance.now();
  }

  setTimer(name: string, fireAtMs: number, callback: (firedAtMs: number) => void): void {
    this.cancelTimer(name);
    const handle = setTimeout(() => {
      this.timers.delete(name);
      callback(this.now());
    }, Math.max(0, fireAtMs - this.now()));
    handle.unref();
    this.timers.set(name, handle);
  }

  cancelTimer(name: string): boolean {
    const handle = this.timers.get(name);
    if (handle === undefined) return false;
    clearTimeout(handle);
    this.timers.delete(name);
    return true;
  }

  /** Cancels every timer (clean shutdown). */
  cancelAll(): void {
    for (const handle of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
  }
}
