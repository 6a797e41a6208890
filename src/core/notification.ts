/**
 * What the daemon tells an operator or the public, independent of the channel that carries it (Telegram, email,
 * X, SMS). Producers turn engine and execution events into `Notification`s; each `NotificationChannel` decides
 * what it accepts (X never carries account sizes) and how it renders the shared template.
 */

export type NotificationKind =
  | 'signal'
  | 'order_placed'
  | 'order_refused'
  | 'fill'
  | 'trailing_move'
  | 'trade_closed'
  | 'risk_state'
  | 'source_outage'
  | 'daily_summary'
  | 'overflow';

export interface Notification {
  /** Stable id (e.g. the signal id plus kind), so a retried send can be recognised. */
  readonly id: string;
  readonly kind: NotificationKind;
  /** Event time, epoch ms. */
  readonly tsMs: number;
  /** Coin, when the notification is about one. */
  readonly symbol?: string;
  /** One short line: what happened. Plain text, not escaped for any markup. */
  readonly title: string;
  /** Detail lines as label/value pairs, plain text; channels escape them for their markup. */
  readonly fields: ReadonlyArray<readonly [label: string, value: string]>;
  /** True when the fields carry account sizes, equity, balances or PnL in account currency. */
  readonly sensitive: boolean;
  /**
   * For a sensitive notification that still has a public story (a closed trade: direction, PnL in %, how long):
   * the fields a public channel (X) may carry instead of `fields`. Absent: a sensitive notification is never public.
   */
  readonly publicFields?: ReadonlyArray<readonly [label: string, value: string]>;
}

/** What a public channel may publish of `n`: `n` itself, its public variant, or nothing. */
export function publicView(n: Notification): Notification | undefined {
  if (!n.sensitive) return n;
  if (n.publicFields === undefined) return undefined;
  return { ...n, fields: n.publicFields, sensitive: false, publicFields: undefined };
}

export interface NotificationChannel {
  /** `telegram`, `email`, `x`, `sms`. */
  readonly name: string;
  /** The channel's filter: which notifications it carries at all. */
  accepts(n: Notification): boolean;
  /** Delivers a group of notifications (one message or several); throws on failure so the queue retries. */
  send(batch: readonly Notification[]): Promise<void>;
  close(): Promise<void>;
}
