import pino, { type Logger } from 'pino';
import { redactUrl, redactUrlsIn } from '../core/redact-url.js';

export { redactUrl, redactUrlsIn };

/**
 * Paths pino blanks in every log line. Secrets come from the environment only; this is the second fence in
 * case a config object or an HTTP error body carrying a header is ever logged whole.
 */
export const REDACT_PATHS = [
  'config.bybitApiKey',
  'config.bybitApiSecret',
  'config.coinglassApiKey',
  'config.telegramBotToken',
  'config.databaseUrl',
  'config.redisUrl',
  'config.broadcasts.email.user',
  'config.broadcasts.email.pass',
  'config.broadcasts.x.appKey',
  'config.broadcasts.x.appSecret',
  'config.broadcasts.x.accessToken',
  'config.broadcasts.x.accessSecret',
  'config.broadcasts.sms.accountSid',
  'config.broadcasts.sms.authToken',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.token',
  '*.password',
  'headers["CG-API-KEY"]',
  'headers["X-BAPI-API-KEY"]',
  'headers["X-BAPI-SIGN"]',
  '*.headers["CG-API-KEY"]',
  '*.headers["X-BAPI-API-KEY"]',
  '*.headers["X-BAPI-SIGN"]',
];

/**
 * Structured logger with secrets redacted; `destination` lets tests capture the output (default stdout; CLI
 * commands pass stderr so their summaries on stdout stay clean). Besides the named paths, every string value
 * and the message itself go through `redactUrlsIn`, so a URL with credentials is caught wherever it lands
 * (an error message from `ws` or `fetch` quoting the URL, a config echoed whole).
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'whalestack' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (obj) => redactDeep(obj, 0) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) => (typeof a === 'string' ? redactUrlsIn(a) : a)) as Parameters<typeof method>;
          method.apply(this, redacted);
        },
      },
    },
    destination,
  );
}

/**
 * Logger for one-shot CLI commands (replay, migrate, simulate, record): JSON lines on stderr, written
 * synchronously, so a command's summary on stdout stays machine-readable and no line is lost at exit.
 */
export function createCliLogger(level: string): Logger {
  return createLogger(level, pino.destination({ fd: 2, sync: true }));
}

function redactDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrlsIn(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: redactUrlsIn(value.message), stack: value.stack === undefined ? undefined : redactUrlsIn(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

export type { Logger };
