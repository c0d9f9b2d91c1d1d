import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, getQueueToken, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import { BullMqObservabilityModule, BullMqTelemetry } from '../src/bullmq/index.js';
import { ObservabilityModule } from '../src/index.js';
import { eventually, rawRequest } from './support/http-client.js';
import { LogCapture } from './support/log-capture.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { promtoolCheckMetrics } from './support/promtool.js';
import { deletePrefix, REDIS_HOST, REDIS_PORT, requireRedis } from './support/redis.js';

@Processor('reports')
class ReportsProcessor extends WorkerHost {
  async process(job: Job): Promise<string> {
    if (job.name === 'broken') throw new Error('cannot render');
    return 'ok';
  }
}

/**
 * A worker process with no HTTP server (`NestFactory.createApplicationContext`):
 * its job metrics are scraped from the module's own metrics server
 * (`metrics.port`), the pattern docs/jobs.md describes.
 */
describe('a BullMQ worker process without HTTP (real Redis)', () => {
  const prefix = `nestobs-worker-${process.pid}-${Date.now()}`;

  beforeAll(() => requireRedis());
  afterAll(() => deletePrefix(prefix));

  it('serves its job metrics on metrics.port and shuts down cleanly', async () => {
    const logs = new LogCapture();
    @Module({
      imports: [
        ObservabilityModule.forRoot({
          serviceName: 'reports-worker',
          logging: { destination: logs },
          metrics: { port: 0, host: '127.0.0.1' },
        }),
        BullMqObservabilityModule.forRoot({ gaugeCacheMs: 0 }),
        BullModule.forRootAsync({
          inject: [BullMqTelemetry],
          useFactory: (telemetry: BullMqTelemetry) => ({
            connection: { host: REDIS_HOST, port: REDIS_PORT },
            prefix,
            telemetry,
          }),
        }),
        BullModule.registerQueue({ name: 'reports' }),
      ],
      providers: [ReportsProcessor],
    })
    class WorkerModule {}

    const ctx = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
    await ctx.init();
    try {
      const address = ctx.get(ObservabilityModule).metricsAddress();
      expect(address).toBeDefined();
      const url = `http://127.0.0.1:${address!.port}/metrics`;
      const queue = ctx.get<Queue>(getQueueToken('reports'));
      await Promise.all([
        queue.add('monthly', {}),
        queue.add('monthly', {}),
        queue.add('broken', {}),
      ]);
      const done = { queue: 'reports', method: 'monthly', org: 'system', status: 'success' };
      await eventually(async () => {
        const s = parseExposition((await rawRequest(url)).body);
        return (
          sumOf(s, 'jobs_completed_total', done) === 2 &&
          sumOf(s, 'jobs_completed_total', { method: 'broken', status: 'failure' }) === 1
        );
      }, 10000);
      const res = await rawRequest(url);
      const samples = parseExposition(res.body);
      expect(sumOf(samples, 'jobs_enqueued_total', { queue: 'reports' })).toBe(3);
      expect(sumOf(samples, 'queue_depth', { queue: 'reports' })).toBe(0);
      // no HTTP server in this process: no HTTP families, nothing else answers
      expect(res.body).not.toContain('http_requests_total');
      expect((await rawRequest(url.replace('/metrics', '/other'))).status).toBe(404);
      expect(promtoolCheckMetrics(res.body).output).toBe('');
    } finally {
      await ctx.close();
    }
    expect(logs.lines.some((l) => l.message === 'application shut down')).toBe(true);
  });
});
