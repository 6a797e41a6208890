/** Shape of a {@link RollingWindow}: how far back it remembers and which series it keeps. */
export interface RollingWindowConfig {
  /**
   * Reach of the window in 1 s buckets: events in a bucket at or before `head - horizonSec` are dropped, and a
   * head jump of `horizonSec` buckets or more resets everything. Also the cap of `historySec`.
   */
  readonly horizonSec: number;
  /**
   * Lengths of the running-sum windows, in seconds, strictly ascending, each an integer in 1..horizonSec. A sum
   * series keeps the windows that fit in its own ring (see `sumSeriesSec`); a longer one always reads NaN.
   */
  readonly windowsSec: readonly number[];
  /**
   * One entry per additive series (volumes, liquidations): the seconds of 1 s buckets it keeps (its ring
   * length, an integer in 1..horizonSec). Its sums are O(1) over every window no longer than that.
   */
  readonly sumSeriesSec: readonly number[];
  /**
   * One entry per last-value series (prices, open interest): the seconds of history it keeps (ring length, an
   * integer in 1..horizonSec); `valueAt` reads ages below it. The latest value is kept regardless.
   */
  readonly lastSeriesSec: readonly number[];
}

function checkLength(what: string, sec: number, horizonSec: number): void {
  if (!Number.isInteger(sec) || sec < 1 || sec > horizonSec) {
    throw new RangeError(`RollingWindow: ${what} ${sec}s must be an integer in 1..${horizonSec}`);
  }
}

/**
 * Time-bucketed rolling window over 1 s buckets, kept in `Float64Array` rings so the hot path is O(1) and
 * allocates nothing after construction. Each series has its own ring length (its history), so a series read
 * only over 15 minutes does not pay for an hour of buckets; all series share one head and one horizon.
 *
 * Time comes only from the events (`tsEvent` ms): the head is the largest timestamp seen. A bucket is
 * `floor(tsMs / 1000)`; "the last N seconds" are the N buckets ending at the head's bucket, inclusive.
 *
 * - Sum series keep, per window that fits their ring, a running sum updated as values enter and buckets
 *   leave. The running sums are Neumaier-compensated (they are only ever added to and subtracted from, so
 *   plain doubles would drift and, after big values left, make a small remaining sum meaningless), and a
 *   count of non-zero buckets makes an empty window read exactly 0. A value whose bucket is older than the
 *   series' ring is ignored (it could not be in any of its windows).
 * - Last-value series are forward-filled on write: the value as of bucket q is the last observation made
 *   in q or the latest earlier bucket. An observation older (by ms) than the series' latest one is ignored.
 *   An observation older than the series' ring but inside the horizon still becomes its latest value.
 * - A head jump of `horizonSec` buckets or more leaves nothing inside the horizon, so the window resets
 *   completely (sums, last values, history); a trader gets NaN changes after an outage rather than a
 *   "1-minute move" measured against hour-old data. A shorter jump that is longer than a series' ring
 *   empties that series' buckets and sums (its latest value stays).
 *
 * Advancing the head loops over the skipped buckets of each series, bounded by its ring (amortised O(1) per
 * second of event time); forward-filling is bounded the same way.
 *
 * Gotcha: `locate` returns an age relative to the head at that moment; use it before the next `locate`.
 */
export class RollingWindow {
  readonly horizonSec: number;
  private readonly windowsSec: Int32Array;
  private readonly nWin: number;
  private readonly nSum: number;
  private readonly nLast: number;
  /** Per sum series: ring length, offset into `buckets`, slot of the head bucket, windows that fit. */
  private readonly sumLen: Int32Array;
  private readonly sumBase: Int32Array;
  private readonly sumHead: Int32Array;
  private readonly sumWins: Int32Array;
  /** Per last-value series: ring length, offset into `lastRing`, slot of the head bucket. */
  private readonly lastLen: Int32Array;
  private readonly lastBase: Int32Array;
  private readonly lastHead: Int32Array;
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
  private headTs = NaN;
  private firstBucket = NaN;
  private stale = 0;
  private invalid = 0;
  private resets = 0;

  constructor(config: RollingWindowConfig) {
    const { horizonSec, windowsSec, sumSeriesSec, lastSeriesSec } = config;
    if (!Number.isInteger(horizonSec) || horizonSec < 1) {
      throw new RangeError(`RollingWindow: horizonSec must be a positive integer, got ${horizonSec}`);
    }
    windowsSec.forEach((w, i) => {
      checkLength('window', w, horizonSec);
      if (i > 0 && w <= windowsSec[i - 1]!) throw new RangeError(`RollingWindow: windowsSec must be strictly ascending`);
    });
    for (const s of sumSeriesSec) checkLength('sum series history', s, horizonSec);
    for (const s of lastSeriesSec) checkLength('last-value series history', s, horizonSec);
    this.horizonSec = horizonSec;
    this.windowsSec = Int32Array.from(windowsSec);
    this.nWin = windowsSec.length;
    this.nSum = sumSeriesSec.length;
    this.nLast = lastSeriesSec.length;
    this.sumLen = Int32Array.from(sumSeriesSec);
    this.sumBase = new Int32Array(this.nSum);
    this.sumHead = new Int32Array(this.nSum);
    this.sumWins = Int32Array.from(sumSeriesSec, (len) => windowsSec.filter((w) => w <= len).length);
    this.lastLen = Int32Array.from(lastSeriesSec);
    this.lastBase = new Int32Array(this.nLast);
    this.lastHead = new Int32Array(this.nLast);
    let sumTotal = 0;
    for (let s = 0; s < this.nSum; s++) {
      this.sumBase[s] = sumTotal;
      sumTotal += this.sumLen[s]!;
    }
    let lastTotal = 0;
    for (let s = 0; s < this.nLast; s++) {
      this.lastBase[s] = lastTotal;
      lastTotal += this.lastLen[s]!;
    }
    this.buckets = new Float64Array(sumTotal);
    this.lastRing = new Float64Array(lastTotal);
    this.sumHi = new Float64Array(this.nSum * this.nWin);
    this.sumLo = new Float64Array(this.nSum * this.nWin);
    this.nonZero = new Int32Array(this.nSum * this.nWin);
    // A window longer than its series' ring is never updated and reads NaN: a non-zero count over a NaN sum.
    for (let s = 0; s < this.nSum; s++) {
      for (let w = this.sumWins[s]!; w < this.nWin; w++) {
        this.sumHi[s * this.nWin + w] = NaN;
        this.nonZero[s * this.nWin + w] = -1;
      }
    }
    this.lastVal = new Float64Array(this.nLast).fill(NaN);
    this.lastObsMs = new Float64Array(this.nLast).fill(-Infinity);
    this.lastObsBucket = new Float64Array(this.nLast).fill(NaN);
    this.firstObsBucket = new Float64Array(this.nLast).fill(NaN);
  }

  /** Largest `tsEvent` seen (ms), NaN before the first event. */
  get headMs(): number {
    return this.headTs;
  }

  /** Bytes of typed arrays this window holds (fixed at construction), for the memory breakdown. */
  get byteLength(): number {
    let n = 0;
    for (const a of [this.windowsSec, this.sumLen, this.sumBase, this.sumHead, this.sumWins, this.lastLen, this.lastBase, this.lastHead, this.buckets, this.sumHi, this.sumLo, this.nonZero, this.lastRing, this.lastVal, this.lastObsMs, this.lastObsBucket, this.firstObsBucket]) n += a.byteLength;
    return n;
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
    const len = this.sumLen[series]!;
    if (value === 0 || age >= len) return;
    const slot = this.sumHead[series]! - age;
    const idx = this.sumBase[series]! + (slot < 0 ? slot + len : slot);
    const old = this.buckets[idx]!;
    const updated = old + value;
    this.buckets[idx] = updated;
    const base = series * this.nWin;
    const nWin = this.sumWins[series]!;
    for (let w = 0; w < nWin; w++) {
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
    const len = this.lastLen[series]!;
    if (lastBucket === lastBucket) {
      const oldest = this.headBucket - len + 1;
      const prev = this.lastVal[series]!;
      for (let b = lastBucket + 1 > oldest ? lastBucket + 1 : oldest; b < bucket; b++) {
        this.lastRing[this.lastSlot(series, this.headBucket - b)] = prev;
      }
    } else {
      this.firstObsBucket[series] = bucket;
    }
    if (age < len) this.lastRing[this.lastSlot(series, age)] = value;
    this.lastVal[series] = value;
    this.lastObsMs[series] = tsMs;
    this.lastObsBucket[series] = bucket;
  }

  /**
   * Sum of series `series` over window number `windowIndex` (order of `windowsSec`); NaN when empty, and
   * always NaN for a window longer than the series' history (no check here: the read path stays small).
   */
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
   * observation in that bucket or the latest earlier one. NaN when there is none. Throws RangeError for an
   * age outside the series' history.
   */
  valueAt(series: number, ageSec: number): number {
    const len = this.lastLen[series]!;
    if (!(Number.isInteger(ageSec) && ageSec >= 0 && ageSec < len)) {
      throw new RangeError(`RollingWindow.valueAt: age ${ageSec}s outside 0..${len - 1} of series ${series}`);
    }
    const lastBucket = this.lastObsBucket[series]!;
    if (lastBucket !== lastBucket) return NaN;
    const bucket = this.headBucket - ageSec;
    if (bucket >= lastBucket) return this.lastVal[series]!;
    if (bucket < this.firstObsBucket[series]!) return NaN;
    const slot = this.lastHead[series]! - ageSec;
    return this.lastRing[this.lastBase[series]! + (slot < 0 ? slot + len : slot)]!;
  }

  /** Index into `lastRing` of the bucket `age` (< the series' length) before the head. */
  private lastSlot(series: number, age: number): number {
    const slot = this.lastHead[series]! - age;
    return this.lastBase[series]! + (slot < 0 ? slot + this.lastLen[series]! : slot);
  }

  /** Neumaier step: running sum k += x, with the rounding error kept in `sumLo`. */
  private accumulate(k: number, x: number): void {
    const s = this.sumHi[k]!;
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) this.sumLo[k]! += s - t + x;
    else this.sumLo[k]! += x - t + s;
    this.sumHi[k] = t;
  }

  /**
   * Moves the head `steps` (< horizon) buckets forward. Per sum series, retires the buckets that leave each
   * window one step at a time, or, when the jump is at least its ring, empties the ring and its sums at once.
   */
  private advance(steps: number): void {
    for (let s = 0; s < this.nSum; s++) {
      const len = this.sumLen[s]!;
      const ringBase = this.sumBase[s]!;
      const sumBase = s * this.nWin;
      const nWin = this.sumWins[s]!;
      if (steps >= len) {
        this.clearSeries(s);
        continue;
      }
      let head = this.sumHead[s]!;
      for (let step = 0; step < steps; step++) {
        for (let w = 0; w < nWin; w++) {
          const slot = head - this.windowsSec[w]! + 1;
          const leaving = this.buckets[ringBase + (slot < 0 ? slot + len : slot)]!;
          if (leaving === 0) continue;
          const k = sumBase + w;
          if (--this.nonZero[k]! === 0) {
            this.sumHi[k] = 0;
            this.sumLo[k] = 0;
          } else {
            this.accumulate(k, -leaving);
          }
        }
        head = head + 1 === len ? 0 : head + 1;
        this.buckets[ringBase + head] = 0;
      }
      this.sumHead[s] = head;
    }
    for (let s = 0; s < this.nLast; s++) this.lastHead[s] = (this.lastHead[s]! + steps) % this.lastLen[s]!;
    this.headBucket += steps;
  }

  private startEpoch(bucket: number, tsMs: number): void {
    this.headBucket = bucket;
    this.headTs = tsMs;
    this.firstBucket = bucket;
  }

  /** Empties the ring and the running sums of sum series `s` (leaving its too-long windows NaN). */
  private clearSeries(s: number): void {
    const ringBase = this.sumBase[s]!;
    const sumBase = s * this.nWin;
    const end = sumBase + this.sumWins[s]!;
    this.buckets.fill(0, ringBase, ringBase + this.sumLen[s]!);
    this.sumHi.fill(0, sumBase, end);
    this.sumLo.fill(0, sumBase, end);
    this.nonZero.fill(0, sumBase, end);
  }

  private clear(): void {
    for (let s = 0; s < this.nSum; s++) this.clearSeries(s);
    this.lastVal.fill(NaN);
    this.lastObsMs.fill(-Infinity);
    this.lastObsBucket.fill(NaN);
    this.firstObsBucket.fill(NaN);
  }
}
