import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { validateInterval } from '../sinks/db/migrator.js';
import { redactUrlsIn } from '../sinks/logger.js';
import { TRIGGER_PRESETS } from '../core/trigger.js';
import type { BroadcastSettings } from '../sinks/notify/broadcast-channels.js';
import { ALL_NOTIFICATION_KINDS, BROADCAST_SECRET_KEYS, broadcastSettings } from './broadcast-config.js';

/**
 * Configuration: environment variables, optionally under a JSON file named by WHALESTACK_CONFIG (or
 * `--config`). The file uses the same names as the environment; the environment wins. Secrets are accepted
 * from the environment only. Every bad value is reported on its own line before anything touches the network.
 */
/** Plain decimal notation only: `1e3`, `0x10`, ` 5`, `Infinity` and `` are refused rather than coerced. */
export const PLAIN_NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const plain = (inner: z.ZodNumber) =>
  z.preprocess((v, ctx) => {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && PLAIN_NUMBER_RE.test(v)) return Number(v);
    ctx.addIssue({ code: 'custom', input: v, message: 'must be a plain decimal number like 42 or 0.5 (no exponent, hex, "+", spaces or empty value)' });
    return z.NEVER;
  }, inner);
const int = (min: number, max: number) => plain(z.number().int(`must be an integer`).min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`));
/** A finite number in (min, max]; `min` exclusive because zero thresholds would fire on every tick. */
const above = (min: number, max: number) => plain(z.number().gt(min, `must be > ${min}`).lte(max, `must be ≤ ${max}`));
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try {
      return protocols.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
const optionalSecret = z.string().min(1, 'must not be empty when set').optional();
/** Comma-separated notification kinds (`signal,trade_closed`), each known, none twice. */
const notificationKinds = z.string().superRefine((s, ctx) => {
  const items = s.split(',');
  const bad = items.filter((k) => !(ALL_NOTIFICATION_KINDS as readonly string[]).includes(k));
  if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `unknown notification kind ${bad.map((k) => `'${k}'`).join(', ')}; known: ${ALL_NOTIFICATION_KINDS.join(', ')}` });
  else if (new Set(items).size !== items.length) ctx.addIssue({ code: 'custom', message: 'a notification kind is given twice' });
});
/** Telegram chat ids, comma-separated (groups are negative): `123456789,-1001234567890`. */
const chatIds = z.string().regex(/^(-?[1-9][0-9]{0,15}(,-?[1-9][0-9]{0,15})*)?$/, 'must be a comma-separated list of Telegram chat ids like 123456789,-1001234567890').default('');
const pgInterval = z.string().refine((v) => {
  try {
    validateInterval('setting', v);
    return true;
  } catch {
    return false;
  }
}, "must be a PostgreSQL interval like '7 days' or '12 hours'");
/**
 * `key:number,key:number` lists, e.g. `7d:1,14d:1,30d:1` or `BTC:100000000`: plain decimal values in
 * (`min`, `max`], no key twice (after `canon`, so `14d` and `2w` collide).
 */
const pairList = (keyRe: RegExp, what: string, range: { min: number; minInclusive?: boolean; max: number }, canon: (k: string) => string = (k) => k) =>
  z.string().superRefine((s, ctx) => {
    if (s === '') return;
    const seen = new Set<string>();
    for (const item of s.split(',')) {
      const [k, v, ...rest] = item.split(':');
      if (rest.length > 0 || k === undefined || !keyRe.test(k) || v === undefined || !PLAIN_NUMBER_RE.test(v)) {
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${what}:number with plain decimal numbers (bad item '${item}')` });
        return;
      }
      const n = Number(v);
      if (!((range.minInclusive ? n >= range.min : n > range.min) && n <= range.max)) {
        ctx.addIssue({ code: 'custom', message: `${what} ${k}: value must be ${range.minInclusive ? '≥' : '>'} ${range.min} and ≤ ${range.max} (got ${v})` });
        return;
      }
      if (seen.has(canon(k))) {
        ctx.addIssue({ code: 'custom', message: `${what} ${k} is given twice` });
        return;
      }
      seen.add(canon(k));
    }
  });

/**
 * Bybit's highest leverage on any linear perpetual (200×). The estimator also needs `1 / leverage` above its
 * maintenance margin rate (0.5 %), so a tier must be below 200× for its liquidation price to differ from the entry.
 */
export const MAX_EXCHANGE_LEVERAGE = 200;
/** Cluster-threshold overrides outside [$1k, $1T] are typos (a missing or extra group of zeros), not intent. */
const MIN_THRESHOLD_USD = 1_000;
const MAX_THRESHOLD_USD = 1e12;

/**
 * CoinGlass's published request limits per plan (requests per minute; reference/coinglass-v4.md). Enterprise is
 * not published; 1200 is the floor it gets. Heatmaps need Professional or Enterprise, so Professional is the
 * default; the server's `API-KEY-MAX-LIMIT` header replaces the figure as soon as it is seen.
 */
export const COINGLASS_PLAN_REQUESTS_PER_MIN = { hobbyist: 30, startup: 80, standard: 300, professional: 1200, enterprise: 1200 } as const;

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
  WS_MAX_FRAME_BYTES: int(65_536, 104_857_600).default(4_194_304),
  EVENT_TIME_MAX_AHEAD_MS: int(0, 86_400_000).default(5_000),
  EVENT_TIME_MAX_BEHIND_MS: int(1_000, 86_400_000).default(60_000),
  READY_LIVE_TOPIC_SHARE: plain(z.number().gt(0, 'must be > 0').lte(1, 'must be ≤ 1')).default(0.9),
  OUTAGE_REMINDER_MS: int(1000, 3_600_000).default(60_000),
  INSTRUMENTS_MAX_DROP_FRACTION: plain(z.number().gt(0, 'must be > 0').lte(1, 'must be ≤ 1')).default(0.33),
  INSTRUMENTS_SHRINK_CONFIRMATIONS: int(1, 100).default(3),
  INSTRUMENTS_RETRY_MS: int(1000, 3_600_000).default(30_000),
  WINDOW_HORIZON_SEC: int(3600, 86_400).default(3600),
  ESTIMATOR_BOOTSTRAP_DAYS: int(0, 30).default(7),
  BYBIT_REST_REQUESTS_PER_SEC: int(1, 100).default(20),
  HISTORY_UPDATE_MINUTES: int(0, 1440).default(15),
  HISTORY_DAYS: int(0, 3650).default(365),
  HISTORY_MINUTE_DAYS: int(0, 365).default(30),
  HISTORY_OI_MAX_PAGES: int(0, 1_000_000).default(500),
  SPIKE_PRICE_1M_PCT: above(0, 100).default(2),
  SPIKE_PRICE_5M_PCT: above(0, 100).default(5),
  SPIKE_OI_15M_PCT: above(0, 1000).default(3),
  SPIKE_VOLUME_RATIO: above(1, 1000).default(1.5),
  SPIKE_COOLDOWN_MS: int(0, 86_400_000).default(300_000),
  RANK_INTERVAL_MS: int(10_000, 3_600_000).default(300_000),
  RANK_TOP_N: int(1, 1000).default(10),
  RANK_ARMED_K: int(0, 100).default(3),
  SIGNAL_RANGE_WEIGHTS: pairList(/^(12h|24h|3d|7d|14d|2w|30d|90d|180d|1y)$/, 'range', { min: 0, max: 1000 }, (k) => (k === '2w' ? '14d' : k)).default('7d:1,14d:1,30d:1'),
  THRESHOLD_OVERRIDES_USD: pairList(/^[A-Z0-9]+$/, 'COIN', { min: MIN_THRESHOLD_USD, minInclusive: true, max: MAX_THRESHOLD_USD }).default(''),
  THRESHOLD_LEARNED_MODE: z.enum(['max', 'replace']).default('max'),
  SUCCESS_RATE_PRIOR: plain(z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]')).default(0.5),
  TRIGGER_COOLDOWN_MS: int(0, 86_400_000).default(900_000),
  TRIGGER_PRESET: z.enum(['blueprint', 'strict']).default('blueprint'),
  TRIGGER_OI_15M_PCT: above(0, 100).optional(),
  TRIGGER_VOLUME_RATIO: above(0, 100).optional(),
  TRIGGER_PRICE_5M_PCT: above(0, 100).optional(),
  IMBALANCE_LONG_ABOVE: plain(z.number().min(0.5, 'must be in [0.5, 1]').max(1, 'must be in [0.5, 1]')).default(0.65),
  IMBALANCE_SHORT_BELOW: plain(z.number().min(0, 'must be in [0, 0.5]').max(0.5, 'must be in [0, 0.5]')).default(0.35),
  IMBALANCE_MODE: z.enum(['sum', 'mean']).default('sum'),
  CLUSTER_HIT_WINDOW_DAYS: int(1, 365).default(30),
  RELIABLE_RANGE_MIN_HIT_RATE: plain(z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]')).default(0.75),
  RELIABLE_RANGE_MIN_OUTCOMES: int(1, 1_000_000).default(10),
  RANGE_WEIGHTS: z.enum(['static', 'learned']).default('static'),
  WICK_STATS_DAYS: int(1, 3650).default(365),
  WICK_STATS_MIN_DAYS: int(1, 3650).default(30),
  WICK_STOP_TIMEFRAME: z.enum(['1h', '4h', '1d']).default('1d'),
  WICK_EXCURSION_HOURS: int(1, 720).default(24),
  WICK_STATS_REFRESH_MINUTES: int(1, 1440).default(60),
  ESTIMATOR_MAX_COHORTS: int(16, 65_536).default(2048),
  ESTIMATOR_LEVERAGE_TIERS: pairList(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'leverage', { min: 0, max: 1 }, (k) => String(Number(k))).default('5:0.3,10:0.3,25:0.2,50:0.15,100:0.05'),
  COINGLASS_PLAN: z.enum(['hobbyist', 'startup', 'standard', 'professional', 'enterprise']).default('professional'),
  COINGLASS_PLAN_REQUESTS_PER_MIN: int(1, 100_000).optional(),
  COINGLASS_HEATMAP_MODEL: z.enum(['1', '2', '3']).default('2'),
  DB_BATCH_ROWS: int(1, 100_000).default(2000),
  DB_FLUSH_INTERVAL_MS: int(10, 600_000).default(1000),
  DB_MAX_BUFFERED_ROWS: int(100, 10_000_000).default(50_000),
  TIMESCALEDB: z.enum(['auto', 'off']).default('auto'),
  PGLITE_SHARED_BUFFERS_MB: int(1, 1024).default(8),
  TIMESCALE_CHUNK_INTERVAL: pgInterval.default('1 day'),
  TIMESCALE_COMPRESS_AFTER: pgInterval.default('7 days'),
  TIMESCALE_RETENTION_SNAPSHOTS: pgInterval.default('90 days'),
  TIMESCALE_RETENTION_EVENTS: pgInterval.default('180 days'),
  TIMESCALE_RETENTION_BARS: pgInterval.default('730 days'),
  TAPE_ROTATE_MB: int(1, 65_536).default(256),
  TAPE_ROTATE_MINUTES: int(1, 1440).default(60),
  TRADING_MODE: z.enum(['paper', 'testnet', 'demo', 'live', 'off'], 'must be paper, testnet, demo, live or off').default('paper'),
  LIVE_TRADING_CONFIRM: z.string().optional(),
  BYBIT_PRIVATE_WS_URL: url(['ws:', 'wss:']).optional(),
  BYBIT_RECV_WINDOW_MS: int(1000, 60_000).default(5000),
  BYBIT_REQUEST_TIMEOUT_MS: int(500, 60_000).default(3000),
  BYBIT_CANCEL_UNKNOWN_ORDERS: z.enum(['true', 'false'], 'must be true or false').default('false'),
  BYBIT_EMERGENCY_STOP_PCT: plain(z.number().min(0.5, 'must be in [0.5, 50]').max(50, 'must be in [0.5, 50]')).default(5),
  PAPER_INITIAL_BALANCE_USD: above(0, 1e12).default(10_000),
  PAPER_SLIPPAGE_PCT: plain(z.number().min(0, 'must be ≥ 0').max(5, 'must be ≤ 5')).default(0.05),
  PAPER_TRIGGER_BY: z.enum(['last', 'mark']).default('last'),
  RISK_PER_TRADE_PCT: plain(z.number().gt(0, 'must be > 0').max(10, 'must be ≤ 10')).default(1),
  MAX_LEVERAGE: int(1, 125).default(10),
  ENTRY_STYLE: z.enum(['conservative', 'aggressive', 'scaled']).default('conservative'),
  ENTRY_STYLES: z.string().regex(/^([A-Z0-9]+:(conservative|aggressive|scaled)(,[A-Z0-9]+:(conservative|aggressive|scaled))*)?$/, 'must be a comma-separated list of COIN:conservative|aggressive|scaled').default(''),
  TARGET_CLUSTER: z.enum(['first', 'largest']).default('first'),
  STOP_MIN_PCT: plain(z.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50')).default(5),
  STOP_MAX_PCT: plain(z.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50')).default(10),
  WICK_STOP_DEFAULT_PCT: plain(z.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50')).default(8),
  LADDER_RUNGS: int(2, 20).default(10),
  LADDER_SIZE_RATIO: plain(z.number().min(1, 'must be ≥ 1').max(5, 'must be ≤ 5')).default(2),
  LADDER_BEYOND_CLUSTER_PCT: plain(z.number().min(0, 'must be ≥ 0').max(20, 'must be ≤ 20')).default(2),
  LADDER_BLACK_SWAN_PCT: plain(z.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50')).default(5),
  TRAILING_BASIS: z.enum(['roe', 'price']).default('roe'),
  DAILY_LOSS_LIMIT_PCT: plain(z.number().gt(0, 'must be > 0').max(100, 'must be ≤ 100')).default(3),
  MAX_POSITIONS: int(1, 100).default(3),
  MAX_EXPOSURE_PER_COIN: above(0, 100).default(2),
  MAX_EXPOSURE_TOTAL: above(0, 100).default(5),
  KILL_SWITCH: z.enum(['true', 'false']).default('false'),
  REVERSAL_ENABLED: z.enum(['true', 'false']).default('true'),
  REVERSAL_STOP_PCT: plain(z.number().gt(0, 'must be > 0').max(50, 'must be ≤ 50')).default(10),
  LIQUIDATION_DATA_MAX_AGE_MS: int(10_000, 3_600_000).default(300_000),
  PRETRADE_REFRESH_TIMEOUT_MS: int(1000, 600_000).default(30_000),
  ENTRY_TIMEOUT_MS: int(60_000, 7 * 86_400_000).default(6 * 3_600_000),
  BYBIT_API_KEY: optionalSecret,
  BYBIT_API_SECRET: optionalSecret,
  COINGLASS_API_KEY: optionalSecret,
  TELEGRAM_BOT_TOKEN: optionalSecret,
  // Broadcasts (email, X, SMS): each channel is off unless configured; see broadcast-config.ts.
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: int(1, 65535).optional(),
  SMTP_SECURE: z.enum(['true', 'false'], 'must be true or false').optional(),
  SMTP_USER: optionalSecret,
  SMTP_PASS: optionalSecret,
  EMAIL_FROM: z.string().min(3).optional(),
  EMAIL_TO: z.string().regex(/^[^\s,]+@[^\s,]+(,[^\s,]+@[^\s,]+)*$/, 'must be a comma-separated list of email addresses').optional(),
  EMAIL_KINDS: notificationKinds.default(ALL_NOTIFICATION_KINDS.join(',')),
  X_APP_KEY: optionalSecret,
  X_APP_SECRET: optionalSecret,
  X_ACCESS_TOKEN: optionalSecret,
  X_ACCESS_SECRET: optionalSecret,
  X_API_URL: url(['http:', 'https:']).default('https://api.x.com'),
  X_KINDS: notificationKinds.default('signal,trade_closed'),
  TWILIO_ACCOUNT_SID: optionalSecret,
  TWILIO_AUTH_TOKEN: optionalSecret,
  TWILIO_FROM: z.string().regex(/^(\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32}|[A-Za-z0-9 ]{1,11})$/, 'must be an E.164 number like +15005550006, a Messaging Service SID or an alphanumeric sender id').optional(),
  TWILIO_TO: z.string().regex(/^\+[1-9][0-9]{6,14}(,\+[1-9][0-9]{6,14})*$/, 'must be a comma-separated list of E.164 numbers like +15005550006').optional(),
  TWILIO_API_URL: url(['http:', 'https:']).default('https://api.twilio.com'),
  SMS_KINDS: notificationKinds.default('risk_state,trade_closed'),
  BROADCAST_QUEUE_CAPACITY: int(1, 1_000_000).default(1000),
  BROADCAST_RETRY_BASE_MS: int(10, 3_600_000).default(2000),
  BROADCAST_RETRY_MAX_MS: int(10, 86_400_000).default(300_000),
  BROADCAST_MAX_ATTEMPTS: int(1, 1000).default(8),
  BROADCAST_TIMEOUT_MS: int(100, 600_000).default(15_000),
  TELEGRAM_API_URL: url(['https:', 'http:']).default('https://api.telegram.org'),
  TELEGRAM_ALERT_CHAT_IDS: chatIds,
  TELEGRAM_ALLOWED_CHAT_IDS: chatIds,
  TELEGRAM_CONFIRM_SECONDS: int(5, 3600).default(60),
  TELEGRAM_WEBHOOK_URL: url(['https:', 'http:']).optional(),
  TELEGRAM_WEBHOOK_SECRET: z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -').optional(),
  ALERT_OUTAGE_AFTER_SECONDS: int(1, 86_400).default(120),
  ALERT_DAILY_SUMMARY_HOUR_UTC: int(0, 23).default(0),
  ALERT_GROUP_WINDOW_MS: int(0, 60_000).default(2000),
  ALERT_QUEUE_CAPACITY: int(10, 100_000).default(1000),
});

export type RawConfig = z.infer<typeof CONFIG_SCHEMA>;
/** Settings that must come from the environment even though they are not secrets: arming real-money trading. */
const ENV_ONLY_KEYS: readonly string[] = ['LIVE_TRADING_CONFIRM', 'TRADING_MODE'];
export const LIVE_TRADING_CONFIRMATION = 'I_ACCEPT_REAL_LOSSES';

/** Bybit private endpoints per trading mode (reference §1.1, §3.0). Demo's public data is mainnet's. */
export const BYBIT_PRIVATE_ENDPOINTS = {
  testnet: { restUrl: 'https://api-testnet.bybit.com', wsUrl: 'wss://stream-testnet.bybit.com/v5/private' },
  demo: { restUrl: 'https://api-demo.bybit.com', wsUrl: 'wss://stream-demo.bybit.com/v5/private' },
  live: { restUrl: 'https://api.bybit.com', wsUrl: 'wss://stream.bybit.com/v5/private' },
} as const;

/** How the execution actor plans, sizes and guards trades (percent settings are percent: 1 = 1 %). */
export interface ExecutionTradingSettings {
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
}

/** Where and how the daemon trades; `bybit` is undefined in paper and off modes. */
export interface TradingConfig extends ExecutionTradingSettings {
  readonly mode: RawConfig['TRADING_MODE'];
  readonly bybit:
    | {
        readonly restUrl: string;
        readonly privateWsUrl: string;
        readonly recvWindowMs: number;
        readonly requestTimeoutMs: number;
        readonly cancelUnknownOrders: boolean;
        readonly emergencyStopPct: number;
      }
    | undefined;
}
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA.shape) as (keyof RawConfig)[];
export const SECRET_KEYS: readonly (keyof RawConfig)[] = ['BYBIT_API_KEY', 'BYBIT_API_SECRET', 'COINGLASS_API_KEY', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', ...BROADCAST_SECRET_KEYS];

/** The validated configuration with camel-case names, as the rest of the program sees it. */
/** Cluster hit rates, reliable ranges and wick statistics (README "Wick statistics and reliable ranges"). */
export interface HistoryStatsSettings {
  readonly clusterHitWindowMs: number;
  readonly reliableMinHitRate: number;
  readonly reliableMinOutcomes: number;
  readonly rangeWeights: RawConfig['RANGE_WEIGHTS'];
  /** History read for the wick statistics. */
  readonly wickStatsDays: number;
  /** Hourly bars needed (days × 24) before the wick stop uses the coin's own wicks. */
  readonly wickStatsMinDays: number;
  readonly wickStopTimeframe: RawConfig['WICK_STOP_TIMEFRAME'];
  readonly wickExcursionHours: number;
  readonly wickStatsRefreshMs: number;
}

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
  /** Largest WebSocket message accepted; a bigger one closes that connection (counted) and it reconnects. */
  readonly wsMaxFrameBytes: number;
  /** Event times outside this band around receipt time are refused by the decoder. */
  readonly eventTimeBand: { readonly maxAheadMs: number; readonly maxBehindMs: number };
  /** /readyz needs at least this share of subscribed ticker topics to have sent a frame within wsStaleAfterMs. */
  readonly readyLiveTopicShare: number;
  /** How often an ongoing outage (Bybit, CoinGlass) is logged again with its retry count. */
  readonly outageReminderMs: number;
  readonly instruments: { readonly maxDropFraction: number; readonly shrinkConfirmations: number; readonly retryMs: number };
  readonly windowHorizonSec: number;
  readonly estimatorBootstrapDays: number;
  readonly bybitRestRequestsPerSec: number;
  /**
   * Bybit REST history (`whalestack backfill`, and `run` every `updateMinutes`, 0 = off): hourly klines for
   * `hourDays`, minute klines for `minuteDays`, open interest back to the listing in at most `oiMaxPages`
   * requests per series and run (0 = none).
   */
  readonly history: { readonly updateMinutes: number; readonly hourDays: number; readonly minuteDays: number; readonly oiMaxPages: number };
  readonly spike: { readonly price1mPct: number; readonly price5mPct: number; readonly oi15mPct: number; readonly volumeRatio: number; readonly cooldownMs: number };
  readonly ranking: { readonly intervalMs: number; readonly topN: number; readonly armedK: number };
  readonly signalRangeWeights: Readonly<Record<string, number>>;
  readonly thresholdOverridesUsd: Readonly<Record<string, number>>;
  readonly thresholdLearnedMode: RawConfig['THRESHOLD_LEARNED_MODE'];
  readonly successRatePrior: number;
  readonly triggerCooldownMs: number;
  /** Trigger thresholds: the preset's, each replaced by its own setting when given. */
  readonly trigger: { readonly preset: RawConfig['TRIGGER_PRESET']; readonly oiChangePct15mMin: number; readonly volumeRatio5mMin: number; readonly priceChangePct5mMin: number };
  readonly imbalanceBands: { readonly longAbove: number; readonly shortBelow: number };
  readonly imbalanceMode: RawConfig['IMBALANCE_MODE'];
  /** Cluster outcomes and wick statistics from the history held (issue 12). */
  readonly historyStats: HistoryStatsSettings;
  readonly estimatorMaxCohorts: number;
  readonly estimatorLeverageTiers: readonly { readonly leverage: number; readonly weight: number }[];
  readonly coinglassPlan: RawConfig['COINGLASS_PLAN'];
  /** The plan's request budget per minute (COINGLASS_PLAN_REQUESTS_PER_MIN, else the plan's published limit). */
  readonly coinglassPlanRequestsPerMin: number;
  readonly coinglassHeatmapModel: 1 | 2 | 3;
  readonly tapeRotateBytes: number;
  readonly tapeRotateMs: number;
  readonly db: { readonly batchRows: number; readonly flushIntervalMs: number; readonly maxBufferedRows: number };
  /** `auto`: use TimescaleDB features when the server has the extension; `off`: plain PostgreSQL tables only. */
  readonly timescaledb: 'auto' | 'off';
  /** `shared_buffers` of the embedded PGlite store, MB (resident for the process's life: WASM memory never shrinks). */
  readonly pgliteSharedBuffersMb: number;
  readonly timescale: {
    readonly chunkInterval: string;
    readonly compressAfter: string;
    readonly retentionSnapshots: string;
    readonly retentionEvents: string;
    readonly retentionBars: string;
  };
  readonly bybitApiKey: string | undefined;
  readonly bybitApiSecret: string | undefined;
  readonly coinglassApiKey: string | undefined;
  readonly telegramBotToken: string | undefined;
  readonly telegram: {
    readonly apiUrl: string;
    readonly alertChatIds: readonly number[];
    readonly allowedChatIds: readonly number[];
    readonly confirmTtlMs: number;
    /** Webhook mode when set (with its secret token); long polling otherwise. */
    readonly webhook: { readonly url: string; readonly secretToken: string } | undefined;
  };
  /** The notifier hub: outage threshold, daily summary hour, burst window, queue bound per channel. */
  readonly alerts: { readonly outageAfterMs: number; readonly dailySummaryHourUtc: number; readonly groupWindowMs: number; readonly queueCapacity: number };
  readonly trading: TradingConfig;
  /** Email, X and SMS channels (each undefined when off) and their queue. */
  readonly broadcasts: BroadcastSettings;
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
    if (ENV_ONLY_KEYS.includes(key)) problems.push(`config file ${path}: ${key} arms real trading and is read from the environment only`);
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
    // An empty optional setting (a secret, DATABASE_URL, …) means unset, as docker-compose's `${X:-}` writes it;
    // an empty setting with a default is a mistake (`HTTP_PORT=`), refused rather than silently defaulted.
    if (v !== undefined && (v !== '' || !(CONFIG_SCHEMA.shape[key] instanceof z.ZodOptional))) merged[key] = v;
  }
  const show = (key: string, issue: string) => {
    const got = merged[key];
    const shown = (SECRET_KEYS as string[]).includes(key) ? '' : got === undefined ? ' (missing)' : ` (got ${JSON.stringify(redactUrlsIn(String(got)))})`;
    return `${key}: ${issue}${shown}`;
  };
  const result = CONFIG_SCHEMA.safeParse(merged);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => show(String(issue.path[0] ?? '?'), issue.message)));
  const r = result.data;
  const crossProblems = crossCheck(r).map(([key, issue]) => show(key, issue));
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  const { settings: broadcasts, problems: broadcastProblems } = broadcastSettings(r);
  if (broadcastProblems.length > 0) throw new ConfigError(broadcastProblems);
  const trading: TradingConfig = {
    ...tradingConfig(r, merged),
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
  };
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
    wsMaxFrameBytes: r.WS_MAX_FRAME_BYTES,
    eventTimeBand: { maxAheadMs: r.EVENT_TIME_MAX_AHEAD_MS, maxBehindMs: r.EVENT_TIME_MAX_BEHIND_MS },
    readyLiveTopicShare: r.READY_LIVE_TOPIC_SHARE,
    outageReminderMs: r.OUTAGE_REMINDER_MS,
    instruments: { maxDropFraction: r.INSTRUMENTS_MAX_DROP_FRACTION, shrinkConfirmations: r.INSTRUMENTS_SHRINK_CONFIRMATIONS, retryMs: r.INSTRUMENTS_RETRY_MS },
    windowHorizonSec: r.WINDOW_HORIZON_SEC,
    estimatorBootstrapDays: r.ESTIMATOR_BOOTSTRAP_DAYS,
    bybitRestRequestsPerSec: r.BYBIT_REST_REQUESTS_PER_SEC,
    history: { updateMinutes: r.HISTORY_UPDATE_MINUTES, hourDays: r.HISTORY_DAYS, minuteDays: r.HISTORY_MINUTE_DAYS, oiMaxPages: r.HISTORY_OI_MAX_PAGES },
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
    thresholdLearnedMode: r.THRESHOLD_LEARNED_MODE,
    successRatePrior: r.SUCCESS_RATE_PRIOR,
    triggerCooldownMs: r.TRIGGER_COOLDOWN_MS,
    trigger: {
      preset: r.TRIGGER_PRESET,
      oiChangePct15mMin: r.TRIGGER_OI_15M_PCT ?? TRIGGER_PRESETS[r.TRIGGER_PRESET].oiChangePct15mMin,
      volumeRatio5mMin: r.TRIGGER_VOLUME_RATIO ?? TRIGGER_PRESETS[r.TRIGGER_PRESET].volumeRatio5mMin,
      priceChangePct5mMin: r.TRIGGER_PRICE_5M_PCT ?? TRIGGER_PRESETS[r.TRIGGER_PRESET].priceChangePct5mMin,
    },
    imbalanceBands: { longAbove: r.IMBALANCE_LONG_ABOVE, shortBelow: r.IMBALANCE_SHORT_BELOW },
    imbalanceMode: r.IMBALANCE_MODE,
    historyStats: {
      clusterHitWindowMs: r.CLUSTER_HIT_WINDOW_DAYS * 86_400_000,
      reliableMinHitRate: r.RELIABLE_RANGE_MIN_HIT_RATE,
      reliableMinOutcomes: r.RELIABLE_RANGE_MIN_OUTCOMES,
      rangeWeights: r.RANGE_WEIGHTS,
      wickStatsDays: r.WICK_STATS_DAYS,
      wickStatsMinDays: r.WICK_STATS_MIN_DAYS,
      wickStopTimeframe: r.WICK_STOP_TIMEFRAME,
      wickExcursionHours: r.WICK_EXCURSION_HOURS,
      wickStatsRefreshMs: r.WICK_STATS_REFRESH_MINUTES * 60_000,
    },
    estimatorMaxCohorts: r.ESTIMATOR_MAX_COHORTS,
    estimatorLeverageTiers: Object.entries(parsePairs(r.ESTIMATOR_LEVERAGE_TIERS)).map(([leverage, weight]) => ({ leverage: Number(leverage), weight })),
    coinglassPlan: r.COINGLASS_PLAN,
    coinglassPlanRequestsPerMin: r.COINGLASS_PLAN_REQUESTS_PER_MIN ?? COINGLASS_PLAN_REQUESTS_PER_MIN[r.COINGLASS_PLAN],
    coinglassHeatmapModel: Number(r.COINGLASS_HEATMAP_MODEL) as 1 | 2 | 3,
    tapeRotateBytes: r.TAPE_ROTATE_MB * 1024 * 1024,
    tapeRotateMs: r.TAPE_ROTATE_MINUTES * 60_000,
    db: { batchRows: r.DB_BATCH_ROWS, flushIntervalMs: r.DB_FLUSH_INTERVAL_MS, maxBufferedRows: r.DB_MAX_BUFFERED_ROWS },
    timescaledb: r.TIMESCALEDB,
    pgliteSharedBuffersMb: r.PGLITE_SHARED_BUFFERS_MB,
    timescale: {
      chunkInterval: r.TIMESCALE_CHUNK_INTERVAL,
      compressAfter: r.TIMESCALE_COMPRESS_AFTER,
      retentionSnapshots: r.TIMESCALE_RETENTION_SNAPSHOTS,
      retentionEvents: r.TIMESCALE_RETENTION_EVENTS,
      retentionBars: r.TIMESCALE_RETENTION_BARS,
    },
    bybitApiKey: r.BYBIT_API_KEY,
    bybitApiSecret: r.BYBIT_API_SECRET,
    coinglassApiKey: r.COINGLASS_API_KEY,
    telegramBotToken: r.TELEGRAM_BOT_TOKEN,
    telegram: {
      apiUrl: r.TELEGRAM_API_URL.replace(/\/+$/, ''),
      alertChatIds: r.TELEGRAM_ALERT_CHAT_IDS === '' ? [] : r.TELEGRAM_ALERT_CHAT_IDS.split(',').map(Number),
      allowedChatIds: r.TELEGRAM_ALLOWED_CHAT_IDS === '' ? [] : r.TELEGRAM_ALLOWED_CHAT_IDS.split(',').map(Number),
      confirmTtlMs: r.TELEGRAM_CONFIRM_SECONDS * 1000,
      webhook: r.TELEGRAM_WEBHOOK_URL === undefined || r.TELEGRAM_WEBHOOK_SECRET === undefined ? undefined : { url: r.TELEGRAM_WEBHOOK_URL, secretToken: r.TELEGRAM_WEBHOOK_SECRET },
    },
    alerts: { outageAfterMs: r.ALERT_OUTAGE_AFTER_SECONDS * 1000, dailySummaryHourUtc: r.ALERT_DAILY_SUMMARY_HOUR_UTC, groupWindowMs: r.ALERT_GROUP_WINDOW_MS, queueCapacity: r.ALERT_QUEUE_CAPACITY },
    trading,
    broadcasts,
  };
}

const MAINNET_PRIVATE = /^(https:\/\/api\.bybit\.com|https:\/\/api\.bytick\.com|wss:\/\/stream\.bybit\.com)(\/|$)/;

/**
 * Trading mode and Bybit private endpoints. Refuses, one line each: live without the confirmation, a
 * non-paper mode without keys, and a testnet/demo mode whose endpoints point at mainnet (real money by mistake).
 * Private REST uses BYBIT_REST_URL when it is set, else the mode's host; the public default stays mainnet.
 */
function tradingConfig(r: RawConfig, given: Readonly<Record<string, unknown>>): Pick<TradingConfig, 'mode' | 'bybit'> {
  const mode = r.TRADING_MODE;
  if (mode === 'paper' || mode === 'off') return { mode, bybit: undefined };
  const problems: string[] = [];
  if (mode === 'live' && r.LIVE_TRADING_CONFIRM !== LIVE_TRADING_CONFIRMATION) {
    problems.push(`TRADING_MODE=live trades real money on Bybit mainnet: set LIVE_TRADING_CONFIRM=${LIVE_TRADING_CONFIRMATION} to confirm`);
  }
  if (r.BYBIT_API_KEY === undefined) problems.push(`TRADING_MODE=${mode} needs BYBIT_API_KEY in the environment (a ${mode} key)`);
  if (r.BYBIT_API_SECRET === undefined) problems.push(`TRADING_MODE=${mode} needs BYBIT_API_SECRET in the environment`);
  const restSet = given.BYBIT_REST_URL !== undefined;
  const restUrl = restSet ? r.BYBIT_REST_URL : BYBIT_PRIVATE_ENDPOINTS[mode].restUrl;
  const privateWsUrl = r.BYBIT_PRIVATE_WS_URL ?? BYBIT_PRIVATE_ENDPOINTS[mode].wsUrl;
  if (mode !== 'live') {
    if (MAINNET_PRIVATE.test(restUrl)) problems.push(`TRADING_MODE=${mode} but BYBIT_REST_URL is mainnet (${restUrl}); unset it or use the ${mode} host`);
    if (MAINNET_PRIVATE.test(privateWsUrl)) problems.push(`TRADING_MODE=${mode} but BYBIT_PRIVATE_WS_URL is mainnet (${privateWsUrl})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    mode,
    bybit: {
      restUrl, privateWsUrl, recvWindowMs: r.BYBIT_RECV_WINDOW_MS, requestTimeoutMs: r.BYBIT_REQUEST_TIMEOUT_MS,
      cancelUnknownOrders: r.BYBIT_CANCEL_UNKNOWN_ORDERS === 'true', emergencyStopPct: r.BYBIT_EMERGENCY_STOP_PCT,
    },
  };
}

/**
 * Checks that need more than one setting, or the meaning of a list. A value that passes here cannot crash the
 * engine later: the estimator's own constructor checks are restated so the daemon refuses at start instead of
 * faulting on the first frame.
 */
function crossCheck(r: RawConfig): [keyof RawConfig, string][] {
  const out: [keyof RawConfig, string][] = [];
  const tiers = parsePairs(r.ESTIMATOR_LEVERAGE_TIERS);
  const leverages = Object.keys(tiers).map(Number);
  if (leverages.length === 0) out.push(['ESTIMATOR_LEVERAGE_TIERS', 'needs at least one leverage:weight tier']);
  const badLeverage = leverages.filter((l) => !(l >= 1 && l < MAX_EXCHANGE_LEVERAGE));
  if (badLeverage.length > 0)
    out.push(['ESTIMATOR_LEVERAGE_TIERS', `leverage must be ≥ 1 and below Bybit's maximum of ${MAX_EXCHANGE_LEVERAGE}× (bad: ${badLeverage.join(', ')})`]);
  const weightSum = Object.values(tiers).reduce((a, b) => a + b, 0);
  if (leverages.length > 0 && Math.abs(weightSum - 1) > 1e-6) out.push(['ESTIMATOR_LEVERAGE_TIERS', `weights must sum to 1 (they sum to ${Number(weightSum.toFixed(9))})`]);
  if (r.SIGNAL_RANGE_WEIGHTS === '') out.push(['SIGNAL_RANGE_WEIGHTS', 'needs at least one range:weight']);
  if (r.RANK_ARMED_K > r.RANK_TOP_N) out.push(['RANK_ARMED_K', `must be ≤ RANK_TOP_N (${r.RANK_TOP_N})`]);
  // The next ping re-arms the pong timer: a longer timeout would never fire on a dead socket.
  if (r.WS_PONG_TIMEOUT_MS > r.WS_PING_INTERVAL_MS) out.push(['WS_PONG_TIMEOUT_MS', `must be ≤ WS_PING_INTERVAL_MS (${r.WS_PING_INTERVAL_MS})`]);
  if (r.STOP_MIN_PCT > r.STOP_MAX_PCT) out.push(['STOP_MIN_PCT', `must be ≤ STOP_MAX_PCT (${r.STOP_MAX_PCT})`]);
  // Without the secret anyone who learns the URL could post fake commands from an allow-listed chat id.
  if (r.TELEGRAM_WEBHOOK_URL !== undefined && r.TELEGRAM_WEBHOOK_SECRET === undefined) out.push(['TELEGRAM_WEBHOOK_URL', 'needs TELEGRAM_WEBHOOK_SECRET in the environment (Telegram sends it back in X-Telegram-Bot-Api-Secret-Token)']);
  return out;
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
