import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeBybit } from '../support/fake-bybit.js';
import { Cleanups, waitFor } from '../support/wait.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/src/cli/main.js');
const SEED = 7001;
const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

/** Sends `raw` on a fresh loopback socket and returns whatever came back before the server closed (or 2 s passed). */
function rawRequest(port: number, raw: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      // One response is enough; keep-alive would otherwise hold the socket open.
      if (/\r\n\r\n/.test(got) && /content-length: (\d+)/i.test(got)) {
        const len = Number(/content-length: (\d+)/i.exec(got)![1]);
        if (got.length - got.indexOf('\r\n\r\n') - 4 >= len) done();
      }
    });
    sock.on('error', done);
    sock.on('close', done);
    sock.end(raw);
  });
}

function statusOf(response: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
  return m === null ? -1 : Number(m[1]);
}

const TARGETS = [
  'http://[',
  'http://x:99999/',
  'http://x:99999/healthz',
  'https://[::1/metrics',
  'http://%zz/',
  'http://a b/',
  'http:/',
  'http://',
  '//',
  '*',
  '/symbols/%',
  '/symbols/%E0%A4%A',
  '/symbols/%ff',
  '/%',
  '/healthz?%',
  '/symbols/' + 'A'.repeat(8000),
  'mailto:x',
  'file:///etc/passwd',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'G\u0000T', 'get', ''];
const HEADERS = ['Host: x', 'Host: ', 'Host: [', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Transfer-Encoding: chunked', 'Transfer-Encoding: bogus', 'X: \u0000', ': novalue', 'Host x', 'Expect: 100-continue', 'Connection: upgrade\r\nUpgrade: websocket'];

/** A seeded generator of malformed request heads: odd methods, absolute-form and broken targets, bad versions and headers. */
const requestArb = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.oneof(fc.constantFrom(...TARGETS), fc.string({ maxLength: 40 }).map((s) => `/${s}`), fc.string({ maxLength: 30 }).map((s) => `http://${s}`), fc.string({ unit: 'binary', maxLength: 30 })),
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', 'HTTP/1.1 extra', '', 'HTTP/'),
    fc.array(fc.oneof(fc.constantFrom(...HEADERS), fc.string({ maxLength: 30 })), { maxLength: 4 }),
    fc.constantFrom('\r\n', '\n', '\r'),
  )
  .map(([method, target, version, headers, eol]) => `${method} ${target} ${version}${eol}${headers.join(eol)}${eol}${eol}`);

describe('hostile HTTP: a raw-socket fuzz of the operator server of the built daemon', () => {
  it('answers 10,000+ malformed requests, never exits, and still serves /healthz', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT']);
    const child = spawn(process.execPath, [BIN, 'run'], {
      env: {
        PATH: process.env.PATH ?? '',
        BYBIT_WS_URL: ws.url,
        BYBIT_REST_URL: rest.baseUrl,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-http-fuzz-')),
        LOG_LEVEL: 'info',
        ESTIMATOR_BOOTSTRAP_DAYS: '0',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    });
    const port = await waitFor('operator HTTP port', () => {
      const m = /"port":(\d+)[^\n]*operator HTTP server listening/.exec(stdout);
      return m === null ? undefined : Number(m[1]);
    });

    // The defects the issue names, one by one: each answered, the process alive after each.
    const named: [string, number][] = [
      ['GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET http://x:99999/ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET /symbols/% HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: x\r\n\r\n', 200],
    ];
    for (const [raw, status] of named) {
      const res = await rawRequest(port, raw);
      expect(statusOf(res), `${JSON.stringify(raw)} → ${res.slice(0, 200)}\n${stderr}`).toBe(status);
      expect(child.exitCode, stderr).toBeNull();
    }
    const post = await rawRequest(port, 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    expect(statusOf(post)).toBe(405);
    expect(post).toMatch(/\r\nallow: GET, HEAD\r\n/i);

    const samples = fc.sample(requestArb, { seed: SEED, numRuns: 10_000 });
    const deadline = Date.now() + 90_000;
    let sent = 0;
    let answered = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (sent < samples.length && Date.now() < deadline) {
        const raw = samples[sent++]!;
        // A head the parser is still waiting on (a bare CR line ending) is abandoned after 300 ms.
        const res = await rawRequest(port, raw, 300);
        const s = statusOf(res);
        if (s > 0) answered++;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(sent, 'the fuzz ran out of time').toBe(10_000);
    expect(child.exitCode, stderr).toBeNull();
    // No 500s: every malformed request is the client's fault and is answered as such (or closed by the parser).
    expect(statuses.get(500) ?? 0, JSON.stringify([...statuses])).toBe(0);
    expect(answered).toBeGreaterThan(1000);
    console.log(`http fuzz (seed ${SEED}): ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(stderr).not.toMatch(/TypeError|URIError|uncaught/i);
  }, 150_000);
});
