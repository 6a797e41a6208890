import type { NotificationKind } from '../core/notification.js';
import type { BroadcastSettings } from '../sinks/notify/broadcast-channels.js';
import type { RawConfig } from './config.js';

/** Every notification kind, in the contract's order (checked against the type below). */
export const ALL_NOTIFICATION_KINDS = [
  'signal', 'order_placed', 'order_refused', 'fill', 'trailing_move', 'trade_closed', 'risk_state', 'source_outage', 'daily_summary', 'overflow',
] as const satisfies readonly NotificationKind[];
// Compile-time: a kind added to the contract and missing here fails the type-check.
const exhaustive: Exclude<NotificationKind, (typeof ALL_NOTIFICATION_KINDS)[number]> extends never ? true : never = true;
void exhaustive;

/** Broadcast settings that are secrets: environment only, never in a config file, redacted in logs. */
export const BROADCAST_SECRET_KEYS = [
  'SMTP_URL', 'SMTP_USER', 'SMTP_PASS', 'X_APP_KEY', 'X_APP_SECRET', 'X_ACCESS_TOKEN', 'X_ACCESS_SECRET', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN',
] as const satisfies readonly (keyof RawConfig)[];

const kinds = (list: string): ReadonlySet<NotificationKind> => new Set(list.split(',') as NotificationKind[]);
const list = (s: string): string[] => s.split(',');

/**
 * The email, X and SMS channels from validated settings. A channel is on only when it is completely configured;
 * a half-configured one (a recipient but no server, three of X's four keys) is a problem line each, so a typo
 * never silently turns a channel off.
 */
export function broadcastSettings(r: RawConfig): { settings: BroadcastSettings; problems: string[] } {
  const problems: string[] = [];
  const timeoutMs = r.BROADCAST_TIMEOUT_MS;
  const settings: BroadcastSettings = {
    email: emailSettings(r, problems, timeoutMs),
    x: xSettings(r, problems, timeoutMs),
    sms: smsSettings(r, problems, timeoutMs),
    queue: { capacity: r.BROADCAST_QUEUE_CAPACITY, retryBaseMs: r.BROADCAST_RETRY_BASE_MS, retryMaxMs: r.BROADCAST_RETRY_MAX_MS, maxAttempts: r.BROADCAST_MAX_ATTEMPTS },
  };
  if (r.BROADCAST_RETRY_MAX_MS < r.BROADCAST_RETRY_BASE_MS) problems.push(`BROADCAST_RETRY_MAX_MS: must be ≥ BROADCAST_RETRY_BASE_MS (${r.BROADCAST_RETRY_BASE_MS})`);
  return { settings, problems };
}

function emailSettings(r: RawConfig, problems: string[], timeoutMs: number): BroadcastSettings['email'] {
  const server = r.SMTP_URL !== undefined || r.SMTP_HOST !== undefined;
  const envelope = r.EMAIL_TO !== undefined || r.EMAIL_FROM !== undefined;
  if (!server && !envelope && r.SMTP_USER === undefined && r.SMTP_PASS === undefined) return undefined;
  const mine: string[] = [];
  if (r.SMTP_URL !== undefined && r.SMTP_HOST !== undefined) mine.push('SMTP_URL: set SMTP_URL or SMTP_HOST, not both');
  if (!server) mine.push('EMAIL_TO/EMAIL_FROM/SMTP_USER are set but no SMTP server: set SMTP_URL or SMTP_HOST');
  if (r.EMAIL_TO === undefined) mine.push('EMAIL_TO: email is configured but has no recipient (comma-separated addresses)');
  if (r.EMAIL_FROM === undefined) mine.push('EMAIL_FROM: email is configured but has no sender address');
  problems.push(...mine);
  if (mine.length > 0) return undefined;
  let host = r.SMTP_HOST!;
  let secure = r.SMTP_SECURE === 'true' || (r.SMTP_SECURE === undefined && r.SMTP_PORT === 465);
  let port = r.SMTP_PORT ?? (secure ? 465 : 587);
  let user = r.SMTP_USER;
  let pass = r.SMTP_PASS;
  if (r.SMTP_URL !== undefined) {
    const u = new URL(r.SMTP_URL);
    secure = u.protocol === 'smtps:';
    host = u.hostname;
    port = u.port === '' ? (secure ? 465 : 587) : Number(u.port);
    if (u.username !== '') user = decodeURIComponent(u.username);
    if (u.password !== '') pass = decodeURIComponent(u.password);
  }
  return { host, port, secure, user, pass, from: r.EMAIL_FROM!, to: list(r.EMAIL_TO!), kinds: kinds(r.EMAIL_KINDS), timeoutMs };
}

function xSettings(r: RawConfig, problems: string[], timeoutMs: number): BroadcastSettings['x'] {
  const keys = { X_APP_KEY: r.X_APP_KEY, X_APP_SECRET: r.X_APP_SECRET, X_ACCESS_TOKEN: r.X_ACCESS_TOKEN, X_ACCESS_SECRET: r.X_ACCESS_SECRET };
  const missing = Object.entries(keys).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length === 4) return undefined;
  if (missing.length > 0) {
    problems.push(`${missing[0]}: X posting needs all four OAuth 1.0a user-context keys (missing: ${missing.join(', ')})`);
    return undefined;
  }
  return { appKey: r.X_APP_KEY!, appSecret: r.X_APP_SECRET!, accessToken: r.X_ACCESS_TOKEN!, accessSecret: r.X_ACCESS_SECRET!, apiUrl: r.X_API_URL, kinds: kinds(r.X_KINDS), timeoutMs };
}

function smsSettings(r: RawConfig, problems: string[], timeoutMs: number): BroadcastSettings['sms'] {
  const given = { TWILIO_ACCOUNT_SID: r.TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN: r.TWILIO_AUTH_TOKEN, TWILIO_FROM: r.TWILIO_FROM, TWILIO_TO: r.TWILIO_TO };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length === 4) return undefined;
  if (missing.length > 0) {
    problems.push(`${missing[0]}: SMS through Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM and TWILIO_TO (missing: ${missing.join(', ')})`);
    return undefined;
  }
  if (!/^AC[0-9a-fA-F]{32}$/.test(r.TWILIO_ACCOUNT_SID!)) {
    problems.push('TWILIO_ACCOUNT_SID: must be a Twilio account SID (AC followed by 32 hex digits)');
    return undefined;
  }
  return { accountSid: r.TWILIO_ACCOUNT_SID!, authToken: r.TWILIO_AUTH_TOKEN!, from: r.TWILIO_FROM!, to: list(r.TWILIO_TO!), apiUrl: r.TWILIO_API_URL, kinds: kinds(r.SMS_KINDS), timeoutMs };
}
