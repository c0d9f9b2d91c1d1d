import { FlowProducer, Worker } from 'bullmq';
import { CATALOG } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { startBullApp } from './support/bull-app.js';

/**
 * A BullMQ whose methods moved (simulated by removing two of them before the
 * module patches BullMQ, in this file's own module registry): the loss is
 * logged once and counted, never silent, and the app still starts and serves.
 */
describe('BullMQ patch targets that are missing', () => {
  const removed = [
    [Worker.prototype, 'callProcessJob'],
    [FlowProducer.prototype, 'addBulk'],
  ] as const;
  const saved = removed.map(([proto, key]) => (proto as unknown as Record<string, unknown>)[key]);

  beforeAll(() => {
    for (const [proto, key] of removed) delete (proto as unknown as Record<string, unknown>)[key];
  });
  afterAll(() => {
    removed.forEach(([proto, key], i) => {
      (proto as unknown as Record<string, unknown>)[key] = saved[i];
    });
  });

  it('logs one WARN naming them and counts each in the instrumentation errors', async () => {
    const app = await startBullApp({
      prefix: `nestobs-missing-${process.pid}`,
      processors: false,
      via: 'patches',
    });
    try {
      const warns = app.logs.lines.filter(
        (l) => l.level === 'WARNING' && String(l.message).includes('not found'),
      );
      expect(warns).toHaveLength(1);
      expect(warns[0]!.message).toContain('Worker.callProcessJob');
      expect(warns[0]!.message).toContain('FlowProducer.addBulk');
      const errors = app.app.get(MetricsRegistry).counter(CATALOG.instrumentationErrorsTotal);
      expect(errors.get({ component: 'bullmq:patch:Worker.callProcessJob' })).toBe(1);
      expect(errors.get({ component: 'bullmq:patch:FlowProducer.addBulk' })).toBe(1);
      expect((await fetch(`${app.url}/ping`)).status).toBe(200);
    } finally {
      await app.app.close();
    }
  });
});
