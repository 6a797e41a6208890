import type { IncomingMessage, ServerResponse } from 'node:http';
import { autoRetry } from '@grammyjs/auto-retry';
import { apiThrottler } from '@grammyjs/transformer-throttler';
import { Bot, InlineKeyboard, webhookCallback, type Context } from 'grammy';
import { Counter, type Registry } from 'prom-client';
import type { Notification, NotificationChannel } from '../../core/notification.js';
import { escapeHtml, renderHtmlMessages } from '../../core/notification-render.js';
import type { Logger } from '../logger.js';
import { Confirmations, type PendingControl } from './confirmations.js';
import type { CommandAudit, ControlCommand, OperatorConsole } from './operator-console.js';
import { redactBotToken } from './redact-token.js';

export interface TelegramBotOptions {
  /** From the environment only; never logged (every error text goes through `redactBotToken`). */
  readonly token: string;
  /** grammY's `apiRoot` (TELEGRAM_API_URL). */
  readonly apiRoot: string;
  readonly alertChatIds: readonly number[];
  /** Only these chats may command; anything else gets no answer. */
  readonly allowedChatIds: readonly number[];
  readonly confirmTtlMs: number;
  readonly console: OperatorConsole;
  readonly audit: (entry: CommandAudit) => void;
  readonly log: Logger;
  readonly registry?: Registry;
  /** Webhook mode: Telegram POSTs updates to `url`, which must route to `webhookHandler()`; else long polling. */
  readonly webhook?: { readonly url: string; readonly secretToken: string };
  /** Long-poll timeout in seconds (default 30). */
  readonly pollTimeoutSec?: number;
}

const CONTROLS: Readonly<Record<string, ControlCommand>> = { pause: 'pause', resume: 'resume', stopentry: 'stop-entry', forceexit: 'force-exit', kill: 'kill' };
const HELP = [
  '/status – sources, lag, risk state, mode',
  '/top – the ranking',
  '/coin SYMBOL – features, clusters, ranges',
  '/positions, /orders',
  '/pnl [day|week|all], /trades [n]',
  '/pause, /resume – new entries',
  '/stopentry – pause and cancel unfilled entries',
  '/forceexit SYMBOL|all – close at market',
  '/kill – kill switch: HALTED',
].join('\n');

/**
 * The Telegram side of the operator surface, on grammY with the throttler (30 messages/s overall, 1/s per chat,
 * 20/min per group) and auto-retry (429 `retry_after`, 5xx, network) plugins. As a `NotificationChannel` it sends
 * alert bursts to TELEGRAM_ALERT_CHAT_IDS as HTML; as a bot it answers commands from TELEGRAM_ALLOWED_CHAT_IDS only
 * (others: silence, a log line, a metric, an audit row), and asks for an inline-keyboard confirmation, valid
 * `confirmTtlMs`, before any control that changes state.
 */
export class TelegramBot implements NotificationChannel {
  readonly name = 'telegram';
  private readonly bot: Bot;
  private readonly allowed: ReadonlySet<number>;
  private readonly confirmations: Confirmations;
  private readonly commands: Counter<'command' | 'outcome'> | undefined;
  private readonly refusedChats: Counter | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** The batch being retried and which (chat, message) pairs of it already went out. */
  private partial: { readonly key: string; readonly done: Set<string> } | undefined;
  /** Settles once polling runs (or the webhook is set); rejects never: failures are logged. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly opts: TelegramBotOptions) {
    this.bot = new Bot(opts.token, { client: { apiRoot: opts.apiRoot } });
    // Installed first, so it runs innermost: auto-retry (outermost) sends every retry through the throttler again.
    this.bot.api.config.use(apiThrottler());
    // Network errors are not retried here: the hub retries a failed send with its own backoff, and a stop must
    // not wait minutes on a dead server.
    this.bot.api.config.use(autoRetry({ maxRetryAttempts: 5, maxDelaySeconds: 120, rethrowHttpErrors: true }));
    this.allowed = new Set(opts.allowedChatIds);
    this.confirmations = new Confirmations(opts.confirmTtlMs, () => Date.now());
    if (opts.registry !== undefined) {
      this.commands = new Counter({ name: 'whalestack_telegram_commands_total', help: 'Telegram commands from allow-listed chats, by outcome', labelNames: ['command', 'outcome'], registers: [opts.registry] });
      this.refusedChats = new Counter({ name: 'whalestack_telegram_unauthorized_total', help: 'Telegram updates from chats not in TELEGRAM_ALLOWED_CHAT_IDS (ignored, no answer)', registers: [opts.registry] });
    }
    this.install();
  }

  accepts(_n: Notification): boolean {
    return this.opts.alertChatIds.length > 0;
  }

  /** One burst: rendered into as few messages as fit, sent to every alert chat (chats in parallel, each in order). */
  async send(batch: readonly Notification[]): Promise<void> {
    const messages = renderHtmlMessages(batch);
    // The hub retries a failed batch whole; messages already delivered to a chat are not sent to it again.
    const key = batch.map((n) => n.id).join('\n');
    if (this.partial?.key !== key) this.partial = { key, done: new Set() };
    const done = this.partial.done;
    const results = await Promise.allSettled(
      this.opts.alertChatIds.map(async (chat) => {
        for (const [i, text] of messages.entries()) {
          if (done.has(`${chat}:${i}`)) continue;
          await this.bot.api.sendMessage(chat, text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
          done.add(`${chat}:${i}`);
        }
      }),
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`telegram: ${failed.length} of ${results.length} chat(s) failed: ${this.clean(failed[0]!.reason)}`);
    this.partial = undefined;
  }

  /** Long polling (default) or the webhook registration. Never throws: a bad token or a dead server is logged. */
  start(): void {
    this.sweepTimer = setInterval(() => void this.expirePrompts(), Math.max(250, Math.min(5000, this.opts.confirmTtlMs / 4)));
    this.sweepTimer.unref();
    if (this.opts.webhook !== undefined) {
      const { url, secretToken } = this.opts.webhook;
      this.ready = this.bot
        .init()
        .then(() => this.bot.api.setWebhook(url, { secret_token: secretToken, allowed_updates: ['message', 'callback_query'] }))
        .then(() => this.opts.log.info({ bot: this.bot.botInfo.username }, 'telegram: webhook set'))
        .catch((err: unknown) => this.opts.log.error({ err: this.clean(err) }, 'telegram: webhook not set; commands are unavailable'));
      return;
    }
    let started!: () => void;
    this.ready = new Promise((r) => (started = r));
    this.polling = this.bot
      .start({
        allowed_updates: ['message', 'callback_query'],
        timeout: this.opts.pollTimeoutSec ?? 30,
        onStart: (me) => {
          this.opts.log.info({ bot: me.username, alertChats: this.opts.alertChatIds.length, allowedChats: this.allowed.size }, 'telegram: polling for commands');
          started();
        },
      })
      .catch((err: unknown) => {
        this.opts.log.error({ err: this.clean(err) }, 'telegram: polling stopped; commands are unavailable (alerts still try to send)');
        started();
      });
  }

  /** The webhook endpoint for the operator HTTP server; checks `X-Telegram-Bot-Api-Secret-Token`. */
  webhookHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
    const secretToken = this.opts.webhook?.secretToken;
    return webhookCallback(this.bot, 'http', { secretToken, onTimeout: 'return' }) as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  }

  async close(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    // grammY's stop confirms the last update offset with one more call: bounded, so a dead server cannot hold shutdown.
    const bounded = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, new Promise((r) => setTimeout(r, 3000).unref())]);
    if (this.bot.isRunning()) await bounded(this.bot.stop().catch(() => undefined));
    await bounded(this.polling ?? Promise.resolve());
  }

  private clean(err: unknown): string {
    return redactBotToken(err instanceof Error ? err.message : String(err), this.opts.token);
  }

  private install(): void {
    const bot = this.bot;
    bot.catch((e) => this.opts.log.error({ err: this.clean(e.error), update: e.ctx.update.update_id }, 'telegram: handler failed'));
    // The allow-list comes first: nothing below ever runs for a stranger.
    bot.use(async (ctx, next) => {
      const chatId = ctx.chat?.id;
      if (chatId !== undefined && this.allowed.has(chatId)) return next();
      this.refusedChats?.inc();
      const text = ctx.message?.text ?? ctx.callbackQuery?.data ?? '';
      this.opts.log.warn({ chatId, userId: ctx.from?.id, username: ctx.from?.username, text: text.slice(0, 64) }, 'telegram: update from a chat not in TELEGRAM_ALLOWED_CHAT_IDS ignored');
      this.audit(ctx, text.split(/\s+/)[0] ?? '', text.split(/\s+/).slice(1).join(' '), 'unauthorized', 'not in TELEGRAM_ALLOWED_CHAT_IDS; no answer');
    });
    const view = (name: string, render: (args: string) => string | undefined | Promise<string | undefined>) =>
      bot.command(name, async (ctx) => {
        const args = ctx.match.trim();
        const text = (await render(args)) ?? `unknown: ${args}`;
        await ctx.reply(pre(text), { parse_mode: 'HTML' });
        this.audit(ctx, `/${name}`, args, 'answered', text.split('\n')[0] ?? '');
      });
    view('start', () => HELP);
    view('help', () => HELP);
    view('status', () => this.opts.console.status());
    view('top', () => this.opts.console.top());
    view('coin', (a) => (a === '' ? 'usage: /coin SYMBOL' : this.opts.console.coin(a.toUpperCase())));
    view('positions', () => this.opts.console.positions());
    view('orders', () => this.opts.console.orders());
    view('pnl', (a) => (a === '' || a === 'day' || a === 'week' || a === 'all' ? this.opts.console.pnl((a || 'day') as 'day' | 'week' | 'all') : 'usage: /pnl [day|week|all]'));
    view('trades', (a) => {
      const n = a === '' ? 10 : Number(a);
      return Number.isInteger(n) && n >= 1 && n <= 50 ? this.opts.console.trades(n) : 'usage: /trades [n], n from 1 to 50';
    });
    for (const [name, command] of Object.entries(CONTROLS)) {
      bot.command(name, async (ctx) => {
        const symbol = ctx.match.trim().toUpperCase() || undefined;
        if (command === 'force-exit' && symbol === undefined) {
          await ctx.reply(pre('usage: /forceexit SYMBOL|all'), { parse_mode: 'HTML' });
          return this.audit(ctx, `/${name}`, '', 'refused', 'no symbol');
        }
        const p = this.confirmations.ask(command, symbol, ctx.chat.id, ctx.from?.id);
        const seconds = Math.round(this.opts.confirmTtlMs / 1000);
        const prompt = await ctx.reply(`⚠️ <b>${escapeHtml(`Confirm /${name}${symbol === undefined ? '' : ` ${symbol}`}?`)}</b>\nExpires in ${seconds} s.`, {
          parse_mode: 'HTML',
          reply_markup: new InlineKeyboard().text('Confirm', `ok:${p.nonce}`).text('Cancel', `no:${p.nonce}`),
        });
        p.messageId = prompt.message_id;
        this.audit(ctx, `/${name}`, symbol ?? '', 'confirm-asked', `expires in ${seconds} s`);
      });
    }
    bot.on('callback_query:data', async (ctx) => {
      const [verb, nonce] = ctx.callbackQuery.data.split(':');
      const chatId = ctx.chat?.id ?? 0;
      const taken = this.confirmations.take(nonce ?? '', chatId);
      if (taken.state === 'unknown') {
        await ctx.answerCallbackQuery({ text: 'Nothing to confirm (already answered or expired).' });
        return this.audit(ctx, 'confirm', ctx.callbackQuery.data, 'refused', 'unknown or used confirmation');
      }
      const c = taken.control;
      const label = `/${nameOf(c.command)}${c.symbol === undefined ? '' : ` ${c.symbol}`}`;
      let outcome: CommandAudit['outcome'];
      let result: string;
      if (taken.state === 'expired') [outcome, result] = ['expired', `${label} expired: nothing applied`];
      else if (verb !== 'ok') [outcome, result] = ['cancelled', `${label} cancelled`];
      else {
        const by = `telegram:${ctx.from.id}${ctx.from.username === undefined ? '' : `(@${ctx.from.username})`}`;
        const r = await this.opts.console.control(c.command, c.symbol, by);
        [outcome, result] = [r.ok ? 'applied' : 'refused', `${label}: ${r.message}`];
      }
      await ctx.answerCallbackQuery({ text: result.slice(0, 190) });
      await ctx.editMessageText(`${outcome === 'applied' ? '✅' : outcome === 'refused' ? '⛔' : '⌛'} ${escapeHtml(result)}`, { parse_mode: 'HTML' });
      this.audit(ctx, label.split(' ')[0]!, c.symbol ?? '', outcome, result);
    });
    bot.on('message', async (ctx) => {
      await ctx.reply(pre(`unknown command\n\n${HELP}`), { parse_mode: 'HTML' });
      this.audit(ctx, (ctx.message.text ?? '').split(/\s+/)[0] ?? '', '', 'refused', 'unknown command');
    });
  }

  /** Prompts past their expiry are edited to say nothing was applied. */
  private async expirePrompts(): Promise<void> {
    for (const p of this.confirmations.sweep()) {
      if (p.messageId === undefined) continue;
      await this.bot.api
        .editMessageText(p.chatId, p.messageId, `⌛ ${escapeHtml(`/${nameOf(p.command)}${p.symbol === undefined ? '' : ` ${p.symbol}`} expired: nothing applied`)}`, { parse_mode: 'HTML' })
        .catch((err: unknown) => this.opts.log.warn({ err: this.clean(err) }, 'telegram: could not mark a prompt expired'));
      this.opts.audit({ tsMs: Date.now(), eventId: `expired-${p.nonce}`, chatId: p.chatId, userId: p.userId, username: undefined, command: `/${nameOf(p.command)}`, args: p.symbol ?? '', outcome: 'expired', message: 'no answer before expiry' });
    }
  }

  private audit(ctx: Context, command: string, args: string, outcome: CommandAudit['outcome'], message: string): void {
    if (outcome !== 'unauthorized') this.commands?.inc({ command, outcome });
    const id = ctx.callbackQuery?.id ?? String(ctx.update.update_id);
    try {
      this.opts.audit({ tsMs: Date.now(), eventId: `${outcome}-${id}`, chatId: ctx.chat?.id, userId: ctx.from?.id, username: ctx.from?.username, command, args: args.slice(0, 64), outcome, message: message.slice(0, 300) });
    } catch (err) {
      this.opts.log.error({ err: this.clean(err) }, 'telegram: command not written to the audit trail');
    }
  }
}

function nameOf(c: ControlCommand): string {
  return Object.entries(CONTROLS).find(([, v]) => v === c)?.[0] ?? c;
}

/** A view as monospaced text, escaped, cut to fit one message. */
function pre(text: string): string {
  const t = text.length > 3900 ? `${text.slice(0, 3899)}…` : text;
  return `<pre>${escapeHtml(t)}</pre>`;
}

export type { PendingControl };
