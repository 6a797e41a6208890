import type { LiquidationSide } from '../../src/core/heatmap.js';
import type { LeverageTier } from '../../src/core/liquidation-estimator.js';

/**
 * The own estimate's model without any approximation, for measuring the real one: every OI increase becomes one
 * position per side and leverage tier at its exact liquidation price and opening time; nothing is bucketed,
 * merged or evicted. Same rules: OI decrease scales everything, price crossing consumes, exponential decay.
 */
export class BruteForceEstimate {
  private readonly positions: { side: LiquidationSide; priceUsd: number; usdAtOpen: number; openedAtMs: number }[] = [];
  private lastOi: number | undefined;
  private scale = 1;
  private readonly tiers: { longFactor: number; shortFactor: number; share: number }[];

  constructor(
    tiers: readonly LeverageTier[],
    mm: number,
    private readonly halfLifeMs: number,
  ) {
    const total = tiers.reduce((a, t) => a + t.weight, 0);
    this.tiers = tiers.map((t) => ({ longFactor: 1 - 1 / t.leverage + mm, shortFactor: 1 + 1 / t.leverage - mm, share: t.weight / total }));
  }

  onOpenInterest(tsMs: number, oi: number, priceUsd: number): void {
    this.onPrice(priceUsd);
    const prev = this.lastOi;
    this.lastOi = oi;
    if (prev === undefined) return;
    if (oi > prev) {
      const notional = (oi - prev) * priceUsd;
      for (const t of this.tiers) {
        // Positions are stored in "scale units" so a later OI decrease applies to them too.
        this.positions.push({ side: 'long', priceUsd: priceUsd * t.longFactor, usdAtOpen: (notional * 0.5 * t.share) / this.scale, openedAtMs: tsMs });
        this.positions.push({ side: 'short', priceUsd: priceUsd * t.shortFactor, usdAtOpen: (notional * 0.5 * t.share) / this.scale, openedAtMs: tsMs });
      }
      this.onPrice(priceUsd);
    } else if (oi < prev) {
      this.scale *= prev > 0 ? oi / prev : 0;
    }
  }

  onPrice(priceUsd: number): void {
    for (let i = this.positions.length - 1; i >= 0; i--) {
      const p = this.positions[i]!;
      if ((p.side === 'long' && p.priceUsd >= priceUsd) || (p.side === 'short' && p.priceUsd <= priceUsd)) {
        this.positions[i] = this.positions[this.positions.length - 1]!;
        this.positions.pop();
      }
    }
  }

  /** Positions opened within `maxAgeMs` of `nowMs`, with their current USD. */
  levels(nowMs: number, maxAgeMs: number): { side: LiquidationSide; priceUsd: number; usd: number; ageMs: number }[] {
    return this.positions
      .filter((p) => nowMs - p.openedAtMs <= maxAgeMs)
      .map((p) => ({ side: p.side, priceUsd: p.priceUsd, usd: p.usdAtOpen * this.scale * Math.pow(2, -(nowMs - p.openedAtMs) / this.halfLifeMs), ageMs: nowMs - p.openedAtMs }));
  }
}
