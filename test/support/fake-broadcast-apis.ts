import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a fake API accepted or refused, for the test to inspect. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly atMs: number;
  readonly problem?: string;
}

export interface FakeApi {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Answer the next `n` well-formed requests with this status (e.g. 503 = down, 429 = rate limit). */
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

/** RFC 3986 percent-encoding, as OAuth 1.0a (RFC 5849 §3.6) requires. */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Checks an OAuth 1.0a HMAC-SHA1 Authorization header the way X does for user-context requests (RFC 5849 §3.4):
 * the signature base string is the method, the base URL and the sorted oauth_* and query parameters; a JSON body
 * is not part of it. Returns a problem, or undefined when the header is valid for these keys.
 */
export function checkOAuth1(method: string, url: URL, header: string | undefined, keys: { appKey: string; appSecret: string; accessToken: string; accessSecret: string }): string | undefined {
  if (header === undefined || !header.startsWith('OAuth ')) return 'no OAuth Authorization header';
  const params = new Map<string, string>();
  for (const m of header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g)) params.set(m[1]!, decodeURIComponent(m[2]!));
  for (const required of ['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_token', 'oauth_version']) {
    if (!params.has(required)) return `Authorization lacks ${required}`;
  }
  if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return 'signature method is not HMAC-SHA1';
  if (params.get('oauth_version') !== '1.0') return 'oauth_version is not 1.0';
  if (params.get('oauth_consumer_key') !== keys.appKey) return 'wrong consumer key';
  if (params.get('oauth_token') !== keys.accessToken) return 'wrong access token';
  if (Math.abs(Number(params.get('oauth_timestamp')) - Date.now() / 1000) > 300) return 'timestamp off by more than 5 minutes';
  const signed: [string, string][] = [...params].filter(([k]) => k !== 'oauth_signature');
  for (const [k, v] of url.searchParams) signed.push([k, v]);
  const paramString = signed
    .map(([k, v]) => [enc(k), enc(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const base = `${method.toUpperCase()}&${enc(`${url.protocol}//${url.host}${url.pathname}`)}&${enc(paramString)}`;
  const expected = createHmac('sha1', `${enc(keys.appSecret)}&${enc(keys.accessSecret)}`).update(base).digest();
  const got = Buffer.from(params.get('oauth_signature')!, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected) ? undefined : 'bad OAuth signature';
}

async function serve(handler: (req: http.IncomingMessage, body: string, url: URL) => { status: number; json: unknown; problem?: string }): Promise<FakeApi> {
  const seen: SeenRequest[] = [];
  let failures = 0;
  let failStatus = 503;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      let out = handler(req, body, url);
      if (out.problem === undefined && failures > 0) {
        failures--;
        out = { status: failStatus, json: { title: 'Service Unavailable', detail: 'try again later', status: failStatus } };
      }
      seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body, atMs: Date.now(), ...(out.problem !== undefined ? { problem: out.problem } : {}) });
      res.writeHead(out.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    failNext(n, status) {
      failures = n;
      failStatus = status;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * The X API v2's `POST /2/tweets` as documented: OAuth 1.0a user context, `Content-Type: application/json`, body
 * `{"text": …}` of at most 280 characters; 201 with `{data: {id, text}}`. Anything else gets X's 4xx shapes.
 */
export function fakeXApi(keys: { appKey: string; appSecret: string; accessToken: string; accessSecret: string }): Promise<FakeApi> {
  let nextId = 1_800_000_000_000_000_000n;
  return serve((req, body, url) => {
    if (req.method !== 'POST' || url.pathname !== '/2/tweets') return { status: 404, json: { title: 'Not Found Error', status: 404 }, problem: `unexpected ${req.method} ${url.pathname}` };
    const authProblem = checkOAuth1(req.method, url, req.headers.authorization, keys);
    if (authProblem !== undefined) return { status: 401, json: { title: 'Unauthorized', status: 401, detail: authProblem }, problem: authProblem };
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return { status: 400, json: { title: 'Invalid Request' }, problem: 'content-type is not JSON' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { status: 400, json: { title: 'Invalid Request' }, problem: 'body is not JSON' };
    }
    const text = (parsed as { text?: unknown }).text;
    if (typeof text !== 'string' || text.length === 0 || Array.from(text).length > 280) return { status: 400, json: { title: 'Invalid Request', detail: 'text' }, problem: `bad text ${JSON.stringify(text)}` };
    nextId++;
    return { status: 201, json: { data: { id: String(nextId), text, edit_history_tweet_ids: [String(nextId)] } } };
  });
}

/**
 * Twilio's `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: HTTP Basic auth (account SID : auth token), a
 * form-encoded body with `To`, `From` and `Body`; 201 with the message resource, 401 with Twilio's error shape.
 */
export function fakeTwilioApi(accountSid: string, authToken: string): Promise<FakeApi> {
  let seq = 0;
  return serve((req, body, url) => {
    if (req.method !== 'POST' || url.pathname !== `/2010-04-01/Accounts/${accountSid}/Messages.json`) return { status: 404, json: { code: 20404, message: 'not found', status: 404 }, problem: `unexpected ${req.method} ${url.pathname}` };
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return { status: 401, json: { code: 20003, message: 'Authenticate', status: 401 }, problem: 'bad Basic auth' };
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return { status: 400, json: { code: 21000, message: 'form body expected', status: 400 }, problem: 'not a form body' };
    const form = new URLSearchParams(body);
    const to = form.get('To');
    const from = form.get('From');
    const text = form.get('Body');
    if (to === null || from === null || text === null || text.length > 1600) return { status: 400, json: { code: 21602, message: 'Message body is required.', status: 400 }, problem: 'missing To/From/Body' };
    seq++;
    const sid = `SM${seq.toString(16).padStart(32, '0')}`;
    return { status: 201, json: { sid, account_sid: accountSid, to, from, body: text, status: 'queued', num_segments: '1', direction: 'outbound-api', api_version: '2010-04-01', date_created: new Date().toUTCString(), uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json` } };
  });
}
