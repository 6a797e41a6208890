import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import type { Notification } from '../src/core/notification.js';
import { createLogger } from '../src/sinks/logger.js';
import { broadcastChannelsFromConfig } from '../src/sinks/notify/broadcast-channels.js';
import { ChannelQueue, PermanentSendError } from '../src/sinks/notify/channel-queue.js';
import { XChannel } from '../src/sinks/notify/x-channel.js';
import { fakeTwilioApi, fakeXApi } from './support/fake-broadcast-apis.js';
import { wallClock } from './support/storage-db.js';
import { Cleanups, waitFor } from './support/wait.js';

const X_KEYS = { appKey: 'x-app-key-1', appSecret: 'x-app-secret-2', accessToken: '123-x-access-token-3', accessSecret: 'x-access-secret-4' };
const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'twilio-auth-token-5';
const SMTP_USER = 'alerts@example.test';
const SMTP_PASS = 'smtp-pass-6';
const SECRETS = [...Object.values(X_KEYS), TOKEN, SMTP_PASS, SID];

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

let seq = 0;
function note(kind: Notification['kind'], sensitive = false, title = `${kind} on SOLUSDT`): Notification {
  seq++;
  return {
    id: `n${seq}-${kind}`,
    kind,
    tsMs: Date.UTC(2026, 11, 7, 9, 0, seq),
    symbol: 'SOLUSDT',
    title,
    fields: sensitive ? [['PnL', '+312.40 USDT'], ['Equity', '10,312.40 USDT']] : [['Direction', 'LONG'], ['Score', '100.4'], ['Imbalance', '0.714']],
    sensitive,
  };
}

interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly data: string;
  readonly atMs: number;
}

/** A local SMTP server (smtp-server) that requires AUTH PLAIN/LOGIN and can answer 451 to the next `tempFail` messages. */
async function smtp(opts: { tempFail?: number } = {}) {
  const mails: Mail[] = [];
  const attempts: number[] = [];
  const authFailures: string[] = [];
  let tempFail = opts.tempFail ?? 0;
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASS) return cb(null, { user: auth.username });
      authFailures.push(auth.username ?? '');
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (data += d));
      stream.on('end', () => {
        attempts.push(Date.now());
        if (tempFail > 0) {
          tempFail--;
          return cb(Object.assign(new Error('Mailbox busy, try later'), { responseCode: 451 }));
        }
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data, atMs: Date.now() });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port, mails, attempts, authFailures };
}

function captureLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger('debug', sink), lines };
}

function env(extra: Record<string, string>): Record<string, string> {
  return { BROADCAST_RETRY_BASE_MS: '100', BROADCAST_RETRY_MAX_MS: '2000', BROADCAST_MAX_ATTEMPTS: '5', BROADCAST_TIMEOUT_MS: '3000', ...extra };
}

describe('broadcast channels against local servers speaking SMTP, the X API v2 and Twilio', () => {
  it('email: authenticates, groups a burst into one message with the plain-text template', async () => {
    const server = await smtp();
    const config = loadConfig(env({ SMTP_URL: `smtp://${encodeURIComponent(SMTP_USER)}:${SMTP_PASS}@127.0.0.1:${server.port}`, EMAIL_FROM: 'whalestack@example.test', EMAIL_TO: 'ops@example.test,desk@example.test' }));
    const { log, lines } = captureLog();
    const [email] = broadcastChannelsFromConfig(config, { clock: wallClock(), log });
    cleanups.push(() => email!.close());
    expect(email!.name).toBe('email');
    const signal = note('signal');
    const closed = note('trade_closed', true, 'SOLUSDT LONG closed: take-profit');
    await email!.send([signal, closed]);
    await email!.idle();
    expect(server.mails).toHaveLength(1);
    const mail = server.mails[0]!;
    expect(mail.from).toBe('whalestack@example.test');
    expect(mail.to).toEqual(['ops@example.test', 'desk@example.test']);
    expect(mail.data).toMatch(/^Subject: whalestack: 2 notifications \(signal on SOLUSDT, …\)|^Subject: =\?UTF-8\?/m);
    expect(mail.data).toContain('SOLUSDT LONG closed: take-profit');
    expect(mail.data).toContain('PnL: +312.40 USDT');
    expect(mail.data).toContain('Imbalance: 0.714');
    expect(mail.data).toContain(`X-Whalestack-Notification-Ids: ${signal.id},${closed.id}`);
    expect(server.authFailures).toEqual([]);
    expect(email!.stats()).toMatchObject({ sent: 2, failedAttempts: 0 });
    for (const s of SECRETS) expect(lines.join('')).not.toContain(s);
  });

  it('email: a wrong password is refused by the server and the batch is dropped as rejected, not retried', async () => {
    const server = await smtp();
    const config = loadConfig(env({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(server.port), SMTP_USER, SMTP_PASS: 'wrong-password', EMAIL_FROM: 'w@example.test', EMAIL_TO: 'ops@example.test' }));
    const { log, lines } = captureLog();
    const [email] = broadcastChannelsFromConfig(config, { clock: wallClock(), log });
    cleanups.push(() => email!.close());
    await email!.send([note('risk_state')]);
    await email!.idle();
    expect(server.authFailures).toEqual([SMTP_USER]);
    expect(server.mails).toEqual([]);
    expect(email!.stats()).toMatchObject({ sent: 0, rejected: 1, failedAttempts: 1, gaveUp: 0 });
    expect(lines.join('')).not.toContain('wrong-password');
  });

  it('X: POST /2/tweets with a valid OAuth 1.0a signature and {text}; never a sensitive notification', async () => {
    const api = await fakeXApi(X_KEYS);
    cleanups.push(() => api.close());
    const config = loadConfig(env({ X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: X_KEYS.appSecret, X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret, X_API_URL: api.url }));
    const { log, lines } = captureLog();
    const [x] = broadcastChannelsFromConfig(config, { clock: wallClock(), log });
    cleanups.push(() => x!.close());
    const long = { ...note('signal'), fields: Array.from({ length: 40 }, (_, i) => [`field ${i}`, 'x'.repeat(10)] as const) };
    const sensitiveClose = note('trade_closed', true);
    await x!.send([note('signal'), sensitiveClose, note('trade_closed'), note('fill'), note('risk_state'), long]);
    await x!.idle();
    expect(api.seen.map((r) => r.problem)).toEqual([undefined, undefined, undefined]);
    const texts = api.seen.map((r) => (JSON.parse(r.body) as { text: string }).text);
    expect(texts[0]).toMatch(/^signal on SOLUSDT\nDirection: LONG\nScore: 100.4\nImbalance: 0.714\n2026-12-07T09:00:\d\dZ$/);
    expect(texts[1]).toMatch(/^trade_closed on SOLUSDT\n/);
    expect(Array.from(texts[2]!).length).toBeLessThanOrEqual(280);
    expect(texts[2]!.endsWith('…')).toBe(true);
    for (const t of texts) expect(t).not.toMatch(/Equity|PnL|[0-9] USDT/);
    expect(x!.stats()).toMatchObject({ sent: 3, filtered: 3 });
    // Even handed to the channel directly, a sensitive notification is refused before any request.
    const direct = new XChannel({ ...config.broadcasts.x! });
    await expect(direct.send([sensitiveClose])).rejects.toBeInstanceOf(PermanentSendError);
    expect(api.seen).toHaveLength(3);
    // A closed trade with a public variant is posted as that variant: PnL in %, never the USDT figures.
    const publicClose: Notification = { ...sensitiveClose, id: 'closed-public', publicFields: [['PnL', '+3.12 %'], ['Held', '2h 10m']] };
    await direct.send([publicClose]);
    expect(api.seen).toHaveLength(4);
    const posted = (JSON.parse(api.seen[3]!.body) as { text: string }).text;
    expect(posted).toMatch(/^trade_closed on SOLUSDT\nPnL: \+3\.12 %\nHeld: 2h 10m\n/);
    expect(posted).not.toMatch(/USDT \(|Equity|312\.40/);
    for (const s of SECRETS) expect(lines.join('')).not.toContain(s);
  });

  it('X: wrong keys get 401, which is permanent; 503 is retried with backoff and then delivered once', async () => {
    const api = await fakeXApi(X_KEYS);
    cleanups.push(() => api.close());
    const base = env({ X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: 'not-the-secret', X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret, X_API_URL: api.url });
    const [bad] = broadcastChannelsFromConfig(loadConfig(base), { clock: wallClock(), log: captureLog().log });
    cleanups.push(() => bad!.close());
    await bad!.send([note('signal')]);
    await bad!.idle();
    expect(api.seen.map((r) => r.problem)).toEqual(['bad OAuth signature']);
    expect(bad!.stats()).toMatchObject({ rejected: 1, failedAttempts: 1 });

    api.seen.length = 0;
    api.failNext(2, 503);
    const [good] = broadcastChannelsFromConfig(loadConfig({ ...base, X_APP_SECRET: X_KEYS.appSecret }), { clock: wallClock(), log: captureLog().log, random: () => 0.5 });
    cleanups.push(() => good!.close());
    await good!.send([note('signal')]);
    await good!.idle();
    expect(api.seen).toHaveLength(3);
    expect(good!.stats()).toMatchObject({ sent: 1, failedAttempts: 2 });
    // Equal jitter with random 0.5: 75 ms, then 150 ms.
    const gaps = [api.seen[1]!.atMs - api.seen[0]!.atMs, api.seen[2]!.atMs - api.seen[1]!.atMs];
    expect(gaps[0]).toBeGreaterThanOrEqual(70);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
  });

  it('SMS: Twilio Messages.json with Basic auth and a form body (To, From, Body), one text per recipient', async () => {
    const api = await fakeTwilioApi(SID, TOKEN);
    cleanups.push(() => api.close());
    const config = loadConfig(env({ TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001,+15005550002', TWILIO_API_URL: api.url }));
    const { log, lines } = captureLog();
    const [sms] = broadcastChannelsFromConfig(config, { clock: wallClock(), log });
    cleanups.push(() => sms!.close());
    await sms!.send([note('signal'), note('risk_state', false, 'Risk state HALTED: daily loss limit')]);
    await sms!.idle();
    expect(api.seen.map((r) => r.problem)).toEqual([undefined, undefined]);
    const forms = api.seen.map((r) => new URLSearchParams(r.body));
    expect(forms.map((f) => f.get('To'))).toEqual(['+15005550001', '+15005550002']);
    expect(forms.every((f) => f.get('From') === '+15005550006')).toBe(true);
    expect(forms[0]!.get('Body')).toMatch(/^Risk state HALTED: daily loss limit\nDirection: LONG/);
    expect(sms!.stats()).toMatchObject({ sent: 1, filtered: 1 });
    for (const s of SECRETS) expect(lines.join('')).not.toContain(s);
  });

  it('a channel that is down retries with growing delays and never holds up the others', async () => {
    const server = await smtp({ tempFail: 3 });
    const xApi = await fakeXApi(X_KEYS);
    cleanups.push(() => xApi.close());
    const twilioApi = await fakeTwilioApi(SID, TOKEN);
    twilioApi.failNext(1_000, 503); // Twilio is down for the whole test
    cleanups.push(() => twilioApi.close());
    const config = loadConfig(
      env({
        SMTP_HOST: '127.0.0.1', SMTP_PORT: String(server.port), SMTP_USER, SMTP_PASS, EMAIL_FROM: 'w@example.test', EMAIL_TO: 'ops@example.test',
        X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: X_KEYS.appSecret, X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret, X_API_URL: xApi.url,
        TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001', TWILIO_API_URL: twilioApi.url,
        BROADCAST_MAX_ATTEMPTS: '4', SMS_KINDS: 'signal,trade_closed',
      }),
    );
    const registry = new Registry();
    const queues = broadcastChannelsFromConfig(config, { clock: wallClock(), log: captureLog().log, registry, random: () => 0.5 });
    for (const q of queues) cleanups.push(() => q.close(100));
    expect(queues.map((q) => q.name)).toEqual(['email', 'x', 'sms']);
    const startedMs = Date.now();
    const burst = [note('signal'), note('trade_closed'), note('signal')];
    for (const q of queues) await q.send(burst);
    const [email, x, sms] = queues as [ChannelQueue, ChannelQueue, ChannelQueue];
    // send only enqueued: nothing is delivered yet, everything is held by the queues
    expect(queues.map((q) => q.stats().sent)).toEqual([0, 0, 0]);
    expect(queues.map((q) => q.stats().queued + q.stats().inFlight)).toEqual([3, 3, 3]);
    await x.idle();
    const xDoneMs = Date.now() - startedMs;
    expect(xApi.seen).toHaveLength(3);
    expect(server.mails).toHaveLength(0); // email is still backing off while X is done
    await email.idle();
    expect(server.mails).toHaveLength(1);
    const gaps = server.attempts.slice(1).map((t, i) => t - server.attempts[i]!);
    expect(gaps).toHaveLength(3);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]).toBeGreaterThan(gaps[1]!);
    expect(xDoneMs).toBeLessThan(gaps[0]! + gaps[1]!);
    await sms.idle();
    expect(sms.stats()).toMatchObject({ sent: 0, failedAttempts: 4, gaveUp: 3 });
    const metrics = await registry.metrics();
    expect(metrics).toContain('whalestack_broadcast_sent_total{channel="x"} 3');
    expect(metrics).toContain('whalestack_broadcast_sent_total{channel="email"} 3');
    expect(metrics).toContain('whalestack_broadcast_dropped_total{channel="sms",reason="gave_up"} 3');
    expect(metrics).toContain('whalestack_broadcast_failures_total{channel="email"} 3');
  });

  it('a full queue drops its oldest notifications, counts them, and every offer is accounted for', async () => {
    const { log, lines } = captureLog();
    let release: () => void = () => undefined;
    const delivered: string[] = [];
    const stuck = {
      name: 'stuck',
      accepts: (n: Notification) => n.kind !== 'fill',
      send: async (batch: readonly Notification[]) => {
        await new Promise<void>((r) => (release = r));
        delivered.push(...batch.map((n) => n.id));
      },
      close: async () => undefined,
    };
    const q = new ChannelQueue(stuck, { clock: wallClock(), log, capacity: 3, maxBatch: 1, retryBaseMs: 10, retryMaxMs: 10, maxAttempts: 1 });
    const offered = Array.from({ length: 10 }, (_, i) => note(i === 4 ? 'fill' : 'signal'));
    await q.send(offered);
    const s = q.stats();
    expect(s).toMatchObject({ offered: 10, filtered: 1, inFlight: 1, queued: 2, overflow: 6 });
    expect(s.offered).toBe(s.filtered + s.sent + s.queued + s.inFlight + s.overflow + s.gaveUp + s.rejected + s.shutdown);
    for (let i = 0; i < 3; i++) {
      release();
      await waitFor('next delivery', () => delivered.length === i + 1);
    }
    await q.idle();
    expect(delivered).toEqual([offered[7]!.id, offered[8]!.id, offered[9]!.id]);
    expect(lines.filter((l) => l.includes('queue full'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('6 notifications were dropped while the queue was full'))).toBe(true);
  });
});

describe('broadcast settings', () => {
  it('every channel is off by default', () => {
    expect(loadConfig({}).broadcasts).toMatchObject({ email: undefined, x: undefined, sms: undefined, queue: { capacity: 1000, maxAttempts: 8 } });
  });

  it('refuses half-configured channels, unknown kinds and secrets in a config file, one line each', () => {
    const problems = (e: Record<string, string>) => {
      try {
        loadConfig(e);
        return [];
      } catch (err) {
        return (err as { problems: string[] }).problems;
      }
    };
    expect(problems({ EMAIL_TO: 'ops@example.test' })).toEqual([
      'EMAIL_TO/EMAIL_FROM/SMTP_USER are set but no SMTP server: set SMTP_URL or SMTP_HOST',
      'EMAIL_FROM: email is configured but has no sender address',
    ]);
    expect(problems({ X_APP_KEY: 'k', X_ACCESS_TOKEN: 't' })).toEqual(['X_APP_SECRET: X posting needs all four OAuth 1.0a user-context keys (missing: X_APP_SECRET, X_ACCESS_SECRET)']);
    expect(problems({ TWILIO_ACCOUNT_SID: 'nope', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001' })).toEqual(['TWILIO_ACCOUNT_SID: must be a Twilio account SID (AC followed by 32 hex digits)']);
    expect(problems({ X_KINDS: 'signal,pnl' })[0]).toMatch(/^X_KINDS: unknown notification kind 'pnl'/);
    expect(problems({ TWILIO_TO: '5550001' })[0]).toMatch(/^TWILIO_TO: must be a comma-separated list of E.164 numbers/);
    expect(problems({ SMTP_URL: 'http://mail.example.test' })[0]).toMatch(/^SMTP_URL: must be a URL starting with smtp:\/\/ or smtps:\/\//);
    expect(problems({ BROADCAST_RETRY_BASE_MS: '5000', BROADCAST_RETRY_MAX_MS: '1000' })).toEqual(['BROADCAST_RETRY_MAX_MS: must be ≥ BROADCAST_RETRY_BASE_MS (5000)']);
  });

  it('SMTP_URL carries host, port, TLS and credentials; smtps defaults to 465', () => {
    const email = loadConfig({ SMTP_URL: 'smtps://u%40x:p%3Ass@mail.example.test', EMAIL_FROM: 'a@b.c', EMAIL_TO: 'd@e.f' }).broadcasts.email!;
    expect(email).toMatchObject({ host: 'mail.example.test', port: 465, secure: true, user: 'u@x', pass: 'p:ss', to: ['d@e.f'] });
    expect([...email.kinds]).toHaveLength(10);
    const plain = loadConfig({ SMTP_HOST: 'mail.example.test', EMAIL_FROM: 'a@b.c', EMAIL_TO: 'd@e.f' }).broadcasts.email!;
    expect(plain).toMatchObject({ port: 587, secure: false, user: undefined });
  });

  it('the loaded configuration logged whole shows none of the broadcast secrets', () => {
    const config = loadConfig({
      SMTP_HOST: 'mail.example.test', SMTP_USER, SMTP_PASS, EMAIL_FROM: 'a@b.c', EMAIL_TO: 'd@e.f',
      X_APP_KEY: X_KEYS.appKey, X_APP_SECRET: X_KEYS.appSecret, X_ACCESS_TOKEN: X_KEYS.accessToken, X_ACCESS_SECRET: X_KEYS.accessSecret,
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: '+15005550006', TWILIO_TO: '+15005550001',
    });
    const { log, lines } = captureLog();
    log.info({ config }, 'config');
    expect(lines.join('')).toContain('mail.example.test');
    for (const s of SECRETS) expect(lines.join('')).not.toContain(s);
  });
});
