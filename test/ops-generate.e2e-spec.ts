import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { CATALOG_DEFINITIONS } from '../src/metrics/catalog.js';
import { ALERTS } from '../src/ops/alerts.js';
import { dashboardSpecs } from '../src/ops/dashboards/dashboard-specs.js';
import {
  ALERTMANAGER_FILE,
  generate,
  PROMETHEUS_FILE,
  resolve,
  RULE_FILE,
} from '../src/ops/generate.js';
import { RECORDED } from '../src/ops/promql.js';
import { buildDemo } from './support/demo-build.js';
import { requireTool } from './support/promtool.js';

const root = join(__dirname, '..');
const deploy = join(root, 'deploy');
const out = mkdtempSync(join(tmpdir(), 'nestobs-generate-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [relative(deploy, p)];
  });
}

const run = (tool: 'promtool' | 'amtool', args: string[]) => {
  const r = spawnSync(requireTool(tool), args, { cwd: deploy, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

/** Metric names an expression reads (label names, functions and keywords left out). */
function metricsIn(expr: string): string[] {
  const cleaned = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '') // matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const words = cleaned.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  const keywords = new Set([
    'and',
    'or',
    'unless',
    'sum',
    'min',
    'max',
    'topk',
    'rate',
    'increase',
    'changes',
    'histogram_quantile',
    'absent',
    'vector',
  ]);
  return words.filter((w) => !keywords.has(w) && !/^\$/.test(w) && !/^\d/.test(w));
}

describe('generated deploy/ files', () => {
  it('deploy/ is exactly what the generator produces with default options (run npm run deploy:generate)', async () => {
    const files = await generate();
    expect(filesUnder(deploy).sort()).toEqual(files.map((f) => f.path).sort());
    for (const f of files)
      expect({ path: f.path, content: readFileSync(join(deploy, f.path), 'utf8') }).toEqual(f);
  });

  it('the CLI (the package bin) writes the same files, and options change them', () => {
    // The demo build compiles src too, inside the project (so node_modules resolve as for the bin).
    buildDemo();
    const cli = join(root, '.demo/src/ops/cli.js');
    execFileSync(process.execPath, [cli, 'generate', '--out', join(out, 'default')]);
    for (const f of filesUnder(deploy)) {
      expect({ f, text: readFileSync(join(out, 'default', f), 'utf8') }).toEqual({
        f,
        text: readFileSync(join(deploy, f), 'utf8'),
      });
    }
    writeFileSync(
      join(out, 'config.json'),
      JSON.stringify({ alerts: { syncLag: { threshold: 900, for: '20m' } } }),
    );
    execFileSync(process.execPath, [
      cli,
      'generate',
      '--out',
      join(out, 'custom'),
      '--config',
      join(out, 'config.json'),
      '--selector',
      'job="api"',
      '--service',
      'api',
    ]);
    const rules = readFileSync(join(out, 'custom', RULE_FILE), 'utf8');
    expect(rules).toContain('min by (job, org) (sync_lag_seconds{job="api"}) > 900');
    expect(rules).toContain('for: 20m');
    expect(rules).toContain('name: api-alerts');
    const bad = spawnSync(
      process.execPath,
      [cli, 'generate', '--out', join(out, 'bad'), '--window', 'soon'],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/invalid option "window"/);
  }, 60_000);

  it('passes promtool check rules (lint fatal), promtool check config and amtool check-config', () => {
    expect(
      run('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', RULE_FILE]).status,
    ).toBe(0);
    expect(run('promtool', ['check', 'config', PROMETHEUS_FILE]).status).toBe(0);
    expect(run('amtool', ['check-config', ALERTMANAGER_FILE]).status).toBe(0);
  });

  it('routes every alert to exactly the channels of the specification', () => {
    const rules = parse(readFileSync(join(deploy, RULE_FILE), 'utf8')) as {
      groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
    };
    const alerting = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerting).toHaveLength(ALERTS.length);
    for (const r of alerting) {
      const def = ALERTS.find((a) => a.alertname === r.alert && a.severity === r.labels!.severity)!;
      const expected = def.alertname === 'Watchdog' ? 'watchdog' : def.channels.join(',');
      const labels = Object.entries({ alertname: r.alert!, ...r.labels }).map(
        ([k, v]) => `${k}=${v}`,
      );
      const out = run('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_FILE}`,
        ...labels,
      ]);
      expect({
        alert: r.alert,
        severity: r.labels!.severity,
        receivers: out.output.split('\n')[0]!.trim(),
      }).toEqual({
        alert: r.alert,
        severity: r.labels!.severity,
        receivers: expected,
      });
    }
    // The specification's table, row by row.
    const channels = Object.fromEntries(
      ALERTS.map((a) => [`${a.alertname}/${a.severity}`, a.channels.join('+')]),
    );
    expect(channels).toMatchObject({
      'HighErrorRate/critical': 'pagerduty+slack',
      'SlowRequests/warning': 'slack',
      'QueueBacklog/critical': 'pagerduty',
      'QueueBacklog/warning': 'slack',
      'DLQGrowing/warning': 'slack',
      'IntegrationFailing/warning': 'slack',
      'TokenExpiringSoon/warning': 'slack',
      'TokenExpired/critical': 'pagerduty',
      'DBConnectionPoolExhausted/warning': 'slack',
      'SyncLag/warning': 'slack',
      'SocketIODisconnects/warning': 'slack',
    });
  });

  it('keeps secrets out of the Alertmanager config: files only', () => {
    const text = readFileSync(join(deploy, ALERTMANAGER_FILE), 'utf8');
    expect(text).toMatch(/routing_key_file:/);
    expect(text).toMatch(/api_url_file:/);
    expect(text).not.toMatch(/\b(api_url|routing_key|service_key|auth_password):/);
  });

  it('reads only metrics of the catalog or recording rules, in every rule and panel', () => {
    const known = new Set<string>(['up', ...Object.values(RECORDED)]);
    for (const d of CATALOG_DEFINITIONS) {
      known.add(d.name);
      if (d.type === 'histogram')
        for (const s of ['_bucket', '_sum', '_count']) known.add(d.name + s);
    }
    const o = resolve();
    const rules = parse(readFileSync(join(deploy, RULE_FILE), 'utf8')) as {
      groups: { rules: { expr: string }[] }[];
    };
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboardSpecs(o).flatMap((d) => d.panels.flatMap((p) => p.queries.map((q) => q.expr))),
    ];
    const unknown = exprs.flatMap((e) =>
      metricsIn(e)
        .filter((m) => !known.has(m))
        .map((m) => `${m} in ${e}`),
    );
    expect(unknown).toEqual([]);
  });

  describe('dashboards', () => {
    const o = resolve();
    const specs = dashboardSpecs(o);
    const json = specs.map(
      (s) =>
        JSON.parse(readFileSync(join(deploy, 'grafana/dashboards', `${s.uid}.json`), 'utf8')) as {
          title: string;
          panels: {
            id: number;
            type: string;
            title: string;
            gridPos: { x: number; y: number; w: number; h: number };
            fieldConfig?: { defaults?: { unit?: string } };
            datasource?: { uid?: string };
            targets?: { datasource?: { uid?: string }; exemplar?: boolean }[];
          }[];
          templating: { list: { name: string; type: string }[] };
        },
    );

    it('has the specification’s panels, in its visual types', () => {
      expect(json.map((d) => d.panels.map((p) => `${p.type}: ${p.title}`))).toEqual([
        [
          'timeseries: Request rate and error rate',
          'timeseries: P50/P95/P99 latency',
          'gauge: Active connections',
          'barchart: Queue depths by queue',
          'table: Top endpoints by request count',
          'table: Top errors by message',
        ],
        [
          'timeseries: Job throughput by queue',
          'timeseries: Job success/failure rate',
          'timeseries: Queue depth trends',
          'gauge: DLQ depth',
          'table: Slowest jobs',
          'piechart: Jobs by organization',
        ],
        [
          'timeseries: External call rate by integration',
          'timeseries: External call latency P95',
          'table: Token expiry countdown',
          'status-history: Circuit breaker states',
          'barchart: Failed calls by integration',
        ],
        [
          'timeseries: Sync operations by doctype',
          'timeseries: Conflict rate by strategy',
          'heatmap: Sync lag by organization',
          'gauge: Active sync connections',
        ],
      ]);
    });

    it('lays panels inside the 24-column grid without overlap, with unique ids, units, titles and the datasource variable', () => {
      for (const d of json) {
        expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
        expect(d.templating.list.map((v) => `${v.type}:${v.name}`)).toEqual([
          'datasource:datasource',
          'query:job',
          'query:instance',
        ]);
        for (const p of d.panels) {
          expect(p.title).not.toBe('');
          expect(p.fieldConfig?.defaults?.unit).toBeTruthy();
          expect(p.datasource?.uid).toBe('${datasource}');
          for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('${datasource}');
          expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        }
        for (const a of d.panels) {
          for (const b of d.panels) {
            if (a === b) continue;
            const overlap =
              a.gridPos.x < b.gridPos.x + b.gridPos.w &&
              b.gridPos.x < a.gridPos.x + a.gridPos.w &&
              a.gridPos.y < b.gridPos.y + b.gridPos.h &&
              b.gridPos.y < a.gridPos.y + a.gridPos.h;
            expect({ a: a.title, b: b.title, overlap }).toEqual({
              a: a.title,
              b: b.title,
              overlap: false,
            });
          }
        }
      }
    });

    it('shows exemplars on the latency panels', () => {
      const latency = json.flatMap((d) => d.panels).filter((p) => /latency/i.test(p.title));
      expect(latency).toHaveLength(2);
      for (const p of latency) expect(p.targets!.every((t) => t.exemplar === true)).toBe(true);
    });
  });
});
