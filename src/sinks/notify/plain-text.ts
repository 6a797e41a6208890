import type { Notification } from '../../core/notification.js';

/**
 * Plain-text rendering of the shared `Notification` template for the channels that carry no markup (email
 * bodies, X posts, SMS). Telegram escapes the same title and fields for its own markup; keeping the wording in
 * the notification itself (title + label/value fields) is what makes the template shared.
 */
export function renderPlainText(n: Notification): string {
  const lines = [n.title];
  for (const [label, value] of n.fields) lines.push(`${label}: ${value}`);
  lines.push(new Date(n.tsMs).toISOString().replace('.000Z', 'Z'));
  return lines.join('\n');
}

/** Several notifications as one text, separated by a blank line (an email body, one SMS). */
export function renderPlainBatch(batch: readonly Notification[]): string {
  return batch.map(renderPlainText).join('\n\n');
}

/**
 * Fits `text` into `maxChars` code points (X counts 280, an SMS body is at most 1600), cutting at a line end
 * when one is near and marking the cut with an ellipsis, so a long notification is shortened, never refused.
 */
export function fitText(text: string, maxChars: number): string {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return text;
  const head = chars.slice(0, maxChars - 1).join('');
  const lastBreak = head.lastIndexOf('\n');
  const cut = lastBreak >= maxChars / 2 ? head.slice(0, lastBreak) : head;
  return `${cut.trimEnd()}…`;
}

/** Short subject line for a batch (an email subject). */
export function batchSubject(batch: readonly Notification[]): string {
  if (batch.length === 1) return `whalestack: ${batch[0]!.title}`;
  return `whalestack: ${batch.length} notifications (${batch[0]!.title}, …)`;
}
