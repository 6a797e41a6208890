import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { validateInterval } from '../sinks/db/migrator.js';

/**
 * Configuration: environment variables, optionally under a JSON file named by WHALESTACK_CONFIG (or
 * `--config`). The file uses the same names as the environment; the environment wins. Secrets are accepted
 * from the environment only. Every bad value is reported on its own line before anything touches the network.
 */
const int = (min: number, max: number) => z.coerce.number().int(`must be an integer`).min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const positive = z.coerce.number().positive('must be a positive number').refine(Number.isFinite, 'must be finite');
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
const optionalSecret = z.string().min(1, 'must not be empty when set').optional();
const pgInterval = z.string().refine((v) => {
  try {
    validateInterval('setting', v);
    return true;
  } catch {
    return false;
  }
}, "must be a PostgreSQL interval like '7 days' or '12 hours'");
/** `key:number,key:number` lists, e.g. `7d:1,14d:1,30d:1` or `BTC:100000000`. */
const pairList = (keyRe: RegExp, what: string) =>
  z
    .string()
    .refine(
      (s) => s === '' || s.split(',').every((item) => {
        const [k, v, ...rest] = item.split(':');
        return rest.length === 0 && k !== undefined && keyRe.test(k) && v !== undefined && Number.isFinite(Number(v)) && Number(v) >= 0;
      }),
      `must be a comma-separated list of ${what}:number (number ≥ 0)`,
    );

export const CONFIG_SCHEMA = z.object({
  BYBIT_WS_URL: url(['ws:', 'wss:']).default('wss://stream.bybit.com/v5/public/linear'),
  BYBIT_REST_URL: url(['http:', 'https:']).default('https://api.bybit.com'),
  HTTP_PORT: int(0, 65535).default(9464),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/, 'must be letters, digits, ":", "_" or "-"').default('whalestack'),
  COINGLASS_URL: url(['http:', 'https:']).default('https://open-api-v4.coinglass.com'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('./data'),
  SYMBOLS: z
    .string()
    .regex(/^[A-Z0-9]+(,[A-Z0-9]+)*$/, 'must be a comma-separated list of symbols like BTCUSDT,ETHUSDT')
    .optional(),
  DISCOVERY_INTERVAL_MS: int(60_000, 86_400_000).default(3_600_000),
  WS_PING_INTERVAL_MS: int(1000, 60_000).default(20_000),
  WS_PONG_TIMEOUT_MS: int(500, 60_000).default(10_000),
  WS_STALE_AFTER_MS: int(1000, 3_600_000).default(60_000),
  WINDOW_HORIZON_SEC: int(3600, 86_400).default(3600),
  ESTIMATOR_BOOTSTRAP_DAYS: int(0, 30).default(7),
  BYBIT_REST_REQUESTS_PER_SEC: int(1, 100).default(20),
  SPIKE_PRICE_1M_PCT: positive.default(2),
  SPIKE_PRICE_5M_PCT: positive.default(5),
  SPIKE_OI_15M_PCT: positive.default(3),
  SPIKE_VOLUME_RATIO: positive.default(1.5),
  SPIKE_COOLDOWN_MS: int(0, 86_400_000).default(300_000),
  RANK_INTERVAL_MS: int(10_000, 3_600_000).default(300_000),
  RANK_TOP_N: int(1, 1000).default(10),
  RANK_ARMED_K: int(0, 100).default(3),
  SIGNAL_RANGE_WEIGHTS: pairList(/^(12h|24h|3d|7d|14d|2w|30d|90d|180d|1y)$/, 'range').default('7d:1,14d:1,30d:1'),
  THRESHOLD_OVERRIDES_USD: pairList(/^[A-Z0-9]+$/, 'COIN').default(''),
  SUCCESS_RATE_PRIOR: z.coerce.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').default(0.5),
  TRIGGER_COOLDOWN_MS: int(0, 86_400_000).default(900_000),
  ESTIMATOR_LEVERAGE_TIERS: pairList(/^[0-9]+(\.[0-9]+)?$/, 'leverage').default('5:0.3,10:0.3,25:0.2,50:0.15,100:0.05'),
  COINGLASS_PLAN_REQUESTS_PER_MIN: int(1, 10_000).default(30),
  COINGLASS_HEATMAP_MODEL: z.enum(['1', '2', '3']).default('2'),
  DB_BATCH_ROWS: int(1, 100_000).default(2000),
  DB_FLUSH_INTERVAL_MS: int(10, 600_000).default(1000),
  DB_MAX_BUFFERED_ROWS: int(100, 10_000_000).default(50_000),
  TIMESCALE_CHUNK_INTERVAL: pgInterval.default('1 day'),
  TIMESCALE_COMPRESS_AFTER: pgInterval.default('7 days'),
  TIMESCALE_RETENTION_SNAPSHOTS: pgInterval.default('90 days'),
  TIMESCALE_RETENTION_EVENTS: pgInterval.default('180 days'),
  TIMESCALE_RETENTION_BARS: pgInterval.default('730 days'),
  TAPE_ROTATE_MB: int(1, 65_536).default(256),
  TAPE_ROTATE_MINUTES: int(1, 1440).default(60),
  TRADING_MODE: z.enum(['paper', 'off']).default('paper'),
  PAPER_INITIAL_BALANCE_USD: positive.default(10_000),
  PAPER_SLIPPAGE_PCT: z.coerce.number().min(0, 'must be ≥ 0').max(5, 'must be ≤ 5').default(0.05),
  PAPER_TRIGGER_BY: z.enum(['last', 'mark']).default('last'),
  RISK_PER_TRADE_PCT: z.coerce.number().gt(0, 'must be > 0').max(10, 'must be ≤ 10').default(1),
  MAX_LEVERAGE: int(1, 125).default(10),
  ENTRY_STYLE: z.enum(['conservative', 'aggressive', 'scaled']).default('conservative'),
  ENTRY_STYLES: z.string().regex(/^([A-Z0-9]+:(conservative|aggressive|scaled)(,[A-Z0-9]+:(conservative|aggressive|scaled))*)?$/, 'must be a comma-separated list of COIN:conservative|aggressive|scaled').default(''),
  TARGET_CLUSTER: z.enum(['first', 'largest']).default('first'),
  STOP_MIN_PCT: z.coerce.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50').default(5),
  STOP_MAX_PCT: z.coerce.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50').default(10),
  WICK_STOP_DEFAULT_PCT: z.coerce.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50').default(8),
  LADDER_RUNGS: int(2, 20).default(10),
  LADDER_SIZE_RATIO: z.coerce.number().min(1, 'must be ≥ 1').max(5, 'must be ≤ 5').default(2),
  LADDER_BEYOND_CLUSTER_PCT: z.coerce.number().min(0, 'must be ≥ 0').max(20, 'must be ≤ 20').default(2),
  LADDER_BLACK_SWAN_PCT: z.coerce.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50').default(5),
  TRAILING_BASIS: z.enum(['roe', 'price']).default('roe'),
  DAILY_LOSS_LIMIT_PCT: z.coerce.number().gt(0, 'must be > 0').max(100, 'must be ≤ 100').default(3),
  MAX_POSITIONS: int(1, 100).default(3),
  MAX_EXPOSURE_PER_COIN: positive.default(2),
  MAX_EXPOSURE_TOTAL: positive.default(5),
  KILL_SWITCH: z.enum(['true', 'false']).default('false'),
  REVERSAL_ENABLED: z.enum(['true', 'false']).default('true'),
  REVERSAL_STOP_PCT: z.coerce.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50').default(10),
  LIQUIDATION_DATA_MAX_AGE_MS: int(10_000, 3_600_000).default(300_000),
  PRETRADE_REFRESH_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  ENTRY_TIMEOUT_MS: int(60_000, 7 * 86_400_000).default(6 * 3_600_000),
  BYBIT_API_KEY: optionalSecret,
  BYBIT_API_SECRET: optionalSecret,
  COINGLASS_API_KEY: optionalSecret,
  TELEGRAM_BOT_TOKEN: optionalSecret,
});

export type RawConfig = z.infer<typeof CONFIG_SCHEMA>;
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA.shape) as (keyof RawConfig)[];
export const SECRET_KEYS: readonly (keyof RawConfig)[] = ['BYBIT_API_KEY', 'BYBIT_API_SECRET', 'COINGLASS_API_KEY', 'TELEGRAM_BOT_TOKEN'];

/** The validated configuration with camel-case names, as the rest of the program sees it. */
export interface Config {
  readonly bybitWsUrl: string;
  readonly bybitRestUrl: string;
  readonly httpPort: number;
  readonly httpHost: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly redisKeyPrefix: string;
  readonly coinglassUrl: string;
  readonly logLevel: RawConfig['LOG_LEVEL'];
  readonly dataDir: string;
  readonly symbols: readonly string[] | undefined;
  readonly discoveryIntervalMs: number;
  readonly wsPingIntervalMs: number;
  readonly wsPongTimeoutMs: number;
  readonly wsStaleAfterMs: number;
  readonly windowHorizonSec: number;
  readonly estimatorBootstrapDays: number;
  readonly bybitRestRequestsPerSec: number;
  readonly spike: { readonly price1mPct: number; readonly price5mPct: number; readonly oi15mPct: number; readonly volumeRatio: number; readonly cooldownMs: number };
  readonly ranking: { readonly intervalMs: number; readonly topN: number; readonly armedK: number };
  readonly signalRangeWeights: Readonly<Record<string, number>>;
  readonly thresholdOverridesUsd: Readonly<Record<string, number>>;
  readonly successRatePrior: number;
  readonly triggerCooldownMs: number;
  readonly estimatorLeverageTiers: readonly { readonly leverage: number; readonly weight: number }[];
  readonly coinglassPlanRequestsPerMin: number;
  readonly coinglassHeatmapModel: 1 | 2 | 3;
  readonly tapeRotateBytes: number;
  readonly tapeRotateMs: number;
  readonly db: { readonly batchRows: number; readonly flushIntervalMs: number; readonly maxBufferedRows: number };
  readonly timescale: {
    readonly chunkInterval: string;
    readonly compressAfter: string;
    readonly retentionSnapshots: string;
    readonly retentionEvents: string;
    readonly retentionBars: string;
  };
  /** Trading (issue 9): percent settings are percent (1 = 1 %). */
  readonly trading: {
    readonly mode: 'paper' | 'off';
    readonly paperInitialBalanceUsd: number;
    readonly paperSlippagePct: number;
    readonly paperTriggerBy: 'last' | 'mark';
    readonly riskPerTradePct: number;
    readonly maxLeverage: number;
    readonly entryStyle: 'conservative' | 'aggressive' | 'scaled';
    readonly entryStyles: Readonly<Record<string, 'conservative' | 'aggressive' | 'scaled'>>;
    readonly targetCluster: 'first' | 'largest';
    readonly stopMinPct: number;
    readonly stopMaxPct: number;
    readonly wickStopDefaultPct: number;
    readonly ladderRungs: number;
    readonly ladderSizeRatio: number;
    readonly ladderBeyondClusterPct: number;
    readonly ladderBlackSwanPct: number;
    readonly trailingBasis: 'roe' | 'price';
    readonly dailyLossLimitPct: number;
    readonly maxPositions: number;
    readonly maxExposurePerCoin: number;
    readonly maxExposureTotal: number;
    readonly killSwitch: boolean;
    readonly reversalEnabled: boolean;
    readonly reversalStopPct: number;
    readonly liquidationDataMaxAgeMs: number;
    readonly pretradeRefreshTimeoutMs: number;
    readonly entryTimeoutMs: number;
  };
  readonly bybitApiKey: string | undefined;
  readonly bybitApiSecret: string | undefined;
  readonly coinglassApiKey: string | undefined;
  readonly telegramBotToken: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

function readFileLayer(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError([`config file ${path}: must hold a JSON object`]);
  const problems: string[] = [];
  for (const key of Object.keys(parsed)) {
    if (!(CONFIG_KEYS as string[]).includes(key)) problems.push(`config file ${path}: unknown setting ${key}`);
    if ((SECRET_KEYS as string[]).includes(key)) problems.push(`config file ${path}: ${key} is a secret and is read from the environment only`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Validates `env` (plus the optional file); throws ConfigError listing every problem, one per line. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, filePath = env.WHALESTACK_CONFIG): Config {
  const fileLayer = filePath ? readFileLayer(filePath) : {};
  const merged: Record<string, unknown> = { ...fileLayer };
  for (const key of CONFIG_KEYS) {
    const v = env[key];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  const result = CONFIG_SCHEMA.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '?');
        const got = merged[key];
        const shown = (SECRET_KEYS as string[]).includes(key) ? '' : got === undefined ? ' (missing)' : ` (got ${JSON.stringify(got)})`;
        return `${key}: ${issue.message}${shown}`;
      }),
    );
  }
  const r = result.data;
  if (r.STOP_MIN_PCT > r.STOP_MAX_PCT) throw new ConfigError([`STOP_MIN_PCT: must be ≤ STOP_MAX_PCT (got ${r.STOP_MIN_PCT} > ${r.STOP_MAX_PCT})`]);
  return {
    bybitWsUrl: r.BYBIT_WS_URL,
    bybitRestUrl: r.BYBIT_REST_URL,
    httpPort: r.HTTP_PORT,
    httpHost: r.HTTP_HOST,
    databaseUrl: r.DATABASE_URL,
    redisUrl: r.REDIS_URL,
    redisKeyPrefix: r.REDIS_KEY_PREFIX,
    coinglassUrl: r.COINGLASS_URL,
    logLevel: r.LOG_LEVEL,
    dataDir: r.DATA_DIR,
    symbols: r.SYMBOLS?.split(','),
    discoveryIntervalMs: r.DISCOVERY_INTERVAL_MS,
    wsPingIntervalMs: r.WS_PING_INTERVAL_MS,
    wsPongTimeoutMs: r.WS_PONG_TIMEOUT_MS,
    wsStaleAfterMs: r.WS_STALE_AFTER_MS,
    windowHorizonSec: r.WINDOW_HORIZON_SEC,
    estimatorBootstrapDays: r.ESTIMATOR_BOOTSTRAP_DAYS,
    bybitRestRequestsPerSec: r.BYBIT_REST_REQUESTS_PER_SEC,
    spike: {
      price1mPct: r.SPIKE_PRICE_1M_PCT,
      price5mPct: r.SPIKE_PRICE_5M_PCT,
      oi15mPct: r.SPIKE_OI_15M_PCT,
      volumeRatio: r.SPIKE_VOLUME_RATIO,
      cooldownMs: r.SPIKE_COOLDOWN_MS,
    },
    ranking: { intervalMs: r.RANK_INTERVAL_MS, topN: r.RANK_TOP_N, armedK: r.RANK_ARMED_K },
    signalRangeWeights: parsePairs(r.SIGNAL_RANGE_WEIGHTS, (k) => (k === '2w' ? '14d' : k)),
    thresholdOverridesUsd: parsePairs(r.THRESHOLD_OVERRIDES_USD),
    successRatePrior: r.SUCCESS_RATE_PRIOR,
    triggerCooldownMs: r.TRIGGER_COOLDOWN_MS,
    estimatorLeverageTiers: Object.entries(parsePairs(r.ESTIMATOR_LEVERAGE_TIERS)).map(([leverage, weight]) => ({ leverage: Number(leverage), weight })),
    coinglassPlanRequestsPerMin: r.COINGLASS_PLAN_REQUESTS_PER_MIN,
    coinglassHeatmapModel: Number(r.COINGLASS_HEATMAP_MODEL) as 1 | 2 | 3,
    tapeRotateBytes: r.TAPE_ROTATE_MB * 1024 * 1024,
    tapeRotateMs: r.TAPE_ROTATE_MINUTES * 60_000,
    db: { batchRows: r.DB_BATCH_ROWS, flushIntervalMs: r.DB_FLUSH_INTERVAL_MS, maxBufferedRows: r.DB_MAX_BUFFERED_ROWS },
    timescale: {
      chunkInterval: r.TIMESCALE_CHUNK_INTERVAL,
      compressAfter: r.TIMESCALE_COMPRESS_AFTER,
      retentionSnapshots: r.TIMESCALE_RETENTION_SNAPSHOTS,
      retentionEvents: r.TIMESCALE_RETENTION_EVENTS,
      retentionBars: r.TIMESCALE_RETENTION_BARS,
    },
    trading: {
      mode: r.TRADING_MODE,
      paperInitialBalanceUsd: r.PAPER_INITIAL_BALANCE_USD,
      paperSlippagePct: r.PAPER_SLIPPAGE_PCT,
      paperTriggerBy: r.PAPER_TRIGGER_BY,
      riskPerTradePct: r.RISK_PER_TRADE_PCT,
      maxLeverage: r.MAX_LEVERAGE,
      entryStyle: r.ENTRY_STYLE,
      entryStyles: Object.fromEntries(
        r.ENTRY_STYLES === '' ? [] : r.ENTRY_STYLES.split(',').map((item) => item.split(':') as [string, 'conservative' | 'aggressive' | 'scaled']),
      ),
      targetCluster: r.TARGET_CLUSTER,
      stopMinPct: r.STOP_MIN_PCT,
      stopMaxPct: r.STOP_MAX_PCT,
      wickStopDefaultPct: r.WICK_STOP_DEFAULT_PCT,
      ladderRungs: r.LADDER_RUNGS,
      ladderSizeRatio: r.LADDER_SIZE_RATIO,
      ladderBeyondClusterPct: r.LADDER_BEYOND_CLUSTER_PCT,
      ladderBlackSwanPct: r.LADDER_BLACK_SWAN_PCT,
      trailingBasis: r.TRAILING_BASIS,
      dailyLossLimitPct: r.DAILY_LOSS_LIMIT_PCT,
      maxPositions: r.MAX_POSITIONS,
      maxExposurePerCoin: r.MAX_EXPOSURE_PER_COIN,
      maxExposureTotal: r.MAX_EXPOSURE_TOTAL,
      killSwitch: r.KILL_SWITCH === 'true',
      reversalEnabled: r.REVERSAL_ENABLED === 'true',
      reversalStopPct: r.REVERSAL_STOP_PCT,
      liquidationDataMaxAgeMs: r.LIQUIDATION_DATA_MAX_AGE_MS,
      pretradeRefreshTimeoutMs: r.PRETRADE_REFRESH_TIMEOUT_MS,
      entryTimeoutMs: r.ENTRY_TIMEOUT_MS,
    },
    bybitApiKey: r.BYBIT_API_KEY,
    bybitApiSecret: r.BYBIT_API_SECRET,
    coinglassApiKey: r.COINGLASS_API_KEY,
    telegramBotToken: r.TELEGRAM_BOT_TOKEN,
  };
}

function parsePairs(text: string, mapKey: (k: string) => string = (k) => k): Record<string, number> {
  const out: Record<string, number> = {};
  if (text === '') return out;
  for (const item of text.split(',')) {
    const [k, v] = item.split(':') as [string, string];
    out[mapKey(k)] = Number(v);
  }
  return out;
}
