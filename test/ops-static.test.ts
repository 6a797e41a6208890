import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../src/cli/config.js';
import { registerDropMetrics } from '../src/sinks/drop-metrics.js';
import { registerExecutionMetrics } from '../src/sinks/execution-metrics.js';
import { createEngineMetrics } from '../src/sinks/metrics.js';
import { registerBroadcastMetrics } from '../src/sinks/notify/broadcast-channels.js';
import { registerVenueMetrics } from '../src/sinks/venue-metrics.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  command?: string[];
}

/**
 * Every metric name the daemon registers (engine, drops, trading, the Bybit venue, broadcasts), from registries
 * built with empty sources.
 */
async function registeredMetricNames(): Promise<Set<string>> {
  const metrics = createEngineMetrics(
    { decoder: () => ({ frames: {}, bad: {} }), connections: () => [], actors: () => [], outputs: () => ({}) },
    new Registry(),
  );
  const account = { balanceUsd: 0, marginUsd: 0, unrealizedPnlUsd: 0, equityUsd: 0, depositsUsd: 0, realizedPnlUsd: 0, feesUsd: 0 };
  registerDropMetrics(metrics.registry, { tape: () => undefined, oversize: () => [] });
  registerExecutionMetrics(metrics.registry, { counters: () => ({ signals: 0, ordersSent: 0, ordersFilled: 0, refused: {} }), account: () => account, openPositions: () => 0, riskMode: () => undefined });
  registerVenueMetrics(metrics.registry, 'bybit', {
    counters: () => ({ restErrorsByCode: {}, streamUp: false, streamDrops: 0, reconciliations: 0, reconciliationDifferences: 0, stopsRepaired: 0, unknownOrdersSeen: 0, rateLimitWaits: 0 }),
    lastReconciledAtMs: () => undefined,
  });
  registerBroadcastMetrics(metrics.registry, () => []);
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(whalestack_[a-z0-9_]+|nodejs_[a-z0-9_]+|process_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

const DASHBOARDS = ['whalestack-engine.json', 'whalestack-trading.json'];

/** Tables and views the migrations create (schema/*.sql), the only relations dashboard SQL may read. */
function schemaRelations(): Set<string> {
  const names = new Set<string>();
  for (const f of readdirSync(path.join(ROOT, 'schema')).filter((x) => x.endsWith('.sql'))) {
    for (const m of read(`schema/${f}`).matchAll(/CREATE (?:TABLE|MATERIALIZED VIEW)(?: IF NOT EXISTS)? ([a-z0-9_]+)/g)) names.add(m[1]!);
  }
  return names;
}

/** The Dockerfile's stages: name → its instructions (continuation lines joined). */
function dockerStages(text: string): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.replace(/\\\n\s*/g, ' ').split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(t);
    if (from) {
      current = [t];
      stages.set(from[2] ?? `stage${stages.size}`, current);
    } else current?.push(t);
  }
  return stages;
}

describe('docker-compose.yml and ops/ (static: no Docker engine here)', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

  it('declares the daemon with TimescaleDB, Redis, Prometheus and Grafana, healthchecked', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'prometheus', 'redis', 'timescaledb', 'whalestack']);
    expect(compose.services.timescaledb!.image).toMatch(/^timescale\/timescaledb:.*pg1[5-7]/);
    const app = compose.services.whalestack!;
    expect(app.build).toBe('.');
    expect(app.depends_on).toMatchObject({ timescaledb: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    for (const key of Object.keys(app.environment ?? {})) expect(CONFIG_KEYS).toContain(key);
    expect(app.environment!.DATABASE_URL).toMatch(/@timescaledb:5432\//);
    expect(app.environment!.REDIS_URL).toMatch(/^redis:\/\/redis:6379/);
  });

  it('mounts only files that exist, and named volumes that are declared', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const [src] = v.split(':');
        if (src!.startsWith('./')) expect(existsSync(path.join(ROOT, src!)), `${name}: ${src}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name}: volume ${src}`).toContain(src);
      }
    }
  });

  it('Prometheus scrapes the port the daemon listens on, and every rule and panel uses a real metric', async () => {
    const prom = parse(read('ops/prometheus/prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const port = compose.services.whalestack!.environment!.HTTP_PORT;
    expect(prom.scrape_configs[0]!.static_configs[0]!.targets).toEqual([`whalestack:${port}`]);
    const names = await registeredMetricNames();
    const rules = parse(read('ops/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    for (const file of DASHBOARDS) {
      const dashboard = JSON.parse(read(`ops/grafana/dashboards/${file}`)) as { panels: { targets?: { expr?: string }[] }[] };
      exprs.push(...dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => (t.expr !== undefined ? [t.expr] : []))));
    }
    expect(exprs.length).toBeGreaterThan(20);
    for (const expr of exprs) for (const name of metricNamesIn(expr)) expect(names, `${name} in ${expr}`).toContain(name);
  });

  it('the image runs the same entry point npm start builds', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    expect(read('Dockerfile')).toContain(`"${pkg.bin.whalestack}"`);
  });

  it('Grafana provisions Prometheus and TimescaleDB, and every panel and variable uses one of them', () => {
    const ds = parse(read('ops/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; type: string; url: string; user?: string; jsonData?: { database?: string }; secureJsonData?: { password?: string } }[] };
    const uids = new Map(ds.datasources.map((d) => [d.uid, d]));
    expect(uids.get('prometheus')?.type).toBe('prometheus');
    const tsdb = uids.get('timescaledb')!;
    expect(tsdb.type).toBe('grafana-postgresql-datasource');
    expect(tsdb.url).toBe('timescaledb:5432');
    expect(tsdb.jsonData?.database).toBe(new URL(compose.services.whalestack!.environment!.DATABASE_URL!.replace(/\$\{[^}]+\}/g, 'x')).pathname.slice(1));
    // The password comes from Grafana's environment, set by compose; never written into the file.
    expect(tsdb.secureJsonData?.password).toBe('$WHALESTACK_DB_PASSWORD');
    expect(Object.keys(compose.services.grafana!.environment!)).toEqual(expect.arrayContaining(['WHALESTACK_DB_USER', 'WHALESTACK_DB_PASSWORD']));
    const provider = parse(read('ops/grafana/provisioning/dashboards/whalestack.yml')) as { providers: { options: { path: string } }[] };
    const mounted = compose.services.grafana!.volumes!.map((v) => v.split(':'));
    expect(mounted).toContainEqual(['./ops/grafana/dashboards', provider.providers[0]!.options.path, 'ro']);
    const relations = schemaRelations();
    for (const file of DASHBOARDS) {
      const dashboard = JSON.parse(read(`ops/grafana/dashboards/${file}`)) as { uid: string; panels: { type: string; title: string; id: number; datasource?: { uid: string }; targets?: { rawSql?: string; datasource?: { uid: string } }[] }[] };
      expect(dashboard.uid).toBe(file.replace('.json', ''));
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: panel ids unique`).toBe(ids.length);
      for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
        expect(uids.has(p.datasource!.uid), `${file}: ${p.title}`).toBe(true);
        for (const t of p.targets ?? []) {
          if (t.rawSql === undefined) continue;
          expect(t.datasource?.uid ?? p.datasource!.uid).toBe('timescaledb');
          for (const m of t.rawSql.matchAll(/\b(?:FROM|JOIN)\s+(?!LATERAL\b)([a-z_][a-z0-9_]*)/gi)) {
            if (m[1]!.toLowerCase() === 'generate_series') continue;
            expect(relations, `${file}: ${p.title} reads ${m[1]}`).toContain(m[1]);
          }
        }
      }
    }
    expect(relations).toContain('market_bars_1h');
  });

  it('every service that others wait on is healthchecked, and every published port is bound to localhost', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.healthcheck?.test.length ?? 0, `${name}: healthcheck`).toBeGreaterThan(1);
      for (const port of svc.ports ?? []) expect(port, `${name}: ${port}`).toMatch(/^127\.0\.0\.1:/);
    }
    const app = compose.services.whalestack!;
    expect(app.healthcheck!.test.join(' ')).toContain(`:${app.environment!.HTTP_PORT}/healthz`);
    const prom = compose.services.prometheus!.volumes!.map((v) => v.split(':'));
    // prometheus.yml names its rule file relative to itself, so both must land in one directory.
    expect(prom).toContainEqual(['./ops/prometheus/prometheus.yml', '/etc/prometheus/prometheus.yml', 'ro']);
    expect(prom).toContainEqual(['./ops/prometheus/alerts.yml', '/etc/prometheus/alerts.yml', 'ro']);
    expect((parse(read('ops/prometheus/prometheus.yml')) as { rule_files: string[] }).rule_files).toEqual(['alerts.yml']);
  });

  it('the Dockerfile compiles in a build stage and runs production dependencies only, as a non-root user with a health check', () => {
    const stages = dockerStages(read('Dockerfile'));
    expect([...stages.keys()]).toEqual(['build', 'runtime']);
    const build = stages.get('build')!.join('\n');
    const runtime = stages.get('runtime')!.join('\n');
    expect(stages.get('build')![0]).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/);
    expect(read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:20(\.\d+)*-(bookworm-)?slim$/m);
    expect(build).toMatch(/^RUN npm ci\b(?!.*--omit=dev)/m);
    // Everything tsconfig.build.json compiles is in the build context of the build stage.
    const tsBuild = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    for (const inc of tsBuild.include) {
      const dir = inc.split('/').slice(0, inc.includes('*') ? -1 : undefined).join('/');
      expect(build, `build stage copies ${dir}`).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
    }
    expect(runtime).toMatch(/^RUN npm ci --omit=dev --ignore-scripts\b/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/src \.\/dist\/src$/m);
    expect(runtime).toMatch(/^COPY schema \.\/schema$/m);
    expect(runtime).not.toMatch(/^COPY (src|test|bench|node_modules)\b/m);
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // The user is set before the process starts, and nothing after it runs as root again.
    expect(runtime.indexOf('USER ')).toBeLessThan(runtime.indexOf('ENTRYPOINT'));
    expect(runtime).toMatch(/^HEALTHCHECK .*CMD \["node", "-e", ".*\/healthz.*"\]$/m);
    expect(runtime).toMatch(/^ENV .*HTTP_HOST=0\.0\.0\.0/m);
    // The migrator finds schema/ two levels above dist/src/sinks/db, i.e. /app/schema beside /app/dist.
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
  });

  it('.dockerignore keeps dependencies, build output, data, git and env files out of the context, but not what the build copies', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git', '.env']));
    for (const copied of ['src', 'bench', 'test/support', 'schema', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored, copied).not.toContain(copied);
      expect(existsSync(path.join(ROOT, copied)), copied).toBe(true);
    }
  });
});
