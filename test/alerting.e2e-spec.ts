import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../example/stack.js';
import { dashboardSpecs } from '../src/ops/dashboards/dashboard-specs.js';
import { resolve } from '../src/ops/generate.js';
import { buildDemo } from './support/demo-build.js';
import { eventually, rawRequest } from './support/http-client.js';
import { freePort } from './support/prometheus.js';
import { deletePrefix, requireRedis } from './support/redis.js';

const root = join(__dirname, '..');
const TOKEN_TTL_S = 25;

interface Notification {
  receiver: string;
  status: string;
  at: number;
  alerts: { status: string; labels: Record<string, string> }[];
}

/** A webhook receiver standing in for Slack and PagerDuty: keeps every notification by path. */
async function startReceiver(): Promise<{ server: Server; url: string; got: Notification[] }> {
  const got: Notification[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const n = JSON.parse(body) as Omit<Notification, 'receiver' | 'at'>;
      got.push({ receiver: req.url!.slice(1), at: Date.now(), status: n.status, alerts: n.alerts });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, got };
}

/**
 * The generated rules and Alertmanager config, end to end with no mocks: a
 * real Prometheus scrapes the running demo and evaluates the rules (a test
 * profile shortens `for` and windows), a real Alertmanager routes to a local
 * webhook receiver per channel.
 */
describe('alerts from the running demo, through real Prometheus and Alertmanager', () => {
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let startedAt: number;
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-alerting-'));
  const prefix = `nestobs-alerting-${process.pid}`;
  let output = '';

  const query = async (q: string) => {
    const res = await fetch(`${stack.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    return body.data.result;
  };
  const arrived = (receiverName: string, alertname: string, match: Record<string, string> = {}) =>
    receiver.got.filter(
      (n) =>
        n.receiver === receiverName &&
        n.alerts.some(
          (a) =>
            a.status === 'firing' &&
            a.labels.alertname === alertname &&
            Object.entries(match).every(([k, v]) => a.labels[k] === v),
        ),
    );
  const receiversOf = (alertname: string, match: Record<string, string> = {}) =>
    [
      ...new Set(
        ['pagerduty', 'slack', 'watchdog'].filter((r) => arrived(r, alertname, match).length > 0),
      ),
    ].sort();

  beforeAll(async () => {
    await requireRedis();
    buildDemo();
    receiver = await startReceiver();
    const hook = (path: string) => ({ type: 'webhook' as const, url: `${receiver.url}/${path}` });
    startedAt = Date.now();
    stack = await startStack({
      dir,
      appPort: await freePort(),
      prometheusPort: await freePort(),
      alertmanagerPort: await freePort(),
      demoEntry: join(root, '.demo/example/main.js'),
      // Alerts that fire before Prometheus has found Alertmanager are resent after this delay (1m by default).
      prometheusArgs: ['--rules.alert.resend-delay=2s'],
      env: {
        DEMO_TRAFFIC: '1',
        DEMO_SQLITE: join(dir, 'demo.sqlite'),
        DEMO_QUEUE_PREFIX: prefix,
        DEMO_TOKEN_TTL_SECONDS: String(TOKEN_TTL_S),
      },
      generate: {
        window: '15s',
        forOverride: '3s',
        receivers: {
          slack: hook('slack'),
          pagerduty: hook('pagerduty'),
          watchdog: hook('watchdog'),
        },
        alertmanager: { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
        scrape: { interval: '1s' },
      },
      onOutput: (source, line) => {
        if (source !== 'app') output += `[${source}] ${line}\n`;
      },
    });
  }, 120_000);

  afterAll(async () => {
    for (const q of ['critical', 'default'])
      await rawRequest(`${stack?.appUrl}/admin/queues/${q}/resume`, { method: 'POST' }).catch(
        () => undefined,
      );
    await stack?.stop();
    receiver?.server.close();
    await deletePrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('routes the always-firing Watchdog to its own receiver only', async () => {
    await eventually(() => receiversOf('Watchdog').length > 0, 30_000);
    expect(receiversOf('Watchdog')).toEqual(['watchdog']);
  }, 40_000);

  it('fires the token alert before the token expires (Slack), then TokenExpired (PagerDuty) which inhibits it', async () => {
    // initech's refreshes fail in the demo: its token runs out TOKEN_TTL_S after start.
    await eventually(
      () => arrived('slack', 'TokenExpiringSoon', { org: 'initech' }).length > 0,
      30_000,
    );
    const first = arrived('slack', 'TokenExpiringSoon', { org: 'initech' })[0]!;
    expect(first.at).toBeLessThan(startedAt + TOKEN_TTL_S * 1000);
    expect(receiversOf('TokenExpiringSoon', { org: 'initech' })).toEqual(['slack']);
    await eventually(
      () => arrived('pagerduty', 'TokenExpired', { org: 'initech' }).length > 0,
      (TOKEN_TTL_S + 30) * 1000,
    );
    expect(receiversOf('TokenExpired', { org: 'initech' })).toEqual(['pagerduty']);
    // inhibited: Alertmanager no longer lists the initech warning as active and unsuppressed
    const res = await fetch(
      `${stack.alertmanagerUrl}/api/v2/alerts?filter=alertname%3D%22TokenExpiringSoon%22&filter=org%3D%22initech%22`,
    );
    const alerts = (await res.json()) as { status: { state: string; inhibitedBy: string[] } }[];
    expect(alerts.length).toBeGreaterThan(0);
    for (const a of alerts) expect(a.status.state).toBe('suppressed');
  }, 90_000);

  it('fires HighErrorRate on a burst of failing requests, to PagerDuty and Slack', async () => {
    const end = Date.now() + 25_000;
    const burst = (async () => {
      while (Date.now() < end && arrived('pagerduty', 'HighErrorRate').length === 0) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            rawRequest(`${stack.appUrl}/flaky`).catch(() => undefined),
          ),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await eventually(
      () =>
        arrived('pagerduty', 'HighErrorRate').length > 0 &&
        arrived('slack', 'HighErrorRate').length > 0,
      30_000,
    );
    await burst;
    expect(receiversOf('HighErrorRate')).toEqual(['pagerduty', 'slack']);
  }, 40_000);

  it('fires the critical QueueBacklog to PagerDuty only, and its warning twin is inhibited', async () => {
    for (const q of ['critical', 'default']) {
      expect(
        (await rawRequest(`${stack.appUrl}/admin/queues/${q}/pause`, { method: 'POST' })).status,
      ).toBe(201);
    }
    expect(
      (await rawRequest(`${stack.appUrl}/orgs/acme/alerts?count=150`, { method: 'POST' })).status,
    ).toBe(201);
    await eventually(
      () => arrived('pagerduty', 'QueueBacklog', { queue: 'critical' }).length > 0,
      30_000,
    );
    expect(
      (await rawRequest(`${stack.appUrl}/orgs/acme/reports?count=1100`, { method: 'POST' })).status,
    ).toBe(201);
    // The warning fires in Prometheus...
    await eventually(
      async () =>
        (await query('ALERTS{alertname="QueueBacklog",queue="default",alertstate="firing"}'))
          .length > 0,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 4000)); // a few Alertmanager group intervals
    // ...but never reaches Slack while the critical one is active.
    expect(receiversOf('QueueBacklog', { queue: 'critical' })).toEqual(['pagerduty']);
    expect(arrived('slack', 'QueueBacklog', { queue: 'default' })).toEqual([]);
  }, 90_000);

  it('answers every dashboard query without error, with data where the demo produces it', async () => {
    // Five invoices through the partner: every fifth fails, so failed calls have data.
    for (let i = 0; i < 5; i++)
      await rawRequest(`${stack.appUrl}/orgs/acme/partner/invoices`, { method: 'POST' });
    await new Promise((r) => setTimeout(r, 2500)); // two scrapes
    const o = resolve({ service: 'demo', selector: 'job="demo"' });
    const empty: string[] = [];
    for (const d of dashboardSpecs(o)) {
      for (const p of d.panels) {
        for (const q of p.queries) {
          const expr = q.expr
            .replaceAll('$__rate_interval', '15s')
            .replaceAll('$__range', '5m')
            .replaceAll('$job', '.+')
            .replaceAll('$instance', '.+');
          const result = await query(expr);
          if (result.length === 0) empty.push(`${d.title} / ${p.title}: ${q.expr}`);
        }
      }
    }
    expect(empty).toEqual([]);
  }, 30_000);

  it('has the latency exemplars in Prometheus', async () => {
    const now = Date.now() / 1000;
    const res = await fetch(
      `${stack.prometheusUrl}/api/v1/query_exemplars?query=${encodeURIComponent('http_request_duration_seconds_bucket{job="demo"}')}&start=${now - 300}&end=${now}`,
    );
    const body = (await res.json()) as {
      data: { exemplars: { labels: Record<string, string> }[] }[];
    };
    const ids = body.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  afterAll(() => {
    if (process.env.DEBUG_ALERTING) process.stderr.write(output);
  });
});
