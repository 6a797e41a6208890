/**
 * Credential redaction for URLs, shared by every edge that shows a URL (logs, tape headers, errors, source
 * events). Pure string work, so streams and sinks both use it; pino additionally runs `redactUrlsIn` over every
 * logged string (see sinks/logger.ts).
 */

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

const BOT_TOKEN_RE = /\d{5,}:[A-Za-z0-9_-]{30,}/;
const BOT_TOKEN_RE_G = new RegExp(BOT_TOKEN_RE.source, 'g');

/** Applies `redactUrl` to every URL-shaped run inside `text` that carries credentials, and blanks bot tokens; other text is kept. */
export function redactUrlsIn(text: string): string {
  // A Telegram bot token (`123456:AA…`) sits in the URL path, where the checks below would not look.
  if (BOT_TOKEN_RE.test(text)) text = text.replace(BOT_TOKEN_RE_G, '[redacted]');
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT_RE, (m) => {
    if (!m.includes('@') && !/[?&][^=]*(key|token|secret|passw|sig|auth|credential)[^=]*=/i.test(m)) return m;
    const r = redactUrl(m);
    // Unparseable but credential-shaped: drop everything between the scheme and the host.
    return r === '[unparseable url]' ? m.replace(/:\/\/[^@/]*@/, '://redacted@') : r;
  });
}
