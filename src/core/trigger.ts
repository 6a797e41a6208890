import type { SymbolFeatures } from './features.js';
import type { HeatmapRange } from './heatmap.js';
import type { ImbalanceDirection, RangedCluster } from './imbalance.js';

/**
 * The entry trigger on armed coins: open interest, volume and price must all confirm a move toward the target
 * cluster within the same frame. Runs on every market frame of an armed coin, so the no-fire path allocates
 * nothing (rejections are shared constant objects).
 */

/** The feature fields the trigger reads; `SymbolFeatures` satisfies it. Percent fields are percent (1 = 1 %). */
export type TriggerFeatures = Pick<SymbolFeatures, 'lastPrice' | 'priceChangePct5m' | 'oiChangePct15m' | 'volumeRatio5m'>;

/** What the ranker armed; `CoinAssessment` from ranking.ts satisfies it. */
export interface ArmedSetup {
  readonly symbol: string;
  readonly direction: ImbalanceDirection;
  readonly imbalance: number;
  readonly score: number;
  readonly target: RangedCluster | undefined;
  readonly opposite: RangedCluster | undefined;
  readonly heatmapFetchedAt: Readonly<Partial<Record<HeatmapRange, number>>>;
}

export type SignalDirection = 'LONG' | 'SHORT';

/** A confirmed setup, handed to execution. `features` is a copy taken when the signal fired. */
export interface Signal<F extends TriggerFeatures = SymbolFeatures> {
  readonly symbol: string;
  readonly direction: SignalDirection;
  readonly score: number;
  readonly imbalance: number;
  readonly features: F;
  readonly target: RangedCluster | undefined;
  readonly opposite: RangedCluster | undefined;
  /** Age of each range's heatmap at `tsInit`. */
  readonly heatmapAgesMs: Readonly<Partial<Record<HeatmapRange, number>>>;
  /** Local receipt time of the frame that completed the trigger; latency is measured from it. */
  readonly tsInit: number;
}

export interface TriggerConfig {
  /** OI must have grown by more than this over 15 min (percent; an OI drop never confirms). */
  readonly oiChangePct15mMin: number;
  /** 5-min volume must exceed this multiple of the hour's 5-min average. */
  readonly volumeRatio5mMin: number;
  /** Price must have moved more than this over 5 min in the signal's direction (percent). */
  readonly priceChangePct5mMin: number;
  /** After a signal, the same coin stays silent this long (measured on `tsInit`). */
  readonly cooldownMs: number;
}

/** The market thresholds of a trigger, without the cooldown. */
export type TriggerThresholds = Pick<TriggerConfig, 'oiChangePct15mMin' | 'volumeRatio5mMin' | 'priceChangePct5mMin'>;

/**
 * Named threshold sets. `blueprint` is the written strategy (OI 15 m > 3 %, volume > 1.5 ×, price 5 m > 1 %),
 * the default. `strict` is the stricter pair the founder uses in the transcript (OI > 5 %, volume > 2 ×), with
 * the same 1 % price move: fewer, later signals, each backed by more new positions.
 */
export const TRIGGER_PRESETS = {
  blueprint: { oiChangePct15mMin: 3, volumeRatio5mMin: 1.5, priceChangePct5mMin: 1 },
  strict: { oiChangePct15mMin: 5, volumeRatio5mMin: 2, priceChangePct5mMin: 1 },
} as const satisfies Record<string, TriggerThresholds>;

export type TriggerPreset = keyof typeof TRIGGER_PRESETS;

export const DEFAULT_TRIGGER_CONFIG: TriggerConfig = {
  ...TRIGGER_PRESETS.blueprint,
  cooldownMs: 15 * 60_000,
};

/** Why a frame did not fire, as a stable code. */
export type TriggerRejectionReason =
  | 'NOT_ARMED'
  | 'NO_DIRECTION'
  | 'OI_NOT_CONFIRMING'
  | 'VOLUME_NOT_CONFIRMING'
  | 'PRICE_NOT_CONFIRMING'
  | 'COOLDOWN';

export interface TriggerRejected {
  readonly fired: false;
  readonly reason: TriggerRejectionReason;
}

export interface TriggerFired<F extends TriggerFeatures> {
  readonly fired: true;
  readonly signal: Signal<F>;
}

export type TriggerOutcome<F extends TriggerFeatures> = TriggerRejected | TriggerFired<F>;

const REJECTED: Readonly<Record<TriggerRejectionReason, TriggerRejected>> = Object.freeze({
  NOT_ARMED: Object.freeze({ fired: false, reason: 'NOT_ARMED' }),
  NO_DIRECTION: Object.freeze({ fired: false, reason: 'NO_DIRECTION' }),
  OI_NOT_CONFIRMING: Object.freeze({ fired: false, reason: 'OI_NOT_CONFIRMING' }),
  VOLUME_NOT_CONFIRMING: Object.freeze({ fired: false, reason: 'VOLUME_NOT_CONFIRMING' }),
  PRICE_NOT_CONFIRMING: Object.freeze({ fired: false, reason: 'PRICE_NOT_CONFIRMING' }),
  COOLDOWN: Object.freeze({ fired: false, reason: 'COOLDOWN' }),
} as const);

/**
 * The three market conditions, without arming or cooldown. Returns the first failing one, or undefined when
 * all three confirm. NaN features (not enough history) never confirm.
 */
export function unconfirmedCondition(
  features: TriggerFeatures,
  direction: SignalDirection,
  config: TriggerConfig = DEFAULT_TRIGGER_CONFIG,
): TriggerRejectionReason | undefined {
  if (!(features.oiChangePct15m > config.oiChangePct15mMin)) return 'OI_NOT_CONFIRMING';
  if (!(features.volumeRatio5m > config.volumeRatio5mMin)) return 'VOLUME_NOT_CONFIRMING';
  const move = direction === 'LONG' ? features.priceChangePct5m : -features.priceChangePct5m;
  if (!(move > config.priceChangePct5mMin)) return 'PRICE_NOT_CONFIRMING';
  return undefined;
}

/**
 * Per-coin trigger with cooldown. One instance can serve many coins (state is keyed by symbol) or one
 * SymbolActor can own its own; either way time only comes from the `tsInit` passed in.
 */
export class SignalTrigger {
  private readonly lastSignalAt = new Map<string, number>();

  constructor(private readonly config: TriggerConfig = DEFAULT_TRIGGER_CONFIG) {}

  /**
   * Evaluates one frame. `setup` undefined means the coin is not armed. On fire, the cooldown starts at
   * `tsInit` and the features are copied into the signal (callers refill theirs in place).
   */
  evaluate<F extends TriggerFeatures>(setup: ArmedSetup | undefined, features: F, tsInit: number): TriggerOutcome<F> {
    if (setup === undefined) return REJECTED.NOT_ARMED;
    const direction = setup.direction;
    if (direction === 'NONE') return REJECTED.NO_DIRECTION;
    const failed = unconfirmedCondition(features, direction, this.config);
    if (failed !== undefined) return REJECTED[failed];
    const last = this.lastSignalAt.get(setup.symbol);
    if (last !== undefined && tsInit - last < this.config.cooldownMs) return REJECTED.COOLDOWN;
    this.lastSignalAt.set(setup.symbol, tsInit);
    const heatmapAgesMs: Partial<Record<HeatmapRange, number>> = {};
    for (const [range, fetchedAt] of Object.entries(setup.heatmapFetchedAt) as Array<[HeatmapRange, number]>) {
      heatmapAgesMs[range] = Math.max(0, tsInit - fetchedAt);
    }
    return {
      fired: true,
      signal: {
        symbol: setup.symbol,
        direction,
        score: setup.score,
        imbalance: setup.imbalance,
        features: { ...features },
        target: setup.target,
        opposite: setup.opposite,
        heatmapAgesMs,
        tsInit,
      },
    };
  }

  /** `tsInit` of the coin's last signal, if any (for persistence and diagnostics). */
  lastSignalAtMs(symbol: string): number | undefined {
    return this.lastSignalAt.get(symbol);
  }

  /** Restores cooldown state (e.g. after a restart) so a restart cannot double-fire. */
  restoreLastSignal(symbol: string, tsInit: number): void {
    this.lastSignalAt.set(symbol, tsInit);
  }
}
