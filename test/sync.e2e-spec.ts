import { Redis } from 'ioredis';
import { CATALOG, MetricsService, TraceContext } from '../src/index.js';
import { SyncMetrics, SyncObservabilityModule } from '../src/sync/index.js';
import { freePort } from './support/prometheus.js';
import { parseExposition, samplesOf, sumOf } from './support/prom-text.js';
import { REDIS_HOST, REDIS_PORT, requireRedis } from './support/redis.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { SyncObservabilityOptions } from '../src/sync/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function syncApp(options: SyncObservabilityOptions): Promise<TestApp> {
  return startTestApp('express', { imports: [SyncObservabilityModule.forRoot(options)] });
}

const scrape = async (t: TestApp) => parseExposition(await t.app.get(MetricsService).scrape());
const lagOf = async (t: TestApp, org: string) =>
  samplesOf(await scrape(t), CATALOG.syncLagSeconds.name, { org })[0]?.value;

describe('sync layer metrics', () => {
  const key = `nestobs-test:sync:${process.pid}:${Date.now()}`;
  const redisUrl = `redis://${REDIS_HOST}:${REDIS_PORT}`;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await requireRedis();
    a = await syncApp({ redis: redisUrl, redisKey: key });
    b = await syncApp({
      redis: redisUrl,
      redisKey: key,
      queueDepth: () => ({ acme: 4, globex: 0 }),
    });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    const r = new Redis({ host: REDIS_HOST, port: REDIS_PORT });
    await r.del(key);
    r.disconnect();
  });

  it('counts deltas and conflicts exactly, with the org from the context when not given', async () => {
    const sync = a.app.get(SyncMetrics);
    for (let i = 0; i < 5; i++) sync.delta('Invoice', 'update', 'acme');
    sync.delta('Invoice', 'insert', 'acme', 3);
    a.app.get(TraceContext).run(() => sync.delta('Customer', 'delete'), { organization: 'globex' });
    sync.conflict('Invoice', 'last-write-wins');
    sync.conflict('Invoice', 'manual', 2);
    const s = await scrape(a);
    const deltas = CATALOG.syncDeltasTotal.name;
    expect(sumOf(s, deltas, { doctype: 'Invoice', org: 'acme', operation: 'update' })).toBe(5);
    expect(sumOf(s, deltas, { doctype: 'Invoice', org: 'acme', operation: 'insert' })).toBe(3);
    expect(sumOf(s, deltas, { doctype: 'Customer', org: 'globex', operation: 'delete' })).toBe(1);
    expect(sumOf(s, CATALOG.syncConflictsTotal.name, { strategy: 'last-write-wins' })).toBe(1);
    expect(sumOf(s, CATALOG.syncConflictsTotal.name, { strategy: 'manual' })).toBe(2);
  });

  it('grows the lag between scrapes with nobody reporting, and resets it on success', async () => {
    const sync = a.app.get(SyncMetrics);
    sync.succeeded('initech', Date.now() - 2000);
    const first = (await lagOf(a, 'initech'))!;
    await sleep(1000);
    const second = (await lagOf(a, 'initech'))!;
    expect(first).toBeGreaterThanOrEqual(2);
    expect(second - first).toBeGreaterThan(0.9);
    expect(second - first).toBeLessThan(1.6);
    sync.succeeded('initech');
    expect(await lagOf(a, 'initech')).toBeLessThan(0.5);
  });

  it('reports the time since an org last synced on any instance, on every instance (Redis)', async () => {
    a.app.get(SyncMetrics).succeeded('umbrella', Date.now() - 30_000);
    await sleep(50); // the write to Redis is asynchronous
    const onB = (await lagOf(b, 'umbrella'))!;
    expect(onB).toBeGreaterThanOrEqual(30);
    expect(onB).toBeLessThan(32);
    // B syncs it later: both instances now report the newer success; an older one never moves it back.
    b.app.get(SyncMetrics).succeeded('umbrella');
    a.app.get(SyncMetrics).succeeded('umbrella', Date.now() - 60_000);
    await sleep(50);
    expect(await lagOf(a, 'umbrella')).toBeLessThan(1);
    expect(await lagOf(b, 'umbrella')).toBeLessThan(1);
  });

  it('reads the pending queue per org at scrape time, and sets it directly', async () => {
    const s = await scrape(b);
    expect(sumOf(s, CATALOG.syncQueueDepth.name, { org: 'acme' })).toBe(4);
    expect(sumOf(s, CATALOG.syncQueueDepth.name, { org: 'globex' })).toBe(0);
    a.app.get(SyncMetrics).setQueueDepth('acme', 7);
    expect(sumOf(await scrape(a), CATALOG.syncQueueDepth.name, { org: 'acme' })).toBe(7);
  });

  it('forgets an organization on every gauge', async () => {
    const sync = a.app.get(SyncMetrics);
    sync.succeeded('gone');
    sync.setQueueDepth('gone', 2);
    expect(await lagOf(a, 'gone')).toBeDefined();
    sync.forget('gone');
    await sleep(50);
    const s = await scrape(a);
    expect(samplesOf(s, CATALOG.syncLagSeconds.name, { org: 'gone' })).toHaveLength(0);
    expect(samplesOf(s, CATALOG.syncQueueDepth.name, { org: 'gone' })).toHaveLength(0);
  });
});

describe('sync layer metrics without Redis', () => {
  it('reports only this instance’s own syncs (rules take the min across instances)', async () => {
    const a = await syncApp({});
    const b = await syncApp({});
    try {
      a.app.get(SyncMetrics).succeeded('acme');
      expect(await lagOf(a, 'acme')).toBeLessThan(1);
      expect(await lagOf(b, 'acme')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps reporting this instance’s lag, marked stale, when Redis is unreachable', async () => {
    const t = await syncApp({ redis: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 500 });
    try {
      t.app.get(SyncMetrics).succeeded('acme');
      const s = await scrape(t);
      expect(samplesOf(s, CATALOG.syncLagSeconds.name, { org: 'acme' })).toHaveLength(1);
      expect(sumOf(s, CATALOG.collectorStale.name, { collector: 'sync' })).toBe(1);
    } finally {
      await t.close();
    }
  });
});
