import type { Notification, NotificationKind } from './notification.js';

/**
 * The shared templates: one `Notification` (or a burst of them) as Telegram HTML or as plain text (email, SMS
 * and X reuse the text). Producers write plain text; escaping happens here and only here, so a symbol like
 * `1000PEPEUSDT` or a reason with `<` cannot break the markup.
 */

const ICON: Record<NotificationKind, string> = {
  signal: '🎯',
  order_placed: '📝',
  order_refused: '⛔',
  fill: '✅',
  trailing_move: '🪜',
  trade_closed: '🏁',
  risk_state: '🛡',
  source_outage: '📡',
  daily_summary: '📊',
  overflow: '⚠️',
};

/** Telegram's HTML parse mode needs exactly these three escaped in text (and `"` inside attributes, never used here). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Telegram refuses messages longer than this (after entity parsing; we count the raw HTML to stay on the safe side). */
export const TELEGRAM_MAX_CHARS = 4096;

/** One notification as plain text: the title, then `label: value` lines. */
export function renderText(n: Notification): string {
  return [`${ICON[n.kind]} ${n.title}`, ...n.fields.map(([k, v]) => `${k}: ${v}`)].join('\n');
}

/** A burst as plain text, one block per notification. */
export function renderTextBatch(batch: readonly Notification[]): string {
  return batch.map(renderText).join('\n\n');
}

/** One notification as a Telegram HTML block: bold title, values in `<code>` so numbers stay monospaced. */
export function renderHtml(n: Notification): string {
  const lines = [`${ICON[n.kind]} <b>${escapeHtml(cap(n.title))}</b>`];
  for (const [k, v] of n.fields) lines.push(`${escapeHtml(cap(k))}: <code>${escapeHtml(cap(v))}</code>`);
  return lines.join('\n');
}

/**
 * A burst as Telegram HTML messages: blocks joined while they fit in one message, a header when several share
 * it. A single block longer than the limit is split between lines, never inside a tag.
 */
export function renderHtmlMessages(batch: readonly Notification[], maxChars = TELEGRAM_MAX_CHARS): string[] {
  const blocks = batch.flatMap((n) => splitBlock(renderHtml(n), maxChars - 40));
  const out: string[] = [];
  let cur: string[] = [];
  let len = 0;
  const flush = (): void => {
    if (cur.length === 0) return;
    out.push(cur.length > 1 ? `<i>${cur.length} alerts</i>\n\n${cur.join('\n\n')}` : cur[0]!);
    cur = [];
    len = 0;
  };
  for (const b of blocks) {
    if (len + b.length + 2 > maxChars - 40) flush();
    cur.push(b);
    len += b.length + 2;
  }
  flush();
  return out;
}

/** Plain text longer than this is cut before escaping, so one escaped line (≤ 5 × 600 + tags) always fits a message. */
const MAX_TEXT = 600;
const cap = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s);

/** Cuts a block at line boundaries so each piece fits; every line is self-contained markup (values are capped). */
function splitBlock(block: string, max: number): string[] {
  if (block.length <= max) return [block];
  const out: string[] = [];
  let cur = '';
  for (const piece of block.split('\n')) {
    if (cur.length + piece.length + 1 > max) {
      out.push(cur);
      cur = '';
    }
    cur = cur === '' ? piece : `${cur}\n${piece}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}
