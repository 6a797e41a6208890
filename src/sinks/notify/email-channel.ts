import nodemailer, { type Transporter } from 'nodemailer';
import type { Notification, NotificationChannel, NotificationKind } from '../../core/notification.js';
import { PermanentSendError } from './channel-queue.js';
import { batchSubject, renderPlainBatch } from './plain-text.js';

/** SMTP server and envelope (SMTP_URL is parsed into these by the configuration). */
export interface EmailSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); false = plain then STARTTLS when the server offers it. */
  readonly secure: boolean;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  /** Kinds this channel carries (all by default: email goes to the operator, so sensitive ones too). */
  readonly kinds: ReadonlySet<NotificationKind>;
  readonly timeoutMs: number;
}

/**
 * Email over SMTP with nodemailer: one message per batch, so a burst of alerts is one email rather than fifty.
 * A 5xx reply (bad recipient, refused sender, auth refused) is permanent; connection failures and 4xx replies
 * are retried by the queue.
 */
export class EmailChannel implements NotificationChannel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(private readonly settings: EmailSettings) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.user !== undefined ? { auth: { user: settings.user, pass: settings.pass ?? '' } } : {}),
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    });
  }

  accepts(n: Notification): boolean {
    return this.settings.kinds.has(n.kind);
  }

  async send(batch: readonly Notification[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to: [...this.settings.to],
        subject: batchSubject(batch),
        text: renderPlainBatch(batch),
        headers: { 'X-Whalestack-Notification-Ids': batch.map((n) => n.id).join(',') },
      });
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const message = `SMTP: ${err instanceof Error ? err.message : String(err)}`;
      if (code !== undefined && code >= 500) throw new PermanentSendError(message, { cause: err });
      throw new Error(message, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
