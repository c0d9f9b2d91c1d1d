import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ALERTS, notifyLabel } from '../src/ops/alerts.js';
import { resolve } from '../src/ops/generate.js';
import { ruleFile } from '../src/ops/rule-files.js';
import { requireTool } from './support/promtool.js';

/*
 * `promtool test rules` on the generated rules: for every alert a case that
 * fires, one just under its threshold, and one before its `for` elapses;
 * the traffic guard; and the multi-instance rows (pool per instance, sync
 * lag as the min over instances, Socket.IO churn summed over servers).
 * Annotations are stripped: these cases test expressions, thresholds and
 * durations (promtool check rules validates the templates).
 */

type Series = { series: string; values: string };
interface Case {
  name: string;
  alert: string;
  series: Series[];
  at: string;
  /** Expected firing alerts' labels beyond the rule's own; [] = must not fire. */
  fires: Record<string, string>[];
  interval?: string;
}

const job = 'job="app"';
const alternating = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ((i + from) % 2 ? 20 : 10)).join(' ');
const requests = (ok: string, errors: string): Series[] => [
  { series: `http_requests_total{${job},status="200"}`, values: ok },
  { series: `http_requests_total{${job},status="500"}`, values: errors },
];
const latency = (le: Record<string, string>): Series[] => [
  ...Object.entries(le).map(([b, v]) => ({
    series: `http_request_duration_seconds_bucket{${job},le="${b}"}`,
    values: v,
  })),
  { series: `http_requests_total{${job},status="200"}`, values: '0+60x40' },
];

const CASES: Case[] = [
  {
    name: '10% errors at 1 req/s',
    alert: 'HighErrorRate',
    series: requests('0+54x30', '0+6x30'),
    at: '15m',
    fires: [{ job: 'app' }],
  },
  {
    name: '4% errors',
    alert: 'HighErrorRate',
    series: requests('0+57.6x30', '0+2.4x30'),
    at: '15m',
    fires: [],
  },
  {
    name: 'errors before for elapses',
    alert: 'HighErrorRate',
    series: requests('0+54x30', '0+6x30'),
    at: '4m',
    fires: [],
  },
  {
    name: 'traffic guard: 3 req/min, one error',
    alert: 'HighErrorRate',
    series: requests('0+2x30', '0+1x30'),
    at: '15m',
    fires: [],
  },
  {
    name: 'p95 in (5s,10s]',
    alert: 'SlowRequests',
    series: latency({ '2.5': '0x40', '5': '0x40', '10': '0+60x40', '+Inf': '0+60x40' }),
    at: '20m',
    fires: [{ job: 'app' }],
  },
  {
    name: 'p95 under 2.5s',
    alert: 'SlowRequests',
    series: latency({ '2.5': '0+60x40', '5': '0+60x40', '10': '0+60x40', '+Inf': '0+60x40' }),
    at: '20m',
    fires: [],
  },
  {
    name: 'slow before for elapses',
    alert: 'SlowRequests',
    series: latency({ '2.5': '0x40', '5': '0x40', '10': '0+60x40', '+Inf': '0+60x40' }),
    at: '8m',
    fires: [],
  },
  {
    name: 'critical queue 150',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="critical"}`, values: '150x20' }],
    at: '10m',
    fires: [{ job: 'app', queue: 'critical' }],
  },
  {
    name: 'critical queue 100',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="critical"}`, values: '100x20' }],
    at: '10m',
    fires: [],
  },
  {
    name: 'critical queue before for',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="critical"}`, values: '150x20' }],
    at: '3m',
    fires: [],
  },
  {
    name: 'default queue 1001',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="default"}`, values: '1001x40' }],
    at: '20m',
    fires: [{ job: 'app', queue: 'default' }],
  },
  {
    name: 'default queue 1000',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="default"}`, values: '1000x40' }],
    at: '20m',
    fires: [],
  },
  {
    name: 'default queue before for',
    alert: 'QueueBacklog',
    series: [{ series: `queue_depth{${job},queue="default"}`, values: '1001x40' }],
    at: '10m',
    fires: [],
  },
  {
    name: 'dlq 51',
    alert: 'DLQGrowing',
    series: [{ series: `dlq_depth{${job}}`, values: '51x5' }],
    at: '1m',
    fires: [{ job: 'app' }],
  },
  {
    name: 'dlq 50',
    alert: 'DLQGrowing',
    series: [{ series: `dlq_depth{${job}}`, values: '50x5' }],
    at: '1m',
    fires: [],
  },
  {
    name: '11 failed calls/s',
    alert: 'IntegrationFailing',
    series: [
      {
        series: `integration_requests_total{${job},integration="stripe",endpoint="GET /x",status="error"}`,
        values: '0+660x10',
      },
    ],
    at: '6m',
    fires: [{ job: 'app', integration: 'stripe' }],
  },
  {
    name: '9 failed calls/s',
    alert: 'IntegrationFailing',
    series: [
      {
        series: `integration_requests_total{${job},integration="stripe",endpoint="GET /x",status="error"}`,
        values: '0+540x10',
      },
    ],
    at: '6m',
    fires: [],
  },
  {
    name: 'token in 50 min',
    alert: 'TokenExpiringSoon',
    series: [
      {
        series: `integration_token_expiry_seconds{${job},integration="stripe",org="acme"}`,
        values: '3000x5',
      },
    ],
    at: '1m',
    fires: [{ job: 'app', integration: 'stripe', org: 'acme' }],
  },
  {
    name: 'token in 60 min',
    alert: 'TokenExpiringSoon',
    series: [
      {
        series: `integration_token_expiry_seconds{${job},integration="stripe",org="acme"}`,
        values: '3600x5',
      },
    ],
    at: '1m',
    fires: [],
  },
  {
    name: 'token expired',
    alert: 'TokenExpired',
    series: [
      {
        series: `integration_token_expiry_seconds{${job},integration="stripe",org="acme"}`,
        values: '-5x5',
      },
    ],
    at: '1m',
    fires: [{ job: 'app', integration: 'stripe', org: 'acme' }],
  },
  {
    name: 'token 1 s left',
    alert: 'TokenExpired',
    series: [
      {
        series: `integration_token_expiry_seconds{${job},integration="stripe",org="acme"}`,
        values: '1x5',
      },
    ],
    at: '1m',
    fires: [],
  },
  {
    name: 'one instance of two at 100% of its pool',
    alert: 'DBConnectionPoolExhausted',
    series: [
      { series: `db_connections_active{${job},instance="a:1"}`, values: '10x20' },
      { series: `db_connections_pool_size{${job},instance="a:1"}`, values: '10x20' },
      { series: `db_connections_active{${job},instance="b:1"}`, values: '2x20' },
      { series: `db_connections_pool_size{${job},instance="b:1"}`, values: '10x20' },
    ],
    at: '10m',
    fires: [{ job: 'app', instance: 'a:1' }],
  },
  {
    name: 'pool at 90%',
    alert: 'DBConnectionPoolExhausted',
    series: [
      { series: `db_connections_active{${job},instance="a:1"}`, values: '9x20' },
      { series: `db_connections_pool_size{${job},instance="a:1"}`, values: '10x20' },
    ],
    at: '10m',
    fires: [],
  },
  {
    name: 'pool full before for',
    alert: 'DBConnectionPoolExhausted',
    series: [
      { series: `db_connections_active{${job},instance="a:1"}`, values: '10x20' },
      { series: `db_connections_pool_size{${job},instance="a:1"}`, values: '10x20' },
    ],
    at: '3m',
    fires: [],
  },
  {
    name: 'org lagging on every instance',
    alert: 'SyncLag',
    series: [
      { series: `sync_lag_seconds{${job},instance="a:1",org="acme"}`, values: '400+60x30' },
      { series: `sync_lag_seconds{${job},instance="b:1",org="acme"}`, values: '500+60x30' },
    ],
    at: '15m',
    fires: [{ job: 'app', org: 'acme' }],
  },
  {
    name: 'org synced recently on another instance (min across instances)',
    alert: 'SyncLag',
    series: [
      { series: `sync_lag_seconds{${job},instance="a:1",org="acme"}`, values: '400+60x30' },
      { series: `sync_lag_seconds{${job},instance="b:1",org="acme"}`, values: '10x30' },
    ],
    at: '15m',
    fires: [],
  },
  {
    name: 'lag 300 s',
    alert: 'SyncLag',
    series: [{ series: `sync_lag_seconds{${job},org="acme"}`, values: '300x30' }],
    at: '15m',
    fires: [],
  },
  {
    name: 'lag before for',
    alert: 'SyncLag',
    series: [{ series: `sync_lag_seconds{${job},org="acme"}`, values: '400+60x30' }],
    at: '5m',
    fires: [],
  },
  {
    name: 'churn of 60 changes on each of two servers (summed)',
    alert: 'SocketIODisconnects',
    interval: '1s',
    series: [
      {
        series: `socketio_connections{${job},server_id="s1"}`,
        values: `${alternating(61)} ${'10 '.repeat(300).trim()}`,
      },
      {
        series: `socketio_connections{${job},server_id="s2"}`,
        values: `${alternating(61, 1)} ${'20 '.repeat(300).trim()}`,
      },
    ],
    at: '2m',
    fires: [{ job: 'app' }],
  },
  {
    name: 'churn of 60 changes on one server',
    alert: 'SocketIODisconnects',
    interval: '1s',
    series: [
      {
        series: `socketio_connections{${job},server_id="s1"}`,
        values: `${alternating(61)} ${'10 '.repeat(300).trim()}`,
      },
    ],
    at: '2m',
    fires: [],
  },
  {
    name: 'target down',
    alert: 'TargetDown',
    series: [{ series: `up{${job},instance="a:1"}`, values: '0x10' }],
    at: '5m',
    fires: [{ job: 'app', instance: 'a:1' }],
  },
  {
    name: 'target up',
    alert: 'TargetDown',
    series: [{ series: `up{${job},instance="a:1"}`, values: '1x10' }],
    at: '5m',
    fires: [],
  },
  {
    name: 'target down before for',
    alert: 'TargetDown',
    series: [{ series: `up{${job},instance="a:1"}`, values: '0x10' }],
    at: '1m',
    fires: [],
  },
  {
    name: 'no target at all',
    alert: 'MetricsAbsent',
    series: [{ series: 'other_metric', values: '1x10' }],
    at: '8m',
    fires: [{}],
  },
  {
    name: 'a target exists',
    alert: 'MetricsAbsent',
    series: [{ series: `up{${job},instance="a:1"}`, values: '1x10' }],
    at: '8m',
    fires: [],
  },
  {
    name: 'absent before for',
    alert: 'MetricsAbsent',
    series: [{ series: 'other_metric', values: '1x10' }],
    at: '3m',
    fires: [],
  },
  {
    name: 'watchdog always',
    alert: 'Watchdog',
    series: [{ series: 'other_metric', values: '1x3' }],
    at: '0m',
    fires: [{}],
  },
];

describe('generated alert rules under promtool test rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('covers every alert with a firing case and a silent case', () => {
    for (const a of ALERTS) {
      const cases = CASES.filter((c) => c.alert === a.alertname);
      expect({ alert: a.key, fires: cases.some((c) => c.fires.length > 0) }).toEqual({
        alert: a.key,
        fires: true,
      });
      if (a.key !== 'watchdog')
        expect({ alert: a.key, silent: cases.some((c) => c.fires.length === 0) }).toEqual({
          alert: a.key,
          silent: true,
        });
    }
  });

  it('fires exactly where the thresholds and durations say', () => {
    const rules = ruleFile(resolve());
    for (const g of rules.groups)
      for (const r of g.rules)
        if ('annotations' in r) delete (r as { annotations?: unknown }).annotations;
    writeFileSync(join(dir, 'rules.yml'), stringify(rules));
    const ruleLabels = (alertname: string, extra: Record<string, string>) => {
      const def = ALERTS.find(
        (a) =>
          a.alertname === alertname &&
          (extra.queue === undefined || a.labels?.queue === extra.queue),
      )!;
      return { severity: def.severity, notify: notifyLabel(def), ...def.labels, ...extra };
    };
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: CASES.map((c) => ({
        name: c.name,
        interval: c.interval ?? '1m',
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: c.fires.map((f) => ({ exp_labels: ruleLabels(c.alert, f) })),
          },
        ],
      })),
    };
    writeFileSync(join(dir, 'tests.yml'), stringify(tests, { lineWidth: 0 }));
    const r = spawnSync(requireTool('promtool'), ['test', 'rules', 'tests.yml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect({ status: r.status, output: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({
      status: 0,
      output: '',
    });
  });
});
