/**
 * Typed rows the engine hands to the batch writer, one interface per table. Times are epoch milliseconds
 * (`...Ms`), money is USD (`...Usd`), sizes in base coin are `...Qty`. Optional facts are `null`, never NaN:
 * the writer quarantines NaN and ±Infinity because PostgreSQL would store them as real values and poison every
 * aggregate over the column.
 */

export type PositionSide = 'long' | 'short';
export type OrderSide = 'buy' | 'sell';
export type MoveDirection = 'up' | 'down';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** `liquidation_data_raw`: one heatmap snapshot; levels stored as parallel arrays, not one row per level. */
export interface LiquidationSnapshotRow {
  readonly symbol: string;
  /** Heatmap range label, e.g. `7d`. */
  readonly range: string;
  /** `coinglass`, `estimate`, … */
  readonly source: string;
  readonly refPrice: number;
  readonly fetchedAtMs: number;
  readonly levelPrices: readonly number[];
  readonly levelUsd: readonly number[];
  readonly levelSides: readonly PositionSide[];
}

/** `liquidation_clusters`: a cluster found in a snapshot. */
export interface LiquidationClusterRow {
  readonly detectedAtMs: number;
  readonly symbol: string;
  readonly range: string;
  readonly source: string;
  readonly side: PositionSide;
  readonly priceLow: number;
  readonly priceHigh: number;
  readonly centerPrice: number;
  readonly totalUsd: number;
  readonly levelCount: number;
  readonly refPrice: number;
  readonly distancePct: number;
  readonly significant: boolean;
}

/** `oi_volume_spikes`: an OI/volume/price spike (`kind` tells a trigger from a heatmap-refresh spike). */
export interface OiVolumeSpikeRow {
  readonly tsMs: number;
  readonly symbol: string;
  readonly kind: string;
  readonly price: number;
  readonly oiChangePct15m: number | null;
  readonly volumeRatio5m: number | null;
  readonly priceChangePct1m: number | null;
  readonly priceChangePct5m: number | null;
  readonly direction: MoveDirection;
}

/** `fast_price_movers`: a symbol whose price moved faster than the spike thresholds. */
export interface FastPriceMoverRow {
  readonly tsMs: number;
  readonly symbol: string;
  readonly price: number;
  readonly priceChangePct1m: number | null;
  readonly priceChangePct5m: number | null;
  readonly direction: MoveDirection;
}

/** `coin_thresholds`: current cluster-significance threshold per coin (newest `updatedAtMs` wins). */
export interface CoinThresholdRow {
  readonly symbol: string;
  /** The coin's floor (before any learned raise), USD. */
  readonly thresholdUsd: number;
  /** Where the floor came from: a `ThresholdSource` (`override-env`, `override-db`, `founder-fixed`, `coinglass-market-cap`, `bybit-oi-proxy`, `default`). */
  readonly source: string;
  readonly marketCapUsd: number | null;
  readonly updatedAtMs: number;
  /** The operator's override; the daemon writes null and its updates never change a stored value (see tables.ts). */
  readonly overrideUsd: number | null;
}

/** `coin_typical_cluster_sizes`: learned typical cluster size per coin, range and source (newest observation wins). */
export interface CoinTypicalClusterSizeRow {
  readonly coin: string;
  readonly range: string;
  readonly source: string;
  readonly typicalUsd: number;
  readonly samples: number;
  readonly lastObservedAtMs: number;
}

/** `coin_liquidation_patterns`: success/failure statistics per coin and range (newest `updatedAtMs` wins). */
export interface CoinLiquidationPatternRow {
  readonly symbol: string;
  readonly range: string;
  readonly successCount: number;
  readonly failureCount: number;
  readonly successRate: number;
  readonly failureRate: number;
  readonly avgTimeToTargetSec: number | null;
  readonly updatedAtMs: number;
  /** Mean, typical (EWMA) and smallest successful target-cluster size, USD (see core/pattern-stats.ts). */
  readonly avgClusterUsd: number | null;
  readonly typicalClusterUsd: number | null;
  readonly minClusterUsd: number | null;
}

/** `coin_rankings`: one coin's place in one ranking round. */
export interface CoinRankingRow {
  readonly rankedAtMs: number;
  readonly symbol: string;
  readonly rank: number;
  readonly score: number;
  readonly imbalance: number;
  readonly clusterSizePct: number;
  readonly successRate: number;
  readonly direction: PositionSide;
  readonly armed: boolean;
}

/** `trades`: one trade; written on open and again on every change (newest `updatedAtMs` wins). */
export interface TradeRow {
  readonly tradeId: string;
  readonly agentName: string;
  readonly symbol: string;
  readonly side: PositionSide;
  readonly entryPrice: number;
  readonly exitPrice: number | null;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  readonly sizeQty: number;
  readonly sizeUsd: number;
  readonly pnlPct: number | null;
  readonly pnlUsd: number | null;
  /** `open`, `closed`, `cancelled`. */
  readonly status: string;
  readonly exitReason: string | null;
  readonly openedAtMs: number;
  readonly closedAtMs: number | null;
  readonly updatedAtMs: number;
  /** The signal that opened the trade. */
  readonly signalId: string | null;
  /** Entry and exit fees paid, USDT. */
  readonly feesUsd: number | null;
  readonly leverage: number | null;
  /** Heatmap range and source (`coinglass` / `estimate`) of the liquidation data the plan used. */
  readonly liquidationRange: string | null;
  readonly liquidationSource: string | null;
  readonly targetClusterUsd: number | null;
}

/** `position_monitor_logs`: what the position monitor saw and did on one check. */
export interface PositionMonitorLogRow {
  readonly tsMs: number;
  readonly tradeId: string;
  readonly agentName: string;
  readonly symbol: string;
  readonly price: number;
  readonly pnlPct: number | null;
  readonly stopLossPrice: number | null;
  readonly takeProfitPrice: number | null;
  /** `hold`, `move_sl`, `close`, … */
  readonly action: string;
  readonly message: string;
}

/** `agent_logs`: audit trail. `eventId` must be unique per agent (e.g. actor name + sequence number). */
export interface AgentLogRow {
  readonly tsMs: number;
  readonly agentName: string;
  readonly eventId: string;
  readonly level: LogLevel;
  readonly event: string;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>> | null;
}

/** `signals`: a trade signal raised by a symbol actor. */
export interface SignalRow {
  readonly signalId: string;
  readonly tsMs: number;
  readonly symbol: string;
  readonly direction: PositionSide;
  readonly range: string;
  readonly score: number;
  readonly imbalance: number;
  readonly entryPrice: number;
  readonly stopLossPrice: number;
  readonly takeProfitPrice: number;
  readonly targetClusterUsd: number;
  readonly reason: string;
}

/** `orders`: one order; written on every state change (newest `updatedAtMs` wins). */
export interface OrderRow {
  readonly orderId: string;
  readonly tradeId: string | null;
  readonly venue: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly orderType: string;
  readonly price: number | null;
  readonly qty: number;
  readonly filledQty: number;
  readonly avgFillPrice: number | null;
  readonly reduceOnly: boolean;
  readonly status: string;
  readonly rejectReason: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** `market_bars_1m`: one closed minute per symbol. `tsMs` is the minute's open time. */
export interface MarketBarRow {
  readonly tsMs: number;
  readonly symbol: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly buyVolumeQty: number;
  readonly sellVolumeQty: number;
  readonly buyTurnoverUsd: number;
  readonly sellTurnoverUsd: number;
  readonly tradeCount: number;
  readonly openInterest: number | null;
  readonly openInterestUsd: number | null;
  readonly fundingRate: number | null;
}

/** `liquidations`: one realized liquidation. `seq` is its index in its exchange frame. */
export interface RealizedLiquidationRow {
  readonly tsMs: number;
  readonly symbol: string;
  readonly side: PositionSide;
  readonly price: number;
  readonly qty: number;
  readonly usd: number;
  readonly seq: number;
}

/** `history_klines`: one Bybit kline from public REST history. `interval` is Bybit's code; `tsMs` is the bar's open. */
export interface HistoryKlineRow {
  readonly symbol: string;
  readonly interval: '1' | '60';
  readonly tsMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  /** Base-coin quantity traded in the bar. */
  readonly volume: number;
  /** Quote (USDT) turnover in the bar. */
  readonly turnover: number;
}

/**
 * `cluster_outcomes`: what became of a followed cluster, keyed like its first `liquidation_clusters` row. Exactly
 * one of `hitAtMs` (price reached the centre) and `expiredAtMs` (its range's horizon passed) is set.
 */
export interface ClusterOutcomeRow
  extends Pick<LiquidationClusterRow, 'detectedAtMs' | 'symbol' | 'range' | 'source' | 'side' | 'priceLow' | 'priceHigh' | 'centerPrice'> {
  readonly outcome: 'hit' | 'expired';
  readonly hitAtMs: number | null;
  readonly expiredAtMs: number | null;
  readonly resolvedAtMs: number;
}

/** `history_open_interest`: Bybit's open-interest history point (contracts, base coin) at `tsMs`. */
export interface HistoryOpenInterestRow {
  readonly symbol: string;
  readonly interval: '5min' | '1h';
  readonly tsMs: number;
  readonly openInterest: number;
}

/** `execution_refusals`: a signal the execution actor refused, with its stable reason (e.g. `RISK_MAX_POSITIONS`). */
export interface ExecutionRefusalRow {
  readonly tsMs: number;
  readonly signalId: string;
  readonly symbol: string;
  readonly reason: string;
  readonly message: string;
}

/** Row type of every table the writer knows, by table name. */
export interface TableRows {
  liquidation_data_raw: LiquidationSnapshotRow;
  liquidation_clusters: LiquidationClusterRow;
  oi_volume_spikes: OiVolumeSpikeRow;
  fast_price_movers: FastPriceMoverRow;
  coin_thresholds: CoinThresholdRow;
  coin_typical_cluster_sizes: CoinTypicalClusterSizeRow;
  coin_liquidation_patterns: CoinLiquidationPatternRow;
  coin_rankings: CoinRankingRow;
  trades: TradeRow;
  position_monitor_logs: PositionMonitorLogRow;
  agent_logs: AgentLogRow;
  signals: SignalRow;
  orders: OrderRow;
  execution_refusals: ExecutionRefusalRow;
  market_bars_1m: MarketBarRow;
  liquidations: RealizedLiquidationRow;
  history_klines: HistoryKlineRow;
  history_open_interest: HistoryOpenInterestRow;
  cluster_outcomes: ClusterOutcomeRow;
}

export type TableName = keyof TableRows;
