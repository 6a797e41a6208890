import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { FakeBybitRest, instrumentRow } from './support/fake-bybit-rest.js';
import { FakeBybitWs, tickerSnapshotFrame } from './support/fake-bybit-ws.js';
import { ROOT, spawnCli, type CliProcess } from './support/run-cli.js';
import { pgAvailable } from './support/services.js';
import { createTestDatabase, type TestDatabase } from './support/storage-db.js';
import { findTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
const promtool = findTool('promtool');
const prometheus = findTool('prometheus');
const OPS = path.join(ROOT, 'ops/prometheus');

describe.runIf(promtool !== undefined)('promtool on ops/prometheus', () => {
  it('the configuration and its rule file pass promtool check config', async () => {
    const { stdout } = await run(promtool!, ['check', 'config', path.join(OPS, 'prometheus.yml')]);
    expect(stdout).toMatch(/SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the alert rules pass promtool check rules', async () => {
    const { stdout } = await run(promtool!, ['check', 'rules', path.join(OPS, 'alerts.yml')]);
    expect(stdout).toMatch(/SUCCESS: 9 rules found/);
  });

  it('the alert rules pass their unit tests (promtool test rules alerts.test.yml)', async () => {
    const { stdout } = await run(promtool!, ['test', 'rules', path.join(OPS, 'alerts.test.yml')]);
    expect(stdout).toContain('SUCCESS');
  });

  it('a broken expectation fails promtool test rules (the unit tests can fail)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ws-promtool-'));
    try {
      writeFileSync(path.join(dir, 'alerts.yml'), readFileSync(path.join(OPS, 'alerts.yml')));
      writeFileSync(path.join(dir, 'alerts.test.yml'), readFileSync(path.join(OPS, 'alerts.test.yml'), 'utf8').replace('connection: bybit-ws-1 }', 'connection: bybit-ws-2 }'));
      await expect(run(promtool!, ['test', 'rules', path.join(dir, 'alerts.test.yml')])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/FAILED[\s\S]*bybit-ws-2/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface PromResult { status: string; data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string }

describe.runIf(prometheus !== undefined)('a real Prometheus scrapes the running daemon', () => {
  let rest: FakeBybitRest;
  let ws: FakeBybitWs;
  let daemon: CliProcess;
  let prom: ChildProcess;
  let promOut = '';
  let promUrl: string;
  let tdb: TestDatabase | undefined;
  const dirs: string[] = [];
  const config = parse(readFileSync(path.join(OPS, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; rule_files: string[] };
  const job = config.scrape_configs[0]!.job_name;

  beforeAll(async () => {
    rest = await FakeBybitRest.start();
    rest.instruments = [instrumentRow('BTCUSDT'), instrumentRow('ETHUSDT')];
    ws = await FakeBybitWs.start();
    const httpPort = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ws-prom-daemon-'));
    dirs.push(dataDir);
    if (pgAvailable) tdb = await createTestDatabase();
    // The simulator/paper defaults: no keys, paper trading, only the exchange URLs point at the local servers.
    daemon = spawnCli(['run'], {
      BYBIT_WS_URL: ws.url, BYBIT_REST_URL: rest.baseUrl, HTTP_PORT: String(httpPort), DATA_DIR: dataDir, ESTIMATOR_BOOTSTRAP_DAYS: '0', LOG_LEVEL: 'warn',
      ...(tdb !== undefined ? { DATABASE_URL: tdb.url } : {}),
    });
    await waitFor('daemon /healthz', async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`).then((r) => r.ok).catch(() => false)) || undefined, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${daemon.output()}`);
    });
    ws.push('tickers.BTCUSDT', tickerSnapshotFrame('BTCUSDT', Date.now(), 65000));

    // The repository's scrape job and rule file, pointed at this daemon, scraping every second.
    const promDir = mkdtempSync(path.join(tmpdir(), 'ws-prom-'));
    dirs.push(promDir);
    config.scrape_configs[0]!.static_configs = [{ targets: [`127.0.0.1:${httpPort}`] }];
    const generated = { ...config, global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: config.rule_files.map((f) => path.join(OPS, f)) };
    writeFileSync(path.join(promDir, 'prometheus.yml'), stringify(generated));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn(prometheus!, [`--config.file=${path.join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => (promOut += String(d)));
    prom.stderr!.on('data', (d) => (promOut += String(d)));
    await waitFor('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`).then((r) => r.ok).catch(() => false)) || undefined, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${promOut}`);
    });
  }, 120_000);

  afterAll(async () => {
    if (prom !== undefined && prom.exitCode === null) {
      const gone = new Promise((r) => prom.once('close', r));
      prom.kill('SIGTERM');
      await gone;
    }
    await daemon?.stop();
    await ws?.stop();
    await rest?.stop();
    await tdb?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  const query = async (q: string): Promise<PromResult> => (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as PromResult;

  it(`reports up{job="whalestack"} == 1 and the daemon's own metrics`, async () => {
    const up = await waitFor(`up{job="${job}"} == 1`, async () => {
      const r = await query(`up{job="${job}"}`);
      return r.data.result[0]?.value[1] === '1' ? r : undefined;
    }, 60_000);
    expect(up.data.result).toHaveLength(1);
    const frames = await waitFor('whalestack_frames_total in Prometheus', async () => {
      const r = await query('sum(whalestack_frames_total)');
      return r.data.result.length === 1 && Number(r.data.result[0]!.value[1]) >= 1 ? r : undefined;
    }, 30_000);
    expect(Number(frames.data.result[0]!.value[1])).toBeGreaterThanOrEqual(1);
    const equity = await query('whalestack_equity_usd');
    expect(Number(equity.data.result[0]?.value[1])).toBe(10_000);
  }, 90_000);

  it('loads the alert rules, and every PromQL expression of the dashboards parses and evaluates', async () => {
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(9);
    for (const dashboard of ['whalestack-engine.json', 'whalestack-trading.json']) {
      const json = JSON.parse(readFileSync(path.join(ROOT, 'ops/grafana/dashboards', dashboard), 'utf8')) as { panels: { targets?: { expr?: string }[] }[] };
      const exprs = json.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr !== undefined ? [t.expr] : [])));
      expect(exprs.length).toBeGreaterThan(3);
      for (const expr of exprs) {
        const r = await query(expr.replaceAll('$__range', '5m').replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s'));
        expect(r.status, `${dashboard}: ${expr}: ${r.error ?? ''}`).toBe('success');
      }
    }
    expect(loaded.every((r) => r.health !== 'err')).toBe(true);
  }, 60_000);
});
