import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/cli/config.js';
import { startDaemon } from '../../src/cli/run.js';
import { createLogger, redactUrl, redactUrlsIn } from '../../src/sinks/logger.js';
import { startFakeBybit } from '../support/fake-bybit.js';
import { tickerSnapshotFrame } from '../support/fake-bybit-ws.js';
import { Cleanups, waitFor } from '../support/wait.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.runAll());

const SECRETS = ['ws-pass-S3CRET', 'wsuser-S3CRET', 'rest-pass-S3CRET', 'cg-pass-S3CRET', 'tok-S3CRET'];

function withCreds(url: string, user: string, pass: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = pass;
  return u.toString().replace(/\/$/, '');
}

describe('credentials inside URLs are redacted everywhere', () => {
  it('redactUrl and redactUrlsIn blank userinfo and secret query parameters, and keep the rest', () => {
    expect(redactUrl('wss://u:p@stream.bybit.com/v5/public/linear')).toBe('wss://redacted:redacted@stream.bybit.com/v5/public/linear');
    expect(redactUrl('https://tok-S3CRET@api.bybit.com')).toBe('https://redacted@api.bybit.com/');
    expect(redactUrl('https://h/x?api_key=tok-S3CRET&limit=5')).toBe('https://h/x?api_key=redacted&limit=5');
    expect(redactUrl('https://api.bybit.com/v5')).toBe('https://api.bybit.com/v5');
    expect(redactUrlsIn('connect to wss://a:ws-pass-S3CRET@h:1/x failed; retry "https://b:rest-pass-S3CRET@h/y"')).toBe(
      'connect to wss://redacted:redacted@h:1/x failed; retry "https://redacted:redacted@h/y"',
    );
    expect(redactUrlsIn('plain text, http://example.com/path and no secret')).toBe('plain text, http://example.com/path and no secret');
  });

  it('a bad URL setting is refused without echoing its credentials', () => {
    try {
      loadConfig({ BYBIT_WS_URL: 'https://wsuser-S3CRET:ws-pass-S3CRET@h/x' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      expect(text).toMatch(/BYBIT_WS_URL/);
      for (const s of SECRETS) expect(text).not.toContain(s);
    }
  });

  it('a daemon started with user:pass in every URL never writes them to a log line, a tape byte or an HTTP answer', async () => {
    const { rest, ws } = await startFakeBybit(cleanups, ['BTCUSDT', 'ETHUSDT']);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('trace', sink);
    const tapeDir = mkdtempSync(path.join(tmpdir(), 'ws-hostile-secret-tape-'));
    const config = loadConfig({
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ws-hostile-secret-data-')),
      BYBIT_WS_URL: withCreds(ws.url, 'wsuser-S3CRET', 'ws-pass-S3CRET'),
      BYBIT_REST_URL: withCreds(rest.baseUrl, 'restuser', 'rest-pass-S3CRET'),
      // Unreachable on purpose: its network failures are logged, with the URL in reach of the error text.
      COINGLASS_URL: 'http://cguser:cg-pass-S3CRET@127.0.0.1:1',
      COINGLASS_API_KEY: 'cg-key-value',
      HTTP_PORT: '0',
      ESTIMATOR_BOOTSTRAP_DAYS: '1',
    });
    const d = await startDaemon(config, log, { recordDir: tapeDir });
    cleanups.push(() => d.close());
    const get = async (p: string) => (await fetch(`http://127.0.0.1:${d.port}${p}`)).text();
    await waitFor('readiness', async () => ((await fetch(`http://127.0.0.1:${d.port}/readyz`)).status === 200 ? true : undefined));
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', Date.now(), 101));
    await waitFor('a CoinGlass failure', () => lines.some((l) => /coinglass/i.test(l) && /unreachable|network|failed/i.test(l)) || undefined);
    const answers = await Promise.all(['/metrics', '/readyz', '/healthz', '/symbols', '/symbols/BTCUSDT', '/rankings'].map(get));
    await d.close();

    const logText = lines.join('');
    expect(logText).toContain('operator HTTP server listening');
    expect(logText).toContain('redacted');
    const tapeFiles = readdirSync(tapeDir).filter((f) => f.endsWith('.gz'));
    expect(tapeFiles.length).toBeGreaterThan(0);
    const tapeText = tapeFiles.map((f) => gunzipSync(readFileSync(path.join(tapeDir, f))).toString('utf8')).join('');
    expect(tapeText).toContain('"wsUrl":"ws://redacted:redacted@127.0.0.1');
    for (const secret of [...SECRETS, 'restuser', 'cguser']) {
      expect(logText, `log: ${secret}`).not.toContain(secret);
      expect(tapeText, `tape: ${secret}`).not.toContain(secret);
      for (const a of answers) expect(a, `http: ${secret}`).not.toContain(secret);
    }
  });
});
