import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';
import type { Notification, NotificationChannel, NotificationKind } from '../../core/notification.js';
import { PermanentSendError } from './channel-queue.js';
import { fitText, renderPlainBatch } from './plain-text.js';

/** Twilio's limit on a message body, in characters (it splits it into SMS segments itself). */
export const SMS_BODY_MAX_CHARS = 1600;

/** Twilio account, sender, recipients, base URL, filter and timeout. */
export interface SmsSettings {
  readonly accountSid: string;
  readonly authToken: string;
  readonly from: string;
  readonly to: readonly string[];
  /** `https://api.twilio.com` unless a test or proxy says otherwise. */
  readonly apiUrl: string;
  /** Kinds texted (risk state changes and closed trades by default). */
  readonly kinds: ReadonlySet<NotificationKind>;
  readonly timeoutMs: number;
}

/**
 * Twilio's client builds every URL on `api.twilio.com`; its `edge`/`region` options only pick another Twilio
 * host. To reach another server (a local test server, an egress proxy) the supported hook is a custom
 * `httpClient`: this one is Twilio's own `RequestClient` (auth, form encoding, timeouts unchanged) with the
 * scheme and host of each request replaced by `apiUrl`'s.
 */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL,
    opts: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(opts);
  }

  override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>): Promise<TwilioResponse.default<TData>> {
    const uri = new URL(opts.uri);
    uri.protocol = this.base.protocol;
    uri.host = this.base.host;
    return super.request({ ...opts, uri: uri.href });
  }
}

/**
 * SMS through Twilio's Messages API with the official `twilio` client: one message per recipient per batch
 * (a burst is one text, cut to 1600 characters). Recipients already served are remembered per batch, so a
 * retry after a partial failure does not text the same person twice.
 */
export class SmsChannel implements NotificationChannel {
  readonly name = 'sms';
  private readonly client: twilio.Twilio;
  private readonly delivered = new Set<string>();

  constructor(private readonly settings: SmsSettings) {
    const base = new URL(settings.apiUrl);
    const rebased = base.origin !== 'https://api.twilio.com';
    this.client = twilio(settings.accountSid, settings.authToken, {
      timeout: settings.timeoutMs,
      autoRetry: false,
      ...(rebased ? { httpClient: new RebasedRequestClient(base, { timeout: settings.timeoutMs }) } : {}),
    });
  }

  accepts(n: Notification): boolean {
    return this.settings.kinds.has(n.kind);
  }

  async send(batch: readonly Notification[]): Promise<void> {
    if (batch.length === 0) return;
    const key = batch.map((n) => n.id).join(',');
    const body = fitText(renderPlainBatch(batch), SMS_BODY_MAX_CHARS);
    for (const to of this.settings.to) {
      const sentKey = `${to}|${key}`;
      if (this.delivered.has(sentKey)) continue;
      try {
        await this.client.messages.create({ to, from: this.settings.from, body });
      } catch (err) {
        throw classify(err);
      }
      // Bounded: keys of batches that were given up half-sent are never cleared below.
      if (this.delivered.size >= 10_000) this.delivered.clear();
      this.delivered.add(sentKey);
    }
    for (const to of this.settings.to) this.delivered.delete(`${to}|${key}`);
  }

  async close(): Promise<void> {}
}

function classify(err: unknown): Error {
  const status = (err as { status?: number }).status;
  const message = `Twilio${status !== undefined ? ` ${status}` : ''}: ${err instanceof Error ? err.message : String(err)}`;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429) return new PermanentSendError(message);
  return new Error(message);
}
