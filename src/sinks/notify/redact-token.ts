import { redactUrlsIn } from '../logger.js';

/**
 * Removes a Telegram bot token from text. grammY's errors quote the request URL (`…/bot<token>/sendMessage`), so
 * every error text the bot logs or rethrows passes through here: the exact token, and anything shaped like one.
 */
export function redactBotToken(text: string, token: string): string {
  const exact = token.length > 0 ? text.split(token).join('[redacted]') : text;
  return redactUrlsIn(exact.replace(/\d{5,}:[A-Za-z0-9_-]{30,}/g, '[redacted]'));
}
