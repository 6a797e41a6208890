import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake Bot API answered, with its parsed JSON payload and arrival time. */
export interface BotApiCall {
  readonly method: string;
  readonly payload: Record<string, unknown>;
  readonly atMs: number;
  /** The HTTP status answered (429 for an injected rate limit). */
  readonly status: number;
}

interface Waiter {
  readonly offset: number;
  readonly resolve: () => void;
}

/**
 * A local HTTP server speaking the Telegram Bot API as grammY uses it: `POST /bot<token>/<method>` with a JSON
 * body, answered `{ ok, result }` or `{ ok: false, error_code, description, parameters }`. It implements getMe,
 * getUpdates (offset confirms, `timeout` long-polls until an update arrives), sendMessage and editMessageText
 * (HTML checked the way Telegram refuses it: unknown or unbalanced tags, a raw `&`, more than 4096 characters),
 * answerCallbackQuery, deleteWebhook and setWebhook; a wrong token gets 401. `rateLimitNext` injects 429s with
 * `parameters.retry_after`.
 */
export class FakeTelegram {
  readonly calls: BotApiCall[] = [];
  private readonly updates: Record<string, unknown>[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 100;
  private waiters: Waiter[] = [];
  private readonly limits = new Map<string, { count: number; retryAfter: number }>();
  private readonly chatFailures = new Map<number, number>();
  private server!: http.Server;
  port = 0;

  constructor(readonly token: string, readonly botId = 777) {}

  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += String(d)));
      req.on('end', () => void this.handle(req.url ?? '', body, res));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }

  /** The next `count` calls of `method` are refused with 429 and `retry_after`. */
  rateLimitNext(method: string, count: number, retryAfterSec: number): void {
    this.limits.set(method, { count, retryAfter: retryAfterSec });
  }

  /** The next `count` sendMessage calls to `chatId` are refused 400 (`chat not found`), as for a bot the user blocked. */
  failChat(chatId: number, count: number): void {
    this.chatFailures.set(chatId, count);
  }

  /** A user writes `text` in a private chat (chat id = user id unless given). */
  pushMessage(fromId: number, text: string, chatId = fromId): number {
    const id = this.nextUpdateId++;
    this.updates.push({
      update_id: id,
      message: { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: chatId > 0 ? 'private' : 'group', first_name: `u${fromId}` }, from: { id: fromId, is_bot: false, first_name: `u${fromId}`, username: `user${fromId}` }, text, ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } : {}) },
    });
    this.wake();
    return id;
  }

  /** A user presses an inline button with `data` under the bot's message `messageId`. */
  pushCallback(fromId: number, chatId: number, messageId: number, data: string): string {
    const queryId = `cq${this.nextUpdateId}`;
    this.updates.push({
      update_id: this.nextUpdateId++,
      callback_query: { id: queryId, from: { id: fromId, is_bot: false, first_name: `u${fromId}`, username: `user${fromId}` }, chat_instance: 'ci', data, message: { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: { id: this.botId, is_bot: true, first_name: 'bot' }, text: 'confirm?' } },
    });
    this.wake();
    return queryId;
  }

  /** An update as Telegram would POST it to a webhook. */
  makeMessageUpdate(fromId: number, text: string): Record<string, unknown> {
    const id = this.nextUpdateId++;
    return { update_id: id, message: { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: fromId, type: 'private' }, from: { id: fromId, is_bot: false, first_name: 'w' }, text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] } };
  }

  /** Successful sendMessage calls, optionally to one chat. */
  sent(chatId?: number): BotApiCall[] {
    return this.calls.filter((c) => c.method === 'sendMessage' && c.status === 200 && (chatId === undefined || Number(c.payload.chat_id) === chatId));
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.resolve();
  }

  private async handle(url: string, body: string, res: http.ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(url.split('?')[0] ?? '');
    const reply = (status: number, obj: unknown, method = m?.[2] ?? '?', payload: Record<string, unknown> = {}): void => {
      this.calls.push({ method, payload, atMs: Date.now(), status });
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    if (m === null) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== this.token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let payload: Record<string, unknown> = {};
    try {
      payload = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    } catch {
      return reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid JSON' });
    }
    const method = m[2]!;
    const bad = (d: string): void => reply(400, { ok: false, error_code: 400, description: `Bad Request: ${d}` }, method, payload);
    const ok = (result: unknown): void => reply(200, { ok: true, result }, method, payload);
    const limit = this.limits.get(method);
    if (limit !== undefined && limit.count > 0) {
      limit.count--;
      return reply(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${limit.retryAfter}`, parameters: { retry_after: limit.retryAfter } }, method, payload);
    }
    switch (method) {
      case 'getMe':
        return ok({ id: this.botId, is_bot: true, first_name: 'Whalestack', username: 'whalestack_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'deleteWebhook':
      case 'setWebhook':
      case 'answerCallbackQuery':
      case 'setMyCommands':
        return ok(true);
      case 'getUpdates': {
        const offset = Number(payload.offset ?? 0);
        const timeoutSec = Number(payload.timeout ?? 0);
        const pending = (): Record<string, unknown>[] => this.updates.filter((u) => (u.update_id as number) >= offset);
        // Confirmed updates (below offset) are forgotten, as Telegram does.
        for (let i = this.updates.length - 1; i >= 0; i--) if ((this.updates[i]!.update_id as number) < offset) this.updates.splice(i, 1);
        if (pending().length === 0 && timeoutSec > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutSec * 1000);
            this.waiters.push({ offset, resolve: () => (clearTimeout(timer), resolve()) });
          });
        }
        return ok(pending().slice(0, Number(payload.limit ?? 100)));
      }
      case 'sendMessage':
      case 'editMessageText': {
        const text = String(payload.text ?? '');
        if (text.length === 0) return bad('message text is empty');
        if (text.length > 4096) return bad('message is too long');
        if (payload.parse_mode === 'HTML') {
          const problem = htmlProblem(text);
          if (problem !== undefined) return bad(`can't parse entities: ${problem}`);
        }
        const chatId = Number(payload.chat_id);
        const failures = this.chatFailures.get(chatId) ?? 0;
        if (method === 'sendMessage' && failures > 0) {
          this.chatFailures.set(chatId, failures - 1);
          return bad('chat not found');
        }
        return ok({ message_id: method === 'editMessageText' ? Number(payload.message_id) : this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: chatId > 0 ? 'private' : 'group' }, from: { id: this.botId, is_bot: true, first_name: 'Whalestack' }, text });
      }
      default:
        return bad(`method ${method} not implemented by the fake`);
    }
  }
}

/** Why Telegram's HTML parser would refuse `text`, or undefined: only b/i/code/pre tags, balanced, entities valid. */
function htmlProblem(text: string): string | undefined {
  const stack: string[] = [];
  const re = /<(\/?)([a-z]+)>|<|&(#\d+|amp|lt|gt|quot);|&/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0] === '<') return `unsupported start tag at byte offset ${m.index}`;
    if (m[0] === '&') return `raw & at offset ${m.index}`;
    if (m[2] === undefined) continue;
    if (!['b', 'i', 'code', 'pre', 'u', 's'].includes(m[2])) return `unsupported tag ${m[2]}`;
    if (m[1] === '') stack.push(m[2]);
    else if (stack.pop() !== m[2]) return `unmatched end tag ${m[2]}`;
  }
  return stack.length > 0 ? `unclosed tag ${stack.at(-1)}` : undefined;
}
