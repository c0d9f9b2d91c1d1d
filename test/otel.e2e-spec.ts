import { createRequire } from 'node:module';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { BullApp } from './support/bull-app.js';
import { startBullApp } from './support/bull-app.js';
import { eventually, rawRequest } from './support/http-client.js';
import { deletePrefix, requireRedis } from './support/redis.js';
import type { TestApp } from './support/test-app.js';
import { ADAPTERS, startTestApp } from './support/test-app.js';

/**
 * An app that already runs the OpenTelemetry SDK with its HTTP
 * instrumentation: one trace ID for the log lines, the exemplar and the
 * exported server span, and for a job the request enqueued.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// (the test's own requests are no client spans: they would inject their own traceparent)
const instrumentation = new HttpInstrumentation({ ignoreOutgoingRequestHook: () => true });
let unregister: () => void;

interface ModuleDefinition {
  name: string;
  patch?: (exports: unknown, version?: string) => unknown;
  unpatch?: (exports: unknown, version?: string) => void;
}
const httpDefinition = () =>
  (instrumentation as unknown as { getModuleDefinitions(): ModuleDefinition[] })
    .getModuleDefinitions()
    .find((d) => d.name === 'http')!;
const nodeHttp = createRequire(__filename)('http') as unknown;

beforeAll(() => {
  provider.register();
  unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [instrumentation],
  });
  // In an app the SDK is loaded first and the instrumentation patches
  // http.Server when http is required; Jest's module system bypasses that
  // require hook, so its patch is applied here, to the real http module.
  httpDefinition().patch?.(nodeHttp, process.versions.node);
});

afterAll(async () => {
  httpDefinition().unpatch?.(nodeHttp, process.versions.node);
  unregister();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** The exported server span of the request to `path`. */
async function serverSpan(path: string): Promise<ReadableSpan> {
  let found: ReadableSpan | undefined;
  await eventually(() => {
    found = exporter
      .getFinishedSpans()
      .find(
        (s) =>
          s.kind === SpanKind.SERVER &&
          String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').startsWith(path),
      );
    return found !== undefined;
  }, 5000);
  return found!;
}

/** The trace ID of the exemplar on the latency histogram for `endpoint`. */
function exemplarTraceIds(openMetrics: string, endpoint: string): string[] {
  return openMetrics
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('http_request_duration_seconds_bucket{') &&
        l.includes(`endpoint="${endpoint}"`) &&
        l.includes(' # {'),
    )
    .map((l) => /trace_id="([^"]+)"/.exec(l)?.[1] ?? '');
}

describe.each(ADAPTERS)('OpenTelemetry SDK in the app (%s)', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });

  afterAll(async () => {
    await t?.close();
  });

  beforeEach(() => exporter.reset());

  it("the request's log lines, its exemplar and the server span share one trace ID", async () => {
    const res = await rawRequest(`${t.url}/trace`);
    expect(res.status).toBe(200);
    const span = await serverSpan('/trace');
    const { traceId, spanId } = span.spanContext();
    // what the app saw, and what it echoed
    expect(JSON.parse(res.body).traceId).toBe(traceId);
    expect(res.headers['x-trace-id']).toBe(traceId);
    // every line of the request, the access line included
    const lines = t.logs.lines.filter((l) => l.trace_id === traceId);
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['before await', 'after await', 'GET /trace 200']),
    );
    for (const l of lines) expect(l.span_id).toBe(spanId);
    const om = await rawRequest(`${t.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(exemplarTraceIds(om.body, '/trace')).toContain(traceId);
  });

  it('an incoming traceparent gives the same trace ID to both', async () => {
    const tid = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await rawRequest(`${t.url}/trace`, {
      headers: { traceparent: `00-${tid}-00f067aa0ba902b7-01` },
    });
    expect(JSON.parse(res.body).traceId).toBe(tid);
    expect((await serverSpan('/trace')).spanContext().traceId).toBe(tid);
    expect(t.logs.lines.filter((l) => l.trace_id === tid).length).toBeGreaterThanOrEqual(3);
  });
});

describe('OpenTelemetry SDK in the app: a job the request enqueued (real Redis)', () => {
  const prefix = `nestobs-otel-${process.pid}-${Date.now()}`;
  let a: BullApp;

  beforeAll(async () => {
    await requireRedis();
    a = await startBullApp({ prefix });
  });

  afterAll(async () => {
    await a?.close();
    await deletePrefix(prefix);
  });

  it("continues the request's trace", async () => {
    exporter.reset();
    const res = await rawRequest(`${a.url}/enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'otel-job' }),
    });
    expect(res.status).toBe(201);
    const id = JSON.parse(res.body).id as string;
    const { traceId } = (await serverSpan('/enqueue')).spanContext();
    await eventually(
      () => a.logs.where({ job_id: id, message: 'job completed: default otel-job' }).length === 1,
      10000,
    );
    const jobLines = a.logs.where({ job_id: id });
    expect(jobLines).toHaveLength(3);
    for (const l of jobLines) expect(l.trace_id).toBe(traceId);
  });
});
