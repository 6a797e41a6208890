import pino, { type Logger } from 'pino';

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

/** Structured logger with secrets redacted; `destination` lets tests capture the output. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'whalestack' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

/** Removes user:password from a connection URL so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

export type { Logger };
