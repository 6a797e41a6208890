import { DEFAULT_COIN_LIQUIDITY_CONFIG, type CoinLiquidityConfig } from '../../src/core/coin-liquidity.js';

/**
 * A simulated tape has under an hour of new open interest and no bootstrap, so its estimated clusters are about
 * $1M, far under every founder floor ($10M+). Scenarios that test the mechanics (estimate → ranking → arm →
 * trigger → trade) therefore take significance from each coin's learned typical size (`learned: 'replace'`);
 * the founder's floors themselves are tested in test/threshold-scenario.test.ts.
 */
export const SIM_LIQUIDITY: CoinLiquidityConfig = {
  ...DEFAULT_COIN_LIQUIDITY_CONFIG,
  evaluation: { ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation, significance: { ...DEFAULT_COIN_LIQUIDITY_CONFIG.evaluation.significance, learned: 'replace' } },
};
