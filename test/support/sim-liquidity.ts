/** See `SIMULATED_MARKET_LIQUIDITY`: simulated clusters sit under the founder's floors. */
export { SIMULATED_MARKET_LIQUIDITY as SIM_LIQUIDITY } from '../../src/streams/market-simulator.js';
