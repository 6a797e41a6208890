import { TelegramBot } from '../sinks/notify/telegram-bot.js';
import type { CommandAudit } from '../sinks/notify/operator-console.js';
import type { DaemonWiring } from './daemon-parts.js';
import { operatorConsole } from './operator-views.js';
import type { Part } from './part.js';

/**
 * The Telegram channel and bot from the configuration, or undefined (said once in the log) without
 * TELEGRAM_BOT_TOKEN. Building it does no I/O; `telegramPart` starts the polling (or sets the webhook).
 */
export function telegramChannel(w: DaemonWiring): TelegramBot | undefined {
  const { config, log } = w;
  const token = config.telegramBotToken;
  if (token === undefined) {
    log.info('telegram off: no TELEGRAM_BOT_TOKEN in the environment');
    return undefined;
  }
  const t = config.telegram;
  if (t.alertChatIds.length === 0) log.warn('telegram: TELEGRAM_ALERT_CHAT_IDS is empty, so no alert is sent');
  if (t.allowedChatIds.length === 0) log.warn('telegram: TELEGRAM_ALLOWED_CHAT_IDS is empty, so every command is ignored');
  const console = w.operatorConsole ?? operatorConsole(w);
  w.operatorConsole = console;
  return new TelegramBot({
    token,
    apiRoot: t.apiUrl,
    alertChatIds: t.alertChatIds,
    allowedChatIds: t.allowedChatIds,
    confirmTtlMs: t.confirmTtlMs,
    console,
    audit: (a) => auditRow(w, a),
    log,
    registry: w.metrics.registry,
    webhook: t.webhook,
  });
}

/** Starts the bot's polling or webhook (the webhook route is served by the operator HTTP server). */
export function telegramPart(w: DaemonWiring, bot: TelegramBot | undefined): Part {
  return {
    name: 'telegram',
    start() {
      if (bot === undefined) return;
      if (w.config.telegram.webhook !== undefined) w.postRoutes.set(webhookPath(w.config.telegram.webhook.url), bot.webhookHandler());
      bot.start();
    },
    // The hub (stopped after this part) closes the channel; here only the route goes.
    stop() {
      if (w.config.telegram.webhook !== undefined) w.postRoutes.delete(webhookPath(w.config.telegram.webhook.url));
    },
  };
}

/** The path of the webhook URL: the operator HTTP server answers POSTs there. */
export function webhookPath(url: string): string {
  return new URL(url).pathname;
}

/** Every command, refused ones included, as an `agent_logs` row (agent `telegram`). */
function auditRow(w: DaemonWiring, a: CommandAudit): void {
  const who = `chat ${a.chatId ?? '?'} user ${a.userId ?? '?'}${a.username === undefined ? '' : ` @${a.username}`}`;
  w.log.info({ telegram: { ...a } }, `telegram ${a.command} from ${who}: ${a.outcome}`);
  if (w.storage === undefined || !w.storeOpen) return;
  w.storage.writer.enqueue('agent_logs', {
    tsMs: a.tsMs, agentName: 'telegram', eventId: a.eventId, level: a.outcome === 'unauthorized' || a.outcome === 'error' ? 'warn' : 'info', event: 'telegram_command',
    message: `${a.command}${a.args === '' ? '' : ` ${a.args}`} from ${who}: ${a.outcome}: ${a.message}`,
    details: { chatId: a.chatId ?? null, userId: a.userId ?? null, username: a.username ?? null, command: a.command, args: a.args, outcome: a.outcome },
  });
}
