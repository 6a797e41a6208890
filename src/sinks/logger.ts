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

/** Query parameters whose values are credentials in the wild (`?token=`, `?api_key=`, signed requests). */
const SECRET_PARAM_RE = /^(.*key.*|.*token.*|.*secret.*|.*passw.*|sig|signature|auth.*|credential.*)$/i;

/**
 * Removes credentials from a URL so it can be logged, written to a tape header or shown in an error: the
 * user and password (either may be a token) and secret-looking query parameters become `redacted`.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username) u.username = 'redacted';
    if (u.password) u.password = 'redacted';
    for (const key of [...u.searchParams.keys()]) if (SECRET_PARAM_RE.test(key)) u.searchParams.set(key, 'redacted');
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

/** `scheme://…` runs inside free text (error messages, frames); stops at whitespace and quoting characters. */
const URL_IN_TEXT_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** Applies `redactUrl` to every URL-shaped run inside `text` that carries credentials; other text is kept. */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT_RE, (m) => {
    if (!m.includes('@') && !/[?&][^=]*(key|token|secret|passw|sig|auth|credential)[^=]*=/i.test(m)) return m;
    const r = redactUrl(m);
    // Unparseable but credential-shaped: drop everything between the scheme and the host.
    return r === '[unparseable url]' ? m.replace(/:\/\/[^@/]*@/, '://redacted@') : r;
  });
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
