import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { CATALOG, TraceContext } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import type { BullApp } from './support/bull-app.js';
import { PEERS_WITHOUT_TELEMETRY, ReportService, startBullApp } from './support/bull-app.js';
import { eventually, rawRequest } from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { deletePrefix, requireRedis } from './support/redis.js';

const prefix = `nestobs-test-${process.pid}-${Date.now()}`;
const counter = (
  app: BullApp,
  def: Parameters<MetricsRegistry['counter']>[0],
  labels: Record<string, string>,
) =>
  app.app
    .get(MetricsRegistry)
    .counter(def)
    .get(labels as never);

async function scrape(app: BullApp) {
  return parseExposition((await rawRequest(`${app.url}/metrics`)).body);
}

/**
 * Runs `fn` as code acting for `org` does: inside that organization's
 * context (what `BullMqTelemetry` reads when a job is added) and with
 * `data.organization` (what the fallback patches also read).
 */
const asOrg = <T>(app: BullApp, org: string, fn: () => T): T =>
  app.app.get(TraceContext).run(fn, { organization: org });

const modes = PEERS_WITHOUT_TELEMETRY
  ? (['patches'] as const)
  : (['telemetry', 'patches'] as const);

describe.each(modes)('BullMQ jobs (real Redis, via %s)', (via) => {
  let a: BullApp;

  beforeAll(async () => {
    await requireRedis();
    a = await startBullApp({ prefix: `${prefix}-${via}`, via });
  });

  afterAll(async () => {
    await a?.close();
    await deletePrefix(`${prefix}-${via}`);
  });

  it('counts N enqueued and processed jobs exactly', async () => {
    const queue = a.app.get<Queue>(getQueueToken('default'));
    const N = 12;
    await asOrg(a, 'acme', () =>
      Promise.all(Array.from({ length: N }, () => queue.add('work', { organization: 'acme' }))),
    );
    const labels = { queue: 'default', method: 'work', org: 'acme' };
    await eventually(
      () => counter(a, CATALOG.jobsCompletedTotal, { ...labels, status: 'success' }) === N,
      10000,
    );
    const samples = await scrape(a);
    expect(sumOf(samples, 'jobs_enqueued_total', labels)).toBe(N);
    expect(sumOf(samples, 'jobs_completed_total', { ...labels, status: 'success' })).toBe(N);
    expect(sumOf(samples, 'jobs_completed_total', { ...labels, status: 'failure' })).toBe(0);
    expect(
      sumOf(samples, 'jobs_duration_seconds_count', { queue: 'default', method: 'work' }),
    ).toBe(N);
    expect(sumOf(samples, 'jobs_retried_total', { queue: 'default', method: 'work' })).toBe(0);
  });

  it('a job with attempts: 3 that always fails: 2 retries, 1 failure, dlq_depth 1', async () => {
    const queue = a.app.get<Queue>(getQueueToken('default'));
    await queue.add('always-fails', {}, { attempts: 3 });
    const labels = { queue: 'default', method: 'always-fails' };
    await eventually(
      () =>
        counter(a, CATALOG.jobsCompletedTotal, { ...labels, org: 'system', status: 'failure' }) ===
        1,
      10000,
    );
    const samples = await scrape(a);
    expect(sumOf(samples, 'jobs_retried_total', labels)).toBe(2);
    expect(sumOf(samples, 'jobs_completed_total', { ...labels, status: 'failure' })).toBe(1);
    expect(sumOf(samples, 'jobs_completed_total', { ...labels, status: 'success' })).toBe(0);
    expect(sumOf(samples, 'jobs_duration_seconds_count', labels)).toBe(3);
    expect(sumOf(samples, 'dlq_depth')).toBe(1);
    // the failure is one JSON line with the error and the attempt number
    const failures = a.logs.where({ level: 'ERROR', job_name: 'always-fails' });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      error_type: 'Error',
      attempt: 3,
      attempts: 3,
      will_retry: false,
      queue: 'default',
    });
    expect(failures[0]!.stack_trace).toContain('permanent failure');
    expect(
      a.logs.where({ level: 'WARNING', job_name: 'always-fails' }).map((l) => l.attempt),
    ).toEqual([1, 2]);
  });

  it('a job that fails once then succeeds: 1 retry, 1 success', async () => {
    const queue = a.app.get<Queue>(getQueueToken('default'));
    const job = await queue.add('fails-once', {}, { attempts: 2 });
    const labels = { queue: 'default', method: 'fails-once' };
    await eventually(
      () =>
        counter(a, CATALOG.jobsCompletedTotal, { ...labels, org: 'system', status: 'success' }) ===
        1,
      10000,
    );
    expect(counter(a, CATALOG.jobsRetriedTotal, labels)).toBe(1);
    expect(
      counter(a, CATALOG.jobsCompletedTotal, { ...labels, org: 'system', status: 'failure' }),
    ).toBe(0);
    // added outside any request, the job still has one trace for both attempts
    const lines = a.logs.where({ job_id: job.id });
    expect(lines.filter((l) => l.message === 'job started: default fails-once')).toHaveLength(2);
    expect(new Set(lines.map((l) => l.trace_id)).size).toBe(1);
  });

  it('carries the trace ID of the enqueuing request into every log line of the job', async () => {
    const traceId = 'job-trace-4711';
    const res = await rawRequest(`${a.url}/enqueue`, {
      method: 'POST',
      headers: {
        'x-trace-id': traceId,
        'content-type': 'application/json',
        'x-organization': 'initech',
      },
      body: JSON.stringify({ name: 'traced' }),
    });
    expect(res.status).toBe(201);
    const id = JSON.parse(res.body).id as string;
    await eventually(
      () => a.logs.where({ job_id: id, message: 'job completed: default traced' }).length === 1,
      10000,
    );
    const jobLines = a.logs.where({ job_id: id });
    expect(jobLines.map((l) => l.message)).toEqual([
      'job started: default traced',
      'inside job',
      'job completed: default traced',
    ]);
    for (const line of jobLines) {
      expect(line.trace_id).toBe(traceId);
      expect(line.organization).toBe('initech');
      expect(line.processor).toBe('DefaultProcessor');
    }
    expect(jobLines[2]!.duration_ms).toEqual(expect.any(Number));
    // the request's organization is the job's org label
    expect(
      counter(a, CATALOG.jobsEnqueuedTotal, { queue: 'default', method: 'traced', org: 'initech' }),
    ).toBe(1);
  });

  it('gives a job enqueued outside any request a new trace ID', async () => {
    const queue = a.app.get<Queue>(getQueueToken('default'));
    const job = await queue.add('untraced', {});
    await eventually(
      () =>
        a.logs.where({ job_id: job.id, message: 'job completed: default untraced' }).length === 1,
      10000,
    );
    const ids = new Set(a.logs.where({ job_id: job.id }).map((l) => l.trace_id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('counts FlowProducer children', async () => {
    await rawRequest(`${a.url}/flow`, { method: 'POST' });
    expect(
      counter(a, CATALOG.jobsEnqueuedTotal, { queue: 'default', method: 'child', org: 'system' }),
    ).toBe(2);
    expect(
      counter(a, CATALOG.jobsEnqueuedTotal, { queue: 'critical', method: 'parent', org: 'system' }),
    ).toBe(1);
    await eventually(
      () =>
        counter(a, CATALOG.jobsCompletedTotal, {
          queue: 'critical',
          method: 'parent',
          org: 'system',
          status: 'success',
        }) === 1,
      10000,
    );
  });

  it('@InstrumentJob times plain methods, sync and async, and keeps other metadata', async () => {
    const svc = a.app.get(ReportService);
    await expect(svc.build({ organization: 'acme' })).resolves.toBe(42);
    await expect(svc.build({ organization: 'acme', fail: true })).rejects.toThrow(RangeError);
    expect(svc.syncWork(21)).toBe(42);
    const m = { queue: 'reports', method: 'ReportService.build' };
    expect(counter(a, CATALOG.jobsCompletedTotal, { ...m, org: 'acme', status: 'success' })).toBe(
      1,
    );
    expect(counter(a, CATALOG.jobsCompletedTotal, { ...m, org: 'acme', status: 'failure' })).toBe(
      1,
    );
    expect(
      counter(a, CATALOG.jobsCompletedTotal, {
        queue: 'default',
        method: 'ReportService.syncWork',
        org: 'system',
        status: 'success',
      }),
    ).toBe(1);
    expect(Reflect.getMetadata('custom:marker', ReportService.prototype.build)).toBe('kept');
    const failure = a.logs.where({ level: 'ERROR', error_type: 'RangeError' });
    expect(failure).toHaveLength(1);
    expect(failure[0]!.method).toBe('ReportService.build');
  });
});

describe('queue gauges shared by two app instances (real Redis)', () => {
  const sharedPrefix = `${prefix}-shared`;
  let a: BullApp;
  let b: BullApp;

  beforeAll(async () => {
    await requireRedis();
    a = await startBullApp({ prefix: sharedPrefix });
    b = await startBullApp({ prefix: sharedPrefix, processors: false });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await deletePrefix(sharedPrefix);
  });

  it('with no worker on the queue, 50 enqueued jobs are queue_depth 50 on both; drained, 0', async () => {
    const bulk = a.app.get<Queue>(getQueueToken('bulk'));
    for (const [org, n] of [
      ['acme', 30],
      ['globex', 20],
    ] as const) {
      await asOrg(a, org, () =>
        bulk.addBulk(
          Array.from({ length: n }, () => ({ name: 'import', data: { organization: org } })),
        ),
      );
    }
    for (const app of [a, b]) {
      const samples = await scrape(app);
      expect(sumOf(samples, 'queue_depth', { queue: 'bulk' })).toBe(50);
      expect(sumOf(samples, 'org_jobs', { queue: 'bulk', org: 'acme' })).toBe(30);
      expect(sumOf(samples, 'org_jobs', { queue: 'bulk', org: 'globex' })).toBe(20);
    }
    await bulk.drain();
    for (const app of [a, b]) {
      expect(sumOf(await scrape(app), 'queue_depth', { queue: 'bulk' })).toBe(0);
    }
  });

  it('org_jobs follows jobs to completion', async () => {
    const queue = b.app.get<Queue>(getQueueToken('default'));
    await asOrg(b, 'umbrella', () =>
      Promise.all(Array.from({ length: 5 }, () => queue.add('work', { organization: 'umbrella' }))),
    );
    await eventually(
      async () => sumOf(await scrape(b), 'org_jobs', { queue: 'default', org: 'umbrella' }) === 0,
      10000,
    );
    expect(
      counter(a, CATALOG.jobsCompletedTotal, {
        queue: 'default',
        method: 'work',
        org: 'umbrella',
        status: 'success',
      }),
    ).toBe(5);
  });
});
