import { io as ioClient } from 'socket.io-client';
import { CATALOG, MetricsService } from '../../src/index.js';
import { CounterFamily, HistogramSeries } from '../../src/metrics/families.js';
import { MetricsRegistry } from '../../src/metrics/metrics-registry.js';
import { startBullApp } from '../support/bull-app.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { parseExposition, sumOf } from '../support/prom-text.js';
import { deletePrefix, requireRedis } from '../support/redis.js';
import { report } from '../support/reliability-report.js';
import { startSocketIoApp } from '../support/socketio-app.js';
import { startDbApp } from '../support/typeorm-app.js';
import { ADAPTERS, startTestApp } from '../support/test-app.js';

// Faults inside the instrumentation itself (a metric that throws, a logger
// destination that throws, the app's resolvers and collectors failing): the
// request, job, query or socket message goes on, and the fault is counted.

const instrumentationErrors = (r: MetricsRegistry) =>
  [...r.counter(CATALOG.instrumentationErrorsTotal).series.values()].reduce(
    (a, s) => a + s.value,
    0,
  );

const figures: Record<string, number> = {};
afterAll(() => report('instrumentationFaults', figures));

/** Every histogram observation throws while `fn` runs. */
async function withThrowingHistograms<T>(fn: () => Promise<T>): Promise<T> {
  const spy = jest.spyOn(HistogramSeries.prototype, 'observe').mockImplementation(() => {
    throw new Error('injected: histogram broken');
  });
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

describe.each(ADAPTERS)('HTTP (%s)', (kind) => {
  it('answers, logs and counts with metrics, resolvers and the log stream all throwing', async () => {
    let streamThrows = false;
    const lines: string[] = [];
    const t = await startTestApp(kind, {
      options: {
        organization: {
          resolve: () => {
            throw new Error('injected: org resolver');
          },
        },
        resolveUser: () => {
          throw new Error('injected: user resolver');
        },
        logging: {
          destination: {
            write: (s: string) => {
              if (streamThrows) throw new Error('injected: stream');
              lines.push(s);
            },
          },
        },
      },
    });
    try {
      const registry = t.app.get(MetricsRegistry);
      const res = await withThrowingHistograms(() => rawRequest(`${t.url}/trace`));
      expect(res.status).toBe(200);
      // the access line was still written, with the request's trace ID
      const access = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.endpoint === '/trace');
      expect(access).toHaveLength(1);
      expect(access[0]!.trace_id).toBe(JSON.parse(res.body).traceId);
      // a stream that throws costs its lines, not the request
      streamThrows = true;
      expect((await rawRequest(`${t.url}/trace`)).status).toBe(200);
      expect((await rawRequest(`${t.url}/boom`)).status).toBe(500);
      streamThrows = false;
      const s = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
      expect(
        sumOf(s, 'observability_log_lines_dropped_total', { reason: 'stream_error' }),
      ).toBeGreaterThan(0);
      // the two later requests counted, under the fallback organization
      expect(sumOf(s, 'http_requests_total', { endpoint: '/trace', org: 'system' })).toBe(2);
      const errors = instrumentationErrors(registry);
      expect(errors).toBeGreaterThanOrEqual(3); // histogram, both resolvers
      figures[`http-${kind}`] = errors;
    } finally {
      await t.close();
    }
  });
});

describe('scrape-time collectors', () => {
  it('a collector that throws and one that hangs: /metrics answers in time, with the rest, marking both stale', async () => {
    const t = await startTestApp('express', { options: { metrics: { collectorTimeoutMs: 300 } } });
    try {
      const metrics = t.app.get(MetricsService);
      metrics.addCollector({
        name: 'throws',
        collect: () => {
          throw new Error('injected: collector');
        },
      });
      metrics.addCollector({ name: 'hangs', collect: () => new Promise<void>(() => undefined) });
      await rawRequest(`${t.url}/orgs/acme/items`);
      const start = Date.now();
      const res = await rawRequest(`${t.url}/metrics`);
      const ms = Date.now() - start;
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(300 + 2000);
      const s = parseExposition(res.body);
      expect(sumOf(s, 'http_requests_total')).toBe(1);
      expect(sumOf(s, 'observability_collector_stale', { collector: 'throws' })).toBe(1);
      expect(sumOf(s, 'observability_collector_stale', { collector: 'hangs' })).toBe(1);
      figures.scrapeMsWithHangingCollector = ms;
    } finally {
      await t.close();
    }
  });
});

describe('jobs, queries and socket messages', () => {
  beforeAll(async () => requireRedis());

  it('a job completes with its histogram throwing', async () => {
    const prefix = `instr-fault-${process.pid}`;
    const app = await startBullApp({ prefix });
    try {
      const registry = app.app.get(MetricsRegistry);
      await withThrowingHistograms(async () => {
        const res = await rawRequest(`${app.url}/enqueue`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"name":"work"}',
        });
        expect(res.status).toBe(201);
        await eventually(
          () => app.logs.where({ message: 'inside job' }).length === 1,
          10_000,
        ).catch((e: unknown) => {
          console.log(app.logs.raw.slice(-15).join('\n'));
          throw e;
        });
        // the completion is counted (the counter works), the error too
        await eventually(
          () =>
            [...registry.counter(CATALOG.jobsCompletedTotal).series.values()].some(
              (x) => x.value > 0,
            ),
          10_000,
        );
      });
      expect(instrumentationErrors(registry)).toBeGreaterThan(0);
    } finally {
      await app.close();
      await deletePrefix(prefix);
    }
  });

  it('a query returns its rows with its histogram throwing', async () => {
    const db = await startDbApp('sqlite', 'instr_fault');
    try {
      const rows = await withThrowingHistograms(() => db.ds.query('SELECT 1 AS one'));
      expect(rows).toEqual([{ one: 1 }]);
      expect(instrumentationErrors(db.app.get(MetricsRegistry))).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it('a socket message is delivered with the message counters throwing', async () => {
    const app = await startSocketIoApp({ redis: false, serverId: 'instr-fault' });
    const client = ioClient(app.url, { transports: ['websocket'] });
    const spy = jest.spyOn(CounterFamily.prototype, 'with').mockImplementation(() => {
      throw new Error('injected: counter broken');
    });
    try {
      await new Promise<void>((r, j) => {
        client.once('connect', () => r());
        client.once('connect_error', j);
      });
      const got = new Promise<string>((r) => client.once('notification', (x: string) => r(x)));
      client.emit('join', 'room');
      await new Promise((r) => setTimeout(r, 100));
      client.emit('notify', { room: 'room', text: 'hello' });
      expect(await got).toBe('hello');
    } finally {
      spy.mockRestore();
      client.close();
      await app.close();
    }
  });
});
