import type { RankerConfig } from '../actors/ranker-actor.js';
import type { SymbolActorConfig } from '../actors/symbol-actor.js';
import { DEFAULT_COIN_LIQUIDITY_CONFIG } from '../core/coin-liquidity.js';
import type { HeatmapRange } from '../core/heatmap.js';
import { DEFAULT_SPIKE_THRESHOLDS } from '../core/spike-detector.js';
import { DEFAULT_TRIGGER_CONFIG } from '../core/trigger.js';
import type { EventTimeBand } from '../streams/bybit-decoder.js';
import type { Config } from './config.js';

export interface EngineSettings {
  readonly symbol: SymbolActorConfig;
  readonly ranker: RankerConfig;
  readonly eventTimeBand: EventTimeBand;
}

/**
 * The engine's decision settings from configuration. `run` and `replay` both build them here, so a replay
 * with the same configuration decides exactly as the live run did.
 */
export function engineSettings(config: Config): EngineSettings {
  const base = DEFAULT_COIN_LIQUIDITY_CONFIG;
  return {
    symbol: {
      horizonSec: config.windowHorizonSec,
      spike: { ...DEFAULT_SPIKE_THRESHOLDS, ...config.spike },
      trigger: {
        ...DEFAULT_TRIGGER_CONFIG,
        oiChangePct15mMin: config.trigger.oiChangePct15mMin,
        volumeRatio5mMin: config.trigger.volumeRatio5mMin,
        priceChangePct5mMin: config.trigger.priceChangePct5mMin,
        cooldownMs: config.triggerCooldownMs,
      },
      evaluateIntervalMs: config.ranking.intervalMs,
      outcomes: {
        windowMs: config.historyStats.clusterHitWindowMs,
        reliable: { minHitRate: config.historyStats.reliableMinHitRate, minOutcomes: config.historyStats.reliableMinOutcomes },
        weights: config.historyStats.rangeWeights,
      },
      liquidity: {
        ...base,
        successRatePrior: config.successRatePrior,
        evaluation: {
          ...base.evaluation,
          overridesUsd: config.thresholdOverridesUsd,
          significance: { ...base.evaluation.significance, learned: config.thresholdLearnedMode },
          imbalance: {
            ...base.evaluation.imbalance,
            weights: config.signalRangeWeights as Partial<Record<HeatmapRange, number>>,
            longAbove: config.imbalanceBands.longAbove,
            shortBelow: config.imbalanceBands.shortBelow,
            mode: config.imbalanceMode,
          },
        },
        estimator: { ...base.estimator, leverageTiers: config.estimatorLeverageTiers, maxCohorts: config.estimatorMaxCohorts },
      },
    },
    ranker: { ...config.ranking },
    eventTimeBand: config.eventTimeBand,
  };
}
