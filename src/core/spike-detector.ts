import type { SymbolFeatures } from './features.js';

/** Bit flags saying why a spike fired; a result is their OR, 0 meaning "no spike". */
export const SpikeReason = {
  Price1m: 1,
  Price5m: 2,
  Oi15m: 4,
  Volume: 8,
} as const;

export type SpikeReasonName = keyof typeof SpikeReason;

/** Thresholds for a spike (founder's notes: refresh heatmaps on price > 2 % 1m or > 5 % 5m, OI > 3 %, volume > 1.5x). */
export interface SpikeThresholds {
  /** |priceChangePct1m| must exceed this (percent). */
  readonly price1mPct: number;
  /** |priceChangePct5m| must exceed this (percent). */
  readonly price5mPct: number;
  /** |oiChangePct15m| must exceed this (percent). */
  readonly oi15mPct: number;
  /** volumeRatio5m must exceed this. */
  readonly volumeRatio: number;
  /** Quiet time after a spike before the next one can fire. */
  readonly cooldownMs: number;
}

export const DEFAULT_SPIKE_THRESHOLDS: SpikeThresholds = Object.freeze({
  price1mPct: 2,
  price5mPct: 5,
  oi15mPct: 3,
  volumeRatio: 1.5,
  cooldownMs: 300_000,
});

const REASON_NAMES: readonly SpikeReasonName[] = ['Price1m', 'Price5m', 'Oi15m', 'Volume'];

/** Names of the flags set in `mask`, lowest bit first (for logs and alerts; allocates). */
export function spikeReasonNames(mask: number): SpikeReasonName[] {
  const names: SpikeReasonName[] = [];
  for (const name of REASON_NAMES) if ((mask & SpikeReason[name]) !== 0) names.push(name);
  return names;
}

/**
 * Decides whether a symbol's features show a spike. One instance per symbol: it holds that symbol's
 * cooldown, so one move that keeps exceeding thresholds for minutes is reported once, not on every tick.
 *
 * Comparisons are strict (a move of exactly the threshold is not a spike) and NaN features never fire, so a
 * symbol without enough history stays quiet. Price and OI use the absolute change (either direction).
 */
export class SpikeDetector {
  readonly thresholds: SpikeThresholds;
  private lastFire = -Infinity;
  private suppressed = 0;

  constructor(thresholds: Partial<SpikeThresholds> = {}) {
    const t: SpikeThresholds = { ...DEFAULT_SPIKE_THRESHOLDS, ...thresholds };
    for (const [key, value] of Object.entries(t)) {
      if (!(typeof value === 'number' && value >= 0 && value < Infinity)) {
        throw new RangeError(`SpikeDetector: threshold ${key} must be a finite number >= 0, got ${String(value)}`);
      }
    }
    this.thresholds = Object.freeze(t);
  }

  /** Time (ms) of the last non-zero result, -Infinity if none. */
  get lastFireMs(): number {
    return this.lastFire;
  }

  /** Spikes detected but not reported because the cooldown was running. */
  get suppressedCount(): number {
    return this.suppressed;
  }

  /**
   * Returns the {@link SpikeReason} mask for `f` at `tsMs`, or 0. After a non-zero result everything is 0
   * until `tsMs >= lastFireMs + cooldownMs`. Allocation-free.
   */
  check(tsMs: number, f: SymbolFeatures): number {
    const t = this.thresholds;
    let mask = 0;
    if (Math.abs(f.priceChangePct1m) > t.price1mPct) mask |= SpikeReason.Price1m;
    if (Math.abs(f.priceChangePct5m) > t.price5mPct) mask |= SpikeReason.Price5m;
    if (Math.abs(f.oiChangePct15m) > t.oi15mPct) mask |= SpikeReason.Oi15m;
    if (f.volumeRatio5m > t.volumeRatio) mask |= SpikeReason.Volume;
    if (mask === 0) return 0;
    if (tsMs < this.lastFire + t.cooldownMs) {
      this.suppressed++;
      return 0;
    }
    this.lastFire = tsMs;
    return mask;
  }

  /** Forgets the cooldown (e.g. after the symbol was re-listed). */
  reset(): void {
    this.lastFire = -Infinity;
  }
}
