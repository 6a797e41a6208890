import type { SignalDirection } from './trigger.js';

/**
 * Per-coin wick and volatility history from closed minute bars, in O(1) memory: 24 hourly buckets holding the
 * worst lower wick, worst upper wick, high and low of the hour. Gives the wick stop's input (max adverse wick
 * over the last day, once `minBars` bars were seen) and the leverage cap's volatility (24 h high−low range over
 * the last close).
 */
const HOUR_MS = 3_600_000;
const BUCKETS = 24;

export class WickTracker {
  private readonly hour = new Float64Array(BUCKETS).fill(-1);
  private readonly lowerWick = new Float64Array(BUCKETS);
  private readonly upperWick = new Float64Array(BUCKETS);
  private readonly high = new Float64Array(BUCKETS);
  private readonly low = new Float64Array(BUCKETS);
  private bars = 0;
  private lastClose = NaN;
  private lastHour = -1;

  constructor(private readonly minBars: number = 1440) {}

  /** One closed minute bar; invalid bars (non-positive prices, high < low) are ignored. */
  onBar(minuteMs: number, open: number, high: number, low: number, close: number): void {
    if (!(open > 0 && close > 0 && low > 0 && high >= low)) return;
    const h = Math.floor(minuteMs / HOUR_MS);
    const i = h % BUCKETS;
    if (this.hour[i] !== h) {
      this.hour[i] = h;
      this.lowerWick[i] = 0;
      this.upperWick[i] = 0;
      this.high[i] = high;
      this.low[i] = low;
    }
    const bodyLow = Math.min(open, close);
    const bodyHigh = Math.max(open, close);
    this.lowerWick[i] = Math.max(this.lowerWick[i]!, (bodyLow - low) / bodyLow);
    this.upperWick[i] = Math.max(this.upperWick[i]!, (high - bodyHigh) / bodyHigh);
    this.high[i] = Math.max(this.high[i]!, high);
    this.low[i] = Math.min(this.low[i]!, low);
    this.bars++;
    this.lastClose = close;
    this.lastHour = Math.max(this.lastHour, h);
  }

  private live(i: number): boolean {
    return this.hour[i]! >= 0 && this.hour[i]! > this.lastHour - BUCKETS;
  }

  /** Worst wick against `direction` over the last 24 h, or undefined before `minBars` bars. */
  maxAdverseWickFraction(direction: SignalDirection): number | undefined {
    if (this.bars < this.minBars) return undefined;
    let max = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.live(i)) max = Math.max(max, direction === 'LONG' ? this.lowerWick[i]! : this.upperWick[i]!);
    return max;
  }

  /** (24 h high − 24 h low) / last close, or undefined before any bar. */
  volatilityFraction(): number | undefined {
    if (this.bars === 0) return undefined;
    let hi = -Infinity;
    let lo = Infinity;
    for (let i = 0; i < BUCKETS; i++) {
      if (!this.live(i)) continue;
      hi = Math.max(hi, this.high[i]!);
      lo = Math.min(lo, this.low[i]!);
    }
    return (hi - lo) / this.lastClose;
  }
}
