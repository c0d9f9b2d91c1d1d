import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { stringify } from 'yaml';
import { resolve as resolveGenerate } from '../../src/ops/generate.js';
import { ruleFile } from '../../src/ops/rule-files.js';
import { ROOT } from '../support/demo-build.js';
import { FULL, startDemo, type DemoProcess } from '../support/demo-process.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { parseExposition, sumOf } from '../support/prom-text.js';
import {
  freePort,
  promQuery,
  startPrometheus,
  type RunningProcess,
} from '../support/prometheus.js';
import { promtoolCheckMetrics } from '../support/promtool.js';
import { requireRedis } from '../support/redis.js';
import { report } from '../support/reliability-report.js';

// Many processes of one service: Node's cluster module and PM2 (one scrape
// answers for every worker), and several instances behind one Prometheus.

const WORKERS = 3;
const figures: Record<string, unknown> = {};
afterAll(() => report('scaleOut', figures));

interface Clustered {
  url: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<number>;
}

/** Starts example/cluster (built with the demo) under `runner`, on a free port. */
async function startClustered(runner: 'node-cluster' | 'pm2'): Promise<Clustered> {
  const port = await freePort();
  const pm2Home = mkdtempSync(join(tmpdir(), 'nestobs-pm2-'));
  const [cmd, args] =
    runner === 'node-cluster'
      ? [process.execPath, ['.demo/example/cluster/main.js']]
      : [
          process.execPath,
          [
            'node_modules/pm2/bin/pm2-runtime',
            'start',
            '.demo/example/cluster/worker.js',
            '-i',
            String(WORKERS),
          ],
        ];
  const proc = spawn(cmd, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), WORKERS: String(WORKERS), PM2_HOME: pm2Home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  // ready once a scrape adds up every worker
  await eventually(async () => {
    if (proc.exitCode !== null) throw new Error(`${runner} exited:\n${out}`);
    const res = await rawRequest(`${url}/metrics`).catch(() => undefined);
    return (
      res?.status === 200 &&
      sumOf(parseExposition(res.body), 'observability_cluster_processes') === WORKERS
    );
  }, 60_000);
  return {
    url,
    proc,
    output: () => out,
    stop: async () => {
      const start = Date.now();
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(pm2Home, { recursive: true, force: true });
      return Date.now() - start;
    },
  };
}

describe.each(['node-cluster', 'pm2'] as const)('%s with 3 workers', (runner) => {
  let app: Clustered;
  beforeAll(async () => {
    app = await startClustered(runner);
  }, 90_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('answers every scrape for all workers: counts equal the requests sent, gauges by their rule', async () => {
    const amount = FULL ? 30_000 : 3_000;
    const result = await autocannon({
      url: app.url,
      connections: 12,
      amount,
      requests: [{ path: '/orgs/acme/items' }, { path: '/orgs/acme/items/7' }],
    });
    expect(result.errors).toBe(0);
    expect(result.requests.sent).toBe(amount);
    // whichever worker answers, every scrape says the same
    const pids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const text = (await rawRequest(`${app.url}/metrics`)).body;
      const s = parseExposition(text);
      expect(sumOf(s, 'observability_cluster_processes')).toBe(WORKERS);
      // + the requests below that ask which worker answers
      expect(sumOf(s, 'http_requests_total')).toBe(amount + i);
      expect(sumOf(s, 'http_requests_total', { status: '404' })).toBe(amount / 2);
      expect(sumOf(s, 'http_request_duration_seconds_count')).toBe(amount + i);
      expect(sumOf(s, 'http_active_requests')).toBe(0);
      // process metrics: summed (prom-client's rule for them)
      expect(sumOf(s, 'process_resident_memory_bytes')).toBeGreaterThan(WORKERS * 20 * 2 ** 20);
      if (i === 0) expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
      const worker = JSON.parse((await rawRequest(`${app.url}/orgs/x/items`)).body) as {
        worker: number;
      };
      pids.add(String(worker.worker));
    }
    // the requests were spread over the workers (the cluster balances connections)
    expect(pids.size).toBeGreaterThan(1);
    const ms = await app.stop();
    expect(ms).toBeLessThan(10_000);
    figures[runner] = { workers: WORKERS, requests: amount, stopMs: ms };
  }, 180_000);
});

/** `perSecond` requests a second for `seconds` to `url`, each on its own connection; resolves with how many were answered. */
async function paced(url: string, perSecond: number, seconds: number): Promise<number> {
  const start = Date.now();
  const all: Promise<unknown>[] = [];
  for (let i = 0; i < perSecond * seconds; i++) {
    const due = start + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    all.push(rawRequest(url));
  }
  return (await Promise.all(all)).length;
}

describe('two demo instances behind one Prometheus, with the generated rules', () => {
  let a: DemoProcess;
  let b: DemoProcess;
  let prom: RunningProcess;

  beforeAll(async () => {
    await requireRedis();
    [a, b] = await Promise.all([startDemo(), startDemo()]);
    const o = resolveGenerate({ service: 'demo', selector: 'job="demo"', window: '20s' });
    prom = await startPrometheus(
      `
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ['rules.yml']
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: ['${new URL(a.url).host}', '${new URL(b.url).host}']
`,
      { 'rules.yml': stringify(ruleFile(o)) },
    );
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
  });

  it('instance labels come from Prometheus; totals, recording rules and dashboard queries add both up', async () => {
    const value = async (q: string) => Number((await promQuery(prom, q))[0]?.value[1] ?? NaN);
    // steady traffic for 25 s: 20/s to a, 10/s to b (a count, not a duration,
    // so every request sent is answered)
    const seconds = 25;
    const [sentA, sentB] = await Promise.all([
      paced(`${a.url}/orgs/acme/items`, 20, seconds),
      paced(`${b.url}/no/such/route`, 10, seconds),
    ]);
    const sel = 'job="demo",endpoint!~"/health.*"';
    await eventually(
      async () => (await value(`sum(http_requests_total{${sel}})`)) === sentA + sentB,
      15_000,
    ).catch(() => undefined);
    expect(await value(`sum(http_requests_total{${sel}})`)).toBe(sentA + sentB);
    // one series set per instance, told apart by Prometheus's instance label
    const perInstance = await promQuery(prom, `sum by (instance) (http_requests_total{${sel}})`);
    expect(perInstance.map((r) => Number(r.value[1])).sort((x, y) => x - y)).toEqual(
      [sentA, sentB].sort((x, y) => x - y),
    );
    expect(new Set(perInstance.map((r) => r.metric.instance))).toEqual(
      new Set([new URL(a.url).host, new URL(b.url).host]),
    );
    // the generated recording rule and the Overview dashboard's request-rate
    // query both see about 30 requests a second (rates are estimates: ±20 %)
    const recorded = await value('sum(job:http_requests:rate)');
    const dashboard = await value(
      'sum(rate(http_requests_total{job=~"demo",instance=~".*",endpoint!~"/health.*"}[20s]))',
    );
    figures.twoInstances = { sentA, sentB, recordedRate: recorded, dashboardRate: dashboard };
    expect(recorded).toBeGreaterThan(30 * 0.8);
    expect(recorded).toBeLessThan(30 * 1.2 + 2); // + the health polls the rule does not filter
    expect(dashboard).toBeGreaterThan(30 * 0.8);
    expect(dashboard).toBeLessThan(30 * 1.2);
  }, 120_000);
});
