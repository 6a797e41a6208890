/** Settings for {@link InstrumentShrinkGuard}. */
export interface ShrinkGuardOptions {
  /** A reply that drops more than this share of the last good list is suspect (0.33: more than a third). */
  readonly maxDropFraction: number;
  /** Consecutive suspect replies after which the shrink is believed and applied. */
  readonly confirmations: number;
  /** Drops of at most this many symbols are ordinary delistings and always apply. Default 5. */
  readonly minSuspectDrop?: number;
}

export type ShrinkVerdict =
  | { readonly kind: 'accept'; readonly confirmedAfter?: number }
  | { readonly kind: 'hold'; readonly reason: string; readonly seen: number; readonly needed: number };

/**
 * Decides whether a rediscovered instrument list may replace the last good one. Bybit has hundreds of linear
 * perpetuals and delists a few at a time; a reply that is empty, or that loses a large share at once, is far
 * more likely a broken edge (a CDN error page parsed as an empty list, a partial page, a maintenance reply)
 * than the market. Applying it would unsubscribe every lost coin, so such a reply is held: the caller keeps
 * its last good list and asks again soon. A shrink seen on `confirmations` consecutive replies is believed.
 * An empty list is never believed: with nothing listed there is nothing to stream, and the old subscriptions
 * cost nothing while they stay silent.
 */
export class InstrumentShrinkGuard {
  private suspectRuns = 0;

  constructor(private readonly opts: ShrinkGuardOptions) {}

  /** Suspect replies seen in a row (0 after an accepted one). */
  get suspectStreak(): number {
    return this.suspectRuns;
  }

  check(previous: readonly { readonly symbol: string }[], next: readonly { readonly symbol: string }[]): ShrinkVerdict {
    if (next.length === 0) {
      this.suspectRuns++;
      return { kind: 'hold', reason: `empty instrument list (last good list has ${previous.length}); never applied`, seen: this.suspectRuns, needed: Infinity };
    }
    if (previous.length === 0) return this.accept();
    const present = new Set(next.map((i) => i.symbol));
    let gone = 0;
    for (const i of previous) if (!present.has(i.symbol)) gone++;
    const share = gone / previous.length;
    if (gone <= (this.opts.minSuspectDrop ?? 5) || share <= this.opts.maxDropFraction) return this.accept();
    this.suspectRuns++;
    if (this.suspectRuns >= this.opts.confirmations) return this.accept(this.suspectRuns);
    const pct = (share * 100).toFixed(0);
    return {
      kind: 'hold',
      reason: `instrument list lost ${gone} of ${previous.length} symbols (${pct} %) at once; keeping the last good list until ${this.opts.confirmations} replies in a row agree (${this.suspectRuns} so far)`,
      seen: this.suspectRuns,
      needed: this.opts.confirmations,
    };
  }

  private accept(confirmedAfter?: number): ShrinkVerdict {
    this.suspectRuns = 0;
    return confirmedAfter === undefined ? { kind: 'accept' } : { kind: 'accept', confirmedAfter };
  }
}
