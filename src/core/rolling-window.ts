/** Shape of a {@link RollingWindow}: how far back it remembers and which series it keeps. */
export interface RollingWindowConfig {
  /** Ring length in 1 s buckets; events in a bucket at or before `head - horizonSec` are ignored. */
  readonly horizonSec: number;
  /** Lengths of the running-sum windows, in seconds (each an integer in 1..horizonSec). */
  readonly windowsSec: readonly number[];
  /** Number of additive series (volumes, liquidations): sums over each window in O(1). */
  readonly sumSeries: number;
  /** Number of last-value series (prices, open interest): the value as of any bucket inside the horizon. */
  readonly lastSeries: number;
}

/**
 * Time-bucketed rolling window over 1 s buckets, kept in `Float64Array` rings so the hot path is O(1) and
 * allocates nothing after construction.
 *
 * Time comes only from the events (`tsEvent` ms): the head is the largest timestamp seen. A bucket is
 * `floor(tsMs / 1000)`; "the last N seconds" are the N buckets ending at the head's bucket, inclusive.
 *
 * - Sum series keep, per window, a running sum updated as values enter and buckets leave. The running sums
 *   are Neumaier-compensated (they are only ever added to and subtracted from, so plain doubles would drift
 *   and, after big values left, make a small remaining sum meaningless), and a count of non-zero buckets
 *   makes an empty window read exactly 0.
 * - Last-value series are forward-filled on write: the value as of bucket q is the last observation made
 *   in q or the latest earlier bucket. An observation older (by ms) than the series' latest one is ignored.
 * - A head jump of `horizonSec` buckets or more leaves nothing inside the horizon, so the window resets
 *   completely (sums, last values, history); a trader gets NaN changes after an outage rather than a
 *   "1-minute move" measured against hour-old data.
 *
 * Advancing the head loops over the skipped buckets, bounded by the horizon (amortised O(1) per second of
 * event time); forward-filling is bounded the same way.
 *
 * Gotcha: `locate` returns an age relative to the head at that moment; use it before the next `locate`.
 */
export class RollingWindow {
  readonly horizonSec: number;
  private readonly windowsSec: Int32Array;
  private readonly nWin: number;
  private readonly nSum: number;
  private readonly nLast: number;
  private readonly buckets: Float64Array;
  private readonly sumHi: Float64Array;
  private readonly sumLo: Float64Array;
  private readonly nonZero: Int32Array;
  private readonly lastRing: Float64Array;
  private readonly lastVal: Float64Array;
  private readonly lastObsMs: Float64Array;
  private readonly lastObsBucket: Float64Array;
  private readonly firstObsBucket: Float64Array;
  private headBucket = NaN;
  private headSlot = 0;
  private headTs = NaN;
  private firstBucket = NaN;
  private stale = 0;
  private invalid = 0;
  private resets = 0;

  constructor(config: RollingWindowConfig) {
    const { horizonSec, windowsSec, sumSeries, lastSeries } = config;
    if (!Number.isInteger(horizonSec) || horizonSec < 1) {
      throw new RangeError(`RollingWindow: horizonSec must be a positive integer, got ${horizonSec}`);
    }
    for (const w of windowsSec) {
      if (!Number.isInteger(w) || w < 1 || w > horizonSec) {
        throw new RangeError(`RollingWindow: window ${w}s must be an integer in 1..${horizonSec}`);
      }
    }
    if (!Number.isInteger(sumSeries) || sumSeries < 0 || !Number.isInteger(lastSeries) || lastSeries < 0) {
      throw new RangeError(`RollingWindow: series counts must be non-negative integers`);
    }
    this.horizonSec = horizonSec;
    this.windowsSec = Int32Array.from(windowsSec);
    this.nWin = windowsSec.length;
    this.nSum = sumSeries;
    this.nLast = lastSeries;
    this.buckets = new Float64Array(sumSeries * horizonSec);
    this.sumHi = new Float64Array(sumSeries * this.nWin);
    this.sumLo = new Float64Array(sumSeries * this.nWin);
    this.nonZero = new Int32Array(sumSeries * this.nWin);
    this.lastRing = new Float64Array(lastSeries * horizonSec);
    this.lastVal = new Float64Array(lastSeries).fill(NaN);
    this.lastObsMs = new Float64Array(lastSeries).fill(-Infinity);
    this.lastObsBucket = new Float64Array(lastSeries).fill(NaN);
    this.firstObsBucket = new Float64Array(lastSeries).fill(NaN);
  }

  /** Largest `tsEvent` seen (ms), NaN before the first event. */
  get headMs(): number {
    return this.headTs;
  }

  /** True until the first event is located. */
  get isEmpty(): boolean {
    return this.headBucket !== this.headBucket;
  }

  /**
   * Whole seconds of history: buckets from the earliest accepted event's bucket to the head's, inclusive,
   * capped at the horizon (1 right after the first event). Restarts after a reset; NaN when empty.
   */
  get historySec(): number {
    const covered = this.headBucket - this.firstBucket + 1;
    if (covered !== covered) return NaN;
    return covered < this.horizonSec ? covered : this.horizonSec;
  }

  /** Events ignored because their bucket was already outside the horizon. */
  get staleEventCount(): number {
    return this.stale;
  }

  /** Inputs ignored as malformed: non-finite timestamps, negative or non-finite sums, infinite values. */
  get invalidInputCount(): number {
    return this.invalid;
  }

  /** Times the head jumped a whole horizon ahead and everything was forgotten. */
  get resetCount(): number {
    return this.resets;
  }

  /**
   * Accepts an event time: moves the head forward if `tsMs` is newer and returns the event's bucket age
   * (0 = head bucket). Returns -1, and counts it, when the time is not finite or the bucket is outside the
   * horizon; the caller then drops the event.
   */
  locate(tsMs: number): number {
    if (!Number.isFinite(tsMs)) {
      this.invalid++;
      return -1;
    }
    const bucket = Math.floor(tsMs / 1000);
    if (this.headBucket !== this.headBucket) {
      this.startEpoch(bucket, tsMs);
      return 0;
    }
    const ahead = bucket - this.headBucket;
    if (ahead > 0) {
      if (ahead >= this.horizonSec) {
        this.clear();
        this.resets++;
        this.startEpoch(bucket, tsMs);
        return 0;
      }
      this.advance(ahead);
      this.headTs = tsMs;
      return 0;
    }
    if (tsMs > this.headTs) this.headTs = tsMs;
    const age = -ahead;
    if (age >= this.horizonSec) {
      this.stale++;
      return -1;
    }
    if (bucket < this.firstBucket) this.firstBucket = bucket;
    return age;
  }

  /** Adds `value` (>= 0) to sum series `series` in the bucket at `age` (from {@link locate}). */
  add(series: number, age: number, value: number): void {
    if (!(value >= 0 && value < Infinity)) {
      this.invalid++;
      return;
    }
    if (value === 0) return;
    const idx = series * this.horizonSec + this.slotOf(age);
    const old = this.buckets[idx]!;
    const updated = old + value;
    this.buckets[idx] = updated;
    const base = series * this.nWin;
    for (let w = 0; w < this.nWin; w++) {
      if (age >= this.windowsSec[w]!) continue;
      const k = base + w;
      this.accumulate(k, updated);
      if (old === 0) this.nonZero[k]!++;
      else this.accumulate(k, -old);
    }
  }

  /**
   * Records an observation of last-value series `series` made at `tsMs` in the bucket at `age`. NaN means
   * "unknown" and is ignored; so is an observation older than the series' latest one.
   */
  observe(series: number, age: number, tsMs: number, value: number): void {
    if (value !== value) return;
    if (value === Infinity || value === -Infinity) {
      this.invalid++;
      return;
    }
    if (tsMs < this.lastObsMs[series]!) return;
    const bucket = this.headBucket - age;
    const lastBucket = this.lastObsBucket[series]!;
    const base = series * this.horizonSec;
    if (lastBucket === lastBucket) {
      const oldest = this.headBucket - this.horizonSec + 1;
      const prev = this.lastVal[series]!;
      for (let b = lastBucket + 1 > oldest ? lastBucket + 1 : oldest; b < bucket; b++) {
        this.lastRing[base + this.slotOf(this.headBucket - b)] = prev;
      }
    } else {
      this.firstObsBucket[series] = bucket;
    }
    this.lastRing[base + this.slotOf(age)] = value;
    this.lastVal[series] = value;
    this.lastObsMs[series] = tsMs;
    this.lastObsBucket[series] = bucket;
  }

  /** Sum of series `series` over window number `windowIndex` (order of `windowsSec`); NaN when empty. */
  sum(series: number, windowIndex: number): number {
    if (this.headBucket !== this.headBucket) return NaN;
    const k = series * this.nWin + windowIndex;
    return this.nonZero[k] === 0 ? 0 : this.sumHi[k]! + this.sumLo[k]!;
  }

  /** Latest observed value of last-value series `series`, NaN if none since the last reset. */
  lastValue(series: number): number {
    return this.lastVal[series]!;
  }

  /**
   * Value of last-value series `series` as of the bucket `ageSec` seconds before the head's bucket: the last
   * observation in that bucket or the latest earlier one. NaN when there is none.
   */
  valueAt(series: number, ageSec: number): number {
    if (!(Number.isInteger(ageSec) && ageSec >= 0 && ageSec < this.horizonSec)) {
      throw new RangeError(`RollingWindow.valueAt: age ${ageSec}s outside 0..${this.horizonSec - 1}`);
    }
    const lastBucket = this.lastObsBucket[series]!;
    if (lastBucket !== lastBucket) return NaN;
    const bucket = this.headBucket - ageSec;
    if (bucket >= lastBucket) return this.lastVal[series]!;
    if (bucket < this.firstObsBucket[series]!) return NaN;
    return this.lastRing[series * this.horizonSec + this.slotOf(ageSec)]!;
  }

  private slotOf(age: number): number {
    const slot = this.headSlot - age;
    return slot < 0 ? slot + this.horizonSec : slot;
  }

  /** Neumaier step: running sum k += x, with the rounding error kept in `sumLo`. */
  private accumulate(k: number, x: number): void {
    const s = this.sumHi[k]!;
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) this.sumLo[k]! += s - t + x;
    else this.sumLo[k]! += x - t + s;
    this.sumHi[k] = t;
  }

  /** Moves the head `steps` (< horizon) buckets forward, retiring buckets that leave each window. */
  private advance(steps: number): void {
    const h = this.horizonSec;
    for (let step = 0; step < steps; step++) {
      for (let s = 0; s < this.nSum; s++) {
        const bucketBase = s * h;
        const sumBase = s * this.nWin;
        for (let w = 0; w < this.nWin; w++) {
          const leaving = this.buckets[bucketBase + this.slotOf(this.windowsSec[w]! - 1)]!;
          if (leaving === 0) continue;
          const k = sumBase + w;
          if (--this.nonZero[k]! === 0) {
            this.sumHi[k] = 0;
            this.sumLo[k] = 0;
          } else {
            this.accumulate(k, -leaving);
          }
        }
      }
      this.headSlot = this.headSlot + 1 === h ? 0 : this.headSlot + 1;
      this.headBucket++;
      for (let s = 0; s < this.nSum; s++) this.buckets[s * h + this.headSlot] = 0;
    }
  }

  private startEpoch(bucket: number, tsMs: number): void {
    this.headBucket = bucket;
    this.headSlot = 0;
    this.headTs = tsMs;
    this.firstBucket = bucket;
  }

  private clear(): void {
    this.buckets.fill(0);
    this.sumHi.fill(0);
    this.sumLo.fill(0);
    this.nonZero.fill(0);
    this.lastVal.fill(NaN);
    this.lastObsMs.fill(-Infinity);
    this.lastObsBucket.fill(NaN);
    this.firstObsBucket.fill(NaN);
  }
}
