import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { CATALOG } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import type { BullApp } from './support/bull-app.js';
import { DefaultProcessor, startBullApp } from './support/bull-app.js';
import { eventually, rawRequest } from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { freePort } from './support/prometheus.js';
import { OwnRedis } from './support/redis.js';

const prefix = `nestobs-fail-${process.pid}`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = Date.now();
  const v = await fn();
  return [v, Date.now() - start];
}

describe('BullMQ with Redis going away (a Redis of the test own, on a spare port)', () => {
  it('keeps serving HTTP, marks the job gauges stale, resumes when Redis is back, and shuts down promptly', async () => {
    const redis = await OwnRedis.create();
    await redis.start();
    let app: BullApp | undefined;
    try {
      app = await startBullApp({
        prefix,
        port: redis.port,
        bullmq: { gaugeTimeoutMs: 300, shutdownTimeoutMs: 1000 },
      });
      const queue = app.app.get<Queue>(getQueueToken('default'));
      const registry = app.app.get(MetricsRegistry);
      const done = () =>
        registry
          .counter(CATALOG.jobsCompletedTotal)
          .get({ queue: 'default', method: 'work', org: 'system', status: 'success' });
      await queue.add('work', {});
      await eventually(() => done() === 1, 10000);
      expect(
        sumOf(
          parseExposition((await rawRequest(`${app.url}/metrics`)).body),
          'observability_collector_stale',
          { collector: 'bullmq' },
        ),
      ).toBe(0);

      await redis.stop();
      // HTTP goes on, and the scrape answers within the gauge timeout, saying the gauges are stale.
      expect((await rawRequest(`${app.url}/ping`)).body).toBe('pong');
      const [res, ms] = await timed(() => rawRequest(`${app!.url}/metrics`));
      expect(res.status).toBe(200);
      expect(ms).toBeLessThan(2000);
      const samples = parseExposition(res.body);
      expect(sumOf(samples, 'observability_collector_stale', { collector: 'bullmq' })).toBe(1);
      expect(
        sumOf(samples, 'observability_collector_errors_total', { collector: 'bullmq' }),
      ).toBeGreaterThan(0);
      expect(
        app.logs.lines.some((l) => String(l.message).includes('collector "bullmq" failed')),
      ).toBe(true);

      await redis.start();
      await eventually(
        async () =>
          sumOf(
            parseExposition((await rawRequest(`${app!.url}/metrics`)).body),
            'observability_collector_stale',
            {
              collector: 'bullmq',
            },
          ) === 0,
        25000,
      );
      await queue.add('work', {});
      await eventually(() => done() === 2, 25000);

      await redis.stop();
      const worker = app.app.get(DefaultProcessor).worker;
      const [, closeMs] = await timed(() => app!.close());
      app = undefined;
      expect(closeMs).toBeLessThan(5000);
      // closed through their public close(), none of their methods replaced
      for (const obj of [queue, worker] as object[]) {
        expect(Object.prototype.hasOwnProperty.call(obj, 'close')).toBe(false);
        expect((obj as { closing?: unknown }).closing).toBeDefined();
      }
    } finally {
      await app?.close();
      await redis.stop();
    }
  }, 90000);

  it('starts and serves HTTP with Redis unreachable from the start, and still shuts down promptly', async () => {
    const deadPort = await freePort();
    const [app, startMs] = await timed(() =>
      startBullApp({
        prefix,
        port: deadPort,
        bullmq: { gaugeTimeoutMs: 300, shutdownTimeoutMs: 1000 },
      }),
    );
    expect(startMs).toBeLessThan(10000);
    try {
      expect((await rawRequest(`${app.url}/ping`)).body).toBe('pong');
      const res = await rawRequest(`${app.url}/metrics`);
      expect(res.status).toBe(200);
      expect(
        sumOf(parseExposition(res.body), 'observability_collector_stale', { collector: 'bullmq' }),
      ).toBe(1);
    } finally {
      const [, closeMs] = await timed(() => app.close());
      expect(closeMs).toBeLessThan(5000);
    }
  }, 60000);
});
