import http from 'node:http';
import https from 'node:https';
import { ApiResponseError, TwitterApi, type TwitterApiReadWrite } from 'twitter-api-v2';
import { publicView, type Notification, type NotificationChannel, type NotificationKind } from '../../core/notification.js';
import { PermanentSendError } from './channel-queue.js';
import { fitText, renderPlainText } from './plain-text.js';

/**
 * X counts a post's length in characters, 280 for a standard account (CJK characters and emoji count double and
 * URLs as 23; the templates are ASCII apart from the ellipsis, so code points are close enough here).
 */
export const X_POST_MAX_CHARS = 280;

/** X API credentials (OAuth 1.0a user context of the posting account), base URL, filter and timeout. */
export interface XSettings {
  readonly appKey: string;
  readonly appSecret: string;
  readonly accessToken: string;
  readonly accessSecret: string;
  /** API base, `https://api.x.com` unless a test or proxy says otherwise; `/2/` is appended. */
  readonly apiUrl: string;
  /** Kinds this channel posts (signals and closed trades by default); a `sensitive` one is never posted. */
  readonly kinds: ReadonlySet<NotificationKind>;
  readonly timeoutMs: number;
}

/**
 * Public posts on X through the X API v2 (`POST /2/tweets`, OAuth 1.0a user context) with `twitter-api-v2`.
 * X is public: a notification carrying account sizes, equity or PnL in account currency (`sensitive`) is posted only
 * as its public variant (`publicFields`: a closed trade's PnL in %, never in USDT) and refused by `accepts` when it
 * has none, whatever the settings say. One post per notification; ids already posted are remembered, so a
 * batch retried after a partial failure never posts the same notification twice.
 */
export class XChannel implements NotificationChannel {
  readonly name = 'x';
  private readonly v2: TwitterApiReadWrite['v2'];
  /** `<apiUrl>/2/`: twitter-api-v2's per-request `prefix` option replaces its built-in `https://api.x.com/2/`. */
  private readonly prefix: string;
  private readonly posted = new Set<string>();

  constructor(private readonly settings: XSettings) {
    const base = new URL(settings.apiUrl);
    // twitter-api-v2 sends through https.request; a plain-http base (a local test server) needs an http agent.
    const httpAgent = base.protocol === 'http:' ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true });
    const client = new TwitterApi(
      { appKey: settings.appKey, appSecret: settings.appSecret, accessToken: settings.accessToken, accessSecret: settings.accessSecret },
      { httpAgent },
    );
    this.v2 = client.readWrite.v2;
    this.prefix = `${base.origin}${base.pathname.replace(/\/$/, '')}/2/`;
  }

  accepts(n: Notification): boolean {
    return this.settings.kinds.has(n.kind) && publicView(n) !== undefined;
  }

  async send(batch: readonly Notification[]): Promise<void> {
    for (const n of batch) {
      if (this.posted.has(n.id)) continue;
      const shown = this.settings.kinds.has(n.kind) ? publicView(n) : undefined;
      if (shown === undefined) throw new PermanentSendError(`notification ${n.id} (${n.kind}) is not for X`);
      try {
        await this.v2.post('tweets', { text: fitText(renderPlainText(shown), X_POST_MAX_CHARS) }, { prefix: this.prefix, timeout: this.settings.timeoutMs });
      } catch (err) {
        throw classify(err);
      }
      this.remember(n.id);
    }
  }

  async close(): Promise<void> {}

  private remember(id: string): void {
    this.posted.add(id);
    if (this.posted.size > 10_000) this.posted.delete(this.posted.values().next().value!);
  }
}

/** 4xx other than 429 (bad credentials, duplicate or refused content) cannot succeed on a retry. */
function classify(err: unknown): Error {
  if (err instanceof ApiResponseError) {
    const detail = typeof err.data === 'object' && err.data !== null ? JSON.stringify(err.data).slice(0, 300) : '';
    const message = `X API ${err.code}: ${detail}`;
    if (err.code >= 400 && err.code < 500 && err.code !== 429) return new PermanentSendError(message);
    return new Error(message);
  }
  return new Error(`X API: ${err instanceof Error ? err.message : String(err)}`);
}
