import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../src/cli/config.js';
import { createEngineMetrics } from '../src/sinks/metrics.js';

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
}

/** Every metric name the engine registers, from a registry built with empty sources. */
async function registeredMetricNames(): Promise<Set<string>> {
  const metrics = createEngineMetrics(
    { decoder: () => ({ frames: {}, bad: {} }), connections: () => [], actors: () => [], outputs: () => ({}) },
    new Registry(),
  );
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
    const dashboard = JSON.parse(read('ops/grafana/dashboards/whalestack-engine.json')) as { panels: { targets: { expr: string }[] }[] };
    exprs.push(...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) for (const name of metricNamesIn(expr)) expect(names, `${name} in ${expr}`).toContain(name);
  });

  it('the image runs the same entry point npm start builds', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    expect(read('Dockerfile')).toContain(`"${pkg.bin.whalestack}"`);
  });
});
