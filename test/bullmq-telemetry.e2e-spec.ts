import { getQueueToken } from '@nestjs/bullmq';
import { context, propagation, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Queue, Worker } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { CATALOG } from '../src/index.js';
import { BullMqTelemetry } from '../src/bullmq/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import type { BullApp } from './support/bull-app.js';
import { startBullApp } from './support/bull-app.js';
import { eventually, rawRequest } from './support/http-client.js';
import { deletePrefix, REDIS_HOST, REDIS_PORT, requireRedis } from './support/redis.js';

const prefix = `nestobs-telemetry-${process.pid}-${Date.now()}`;
const connection = { host: REDIS_HOST, port: REDIS_PORT };

const count = (app: BullApp, def: Parameters<MetricsRegistry['counter']>[0], labels: object) =>
  app.app
    .get(MetricsRegistry)
    .counter(def)
    .get(labels as never);

describe('BullMqTelemetry with bullmq-otel as its delegate (real OpenTelemetry SDK, real Redis)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let a: BullApp;

  beforeAll(async () => {
    await requireRedis();
    provider.register();
    a = await startBullApp({
      prefix,
      bullmq: { delegate: new BullMQOtel({ tracerName: 'nestobs-test' }) },
    });
  });

  afterAll(async () => {
    await a?.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    await deletePrefix(prefix);
  });

  const spans = (name: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.name === name);

  it("keeps the delegate's spans and propagation, and this module's trace ID, metrics and logs", async () => {
    const traceId = 'delegated-4242';
    const res = await rawRequest(`${a.url}/enqueue`, {
      method: 'POST',
      headers: {
        'x-trace-id': traceId,
        'content-type': 'application/json',
        'x-organization': 'acme',
      },
      body: JSON.stringify({ name: 'otel' }),
    });
    expect(res.status).toBe(201);
    const id = JSON.parse(res.body).id as string;
    await eventually(() => spans('process default').length > 0, 10000);

    // bullmq-otel's spans are there: producer and consumer in one OTel trace
    const [add] = spans('add default.otel');
    const [processed] = spans('process default');
    expect(add).toBeDefined();
    expect(processed).toBeDefined();
    expect(processed!.spanContext().traceId).toBe(add!.spanContext().traceId);
    expect(processed!.parentSpanContext?.spanId).toBe(add!.spanContext().spanId);

    // and this module's: counts, and the request's trace ID in every line of the job
    expect(
      count(a, CATALOG.jobsEnqueuedTotal, { queue: 'default', method: 'otel', org: 'acme' }),
    ).toBe(1);
    await eventually(
      () =>
        count(a, CATALOG.jobsCompletedTotal, {
          queue: 'default',
          method: 'otel',
          org: 'acme',
          status: 'success',
        }) === 1,
      5000,
    );
    const lines = a.logs.where({ job_id: id });
    expect(lines.map((l) => l.message)).toEqual([
      'job started: default otel',
      'inside job',
      'job completed: default otel',
    ]);
    for (const l of lines) expect(l).toMatchObject({ trace_id: traceId, organization: 'acme' });
  });

  it('a job added by a producer on bullmq-otel alone continues its OpenTelemetry trace ID', async () => {
    const foreign = new Queue('default', {
      connection,
      prefix,
      telemetry: new BullMQOtel({ tracerName: 'other-service' }),
    });
    try {
      const tracer = trace.getTracer('test');
      let otelTraceId = '';
      const job = await tracer.startActiveSpan('incoming', async (span) => {
        otelTraceId = span.spanContext().traceId;
        try {
          return await foreign.add('from-otel', {});
        } finally {
          span.end();
        }
      });
      await eventually(
        () =>
          a.logs.where({ job_id: job.id, message: 'job completed: default from-otel' }).length ===
          1,
        10000,
      );
      for (const l of a.logs.where({ job_id: job.id })) expect(l.trace_id).toBe(otelTraceId);
    } finally {
      await foreign.close();
    }
  });
});

describe('BullMqTelemetry on workers created by hand (real Redis)', () => {
  let a: BullApp;
  const queues: Queue[] = [];
  const workers: Worker[] = [];

  beforeAll(async () => {
    await requireRedis();
    a = await startBullApp({ prefix: `${prefix}-plain`, processors: false });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(queues.map((q) => q.close()));
    await a?.close();
    await deletePrefix(`${prefix}-plain`);
  });

  /** A queue and a worker of the test's own, both given the module's telemetry. */
  function plain(name: string, fn: () => Promise<unknown>, observe: boolean): Queue {
    const telemetry = a.app.get(BullMqTelemetry);
    const opts = { connection, prefix: `${prefix}-plain`, telemetry };
    const worker = new Worker(name, fn, opts);
    if (observe) telemetry.observe(worker);
    worker.on('error', () => undefined);
    workers.push(worker);
    const q = new Queue(name, opts);
    queues.push(q);
    return q;
  }

  class QuotaExceeded extends Error {}

  it("logs the error's class and stack when the worker is observed, BullMQ's reason when not", async () => {
    const failing = () => Promise.reject(new QuotaExceeded('quota of acme exceeded'));
    await plain('observed', failing, true).add('charge', {}, { attempts: 2 });
    await plain('unobserved', failing, false).add('charge', {}, { attempts: 2 });
    for (const queue of ['observed', 'unobserved']) {
      await eventually(
        () =>
          count(a, CATALOG.jobsCompletedTotal, {
            queue,
            method: 'charge',
            org: 'system',
            status: 'failure',
          }) === 1,
        10000,
      );
      expect(count(a, CATALOG.jobsRetriedTotal, { queue, method: 'charge' })).toBe(1);
    }
    const [observed] = a.logs.where({ level: 'ERROR', queue: 'observed' });
    expect(observed).toMatchObject({ error_type: 'QuotaExceeded', attempt: 2, attempts: 2 });
    expect(observed!.stack_trace).toContain('bullmq-telemetry.e2e-spec');
    const [unobserved] = a.logs.where({ level: 'ERROR', queue: 'unobserved' });
    expect(unobserved!.stack_trace).toContain('quota of acme exceeded');
    expect(unobserved!.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('counts a job once when the fallback patches are on too', async () => {
    const both = await startBullApp({
      prefix: `${prefix}-both`,
      via: 'telemetry',
      bullmq: { fallbackPatches: true },
    });
    try {
      const queue = both.app.get<Queue>(getQueueToken('default'));
      await Promise.all([queue.add('once', {}), queue.add('once', {})]);
      const labels = { queue: 'default', method: 'once', org: 'system' };
      await eventually(
        () => count(both, CATALOG.jobsCompletedTotal, { ...labels, status: 'success' }) >= 2,
        10000,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(count(both, CATALOG.jobsEnqueuedTotal, labels)).toBe(2);
      expect(count(both, CATALOG.jobsCompletedTotal, { ...labels, status: 'success' })).toBe(2);
      expect(both.logs.where({ message: 'job started: default once' })).toHaveLength(2);
    } finally {
      await both.close();
      await deletePrefix(`${prefix}-both`);
    }
  });
});
