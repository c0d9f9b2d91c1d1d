import { closeSync, openSync } from 'node:fs';
import autocannon from 'autocannon';
import { io as ioClient } from 'socket.io-client';
import { startDemo, type DemoProcess } from '../support/demo-process.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { OwnPostgres } from '../support/postgres.js';
import { parseExposition, sumOf, type Sample } from '../support/prom-text.js';
import { OwnRedis, silentServer } from '../support/redis.js';
import { report } from '../support/reliability-report.js';

// The demo with its dependencies failing under it: it keeps serving, says so
// in /health and in its metrics, recovers, and stops within a bounded time.

const scrape = async (url: string): Promise<Sample[]> =>
  parseExposition((await rawRequest(`${url}/metrics`)).body);

const dropped = (s: Sample[], reason: string) =>
  sumOf(s, 'observability_log_lines_dropped_total', { reason });

async function load(url: string, amount: number) {
  const r = await autocannon({
    url,
    connections: 4,
    amount,
    requests: [{ path: '/orgs/acme/items' }, { path: '/no/such/route' }],
  });
  expect(r.errors).toBe(0);
  return r;
}

/** The demo's heap after a full GC (SIGUSR2 under --expose-gc), from its own metrics. */
async function heapAfterGc(demo: DemoProcess): Promise<number> {
  demo.proc.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 300));
  return sumOf(await scrape(demo.url), 'nodejs_heap_size_used_bytes');
}

const figures: Record<string, unknown> = {};
afterAll(() => report('faults', figures));

describe('a failing log destination', () => {
  it('a full disk (/dev/full): requests served, lines counted as dropped, exit bounded', async () => {
    const fd = openSync('/dev/full', 'w');
    const demo = await startDemo({}, ['--expose-gc'], fd);
    closeSync(fd);
    try {
      const before = await heapAfterGc(demo);
      await load(demo.url, 3000);
      let s: Sample[] = [];
      await eventually(
        async () => dropped((s = await scrape(demo.url)), 'ENOSPC') >= 3000,
        5000,
      ).catch(() => undefined);
      expect(dropped(s, 'ENOSPC')).toBeGreaterThanOrEqual(3000);
      const after = await heapAfterGc(demo);
      expect(after - before).toBeLessThan(16 * 2 ** 20);
      // said once, on stderr
      expect(demo.stderr().match(/log lines to stdout are being dropped \(ENOSPC\)/g)).toHaveLength(
        1,
      );
      const { ms } = await demo.stop('SIGTERM');
      expect(ms).toBeLessThan(8000);
      figures.fullDisk = {
        droppedLines: dropped(s, 'ENOSPC'),
        heapGrowthMB: +((after - before) / 2 ** 20).toFixed(1),
        stopMs: ms,
      };
    } finally {
      await demo.stop('SIGKILL');
    }
  }, 120_000);

  it('a closed pipe (EPIPE): requests served, lines counted as dropped, exit bounded', async () => {
    const demo = await startDemo();
    try {
      demo.proc.stdout!.destroy(); // the reader goes away
      await load(demo.url, 2000);
      let s: Sample[] = [];
      await eventually(
        async () => dropped((s = await scrape(demo.url)), 'EPIPE') >= 2000,
        5000,
      ).catch(() => undefined);
      expect(dropped(s, 'EPIPE')).toBeGreaterThanOrEqual(2000);
      const { ms } = await demo.stop('SIGTERM');
      expect(ms).toBeLessThan(8000);
      figures.closedPipe = { droppedLines: dropped(s, 'EPIPE'), stopMs: ms };
    } finally {
      await demo.stop('SIGKILL');
    }
  }, 120_000);

  it('a reader that stops reading: memory held to bufferLimit, the rest counted, exit bounded', async () => {
    const limit = 256 * 1024;
    const demo = await startDemo({ LOG_BUFFER_LIMIT: String(limit) }, ['--expose-gc']);
    try {
      demo.proc.stdout!.pause(); // the pipe fills (64 KB), then the demo's buffer
      const before = await heapAfterGc(demo);
      await load(demo.url, 5000);
      let s: Sample[] = [];
      await eventually(
        async () => dropped((s = await scrape(demo.url)), 'buffer_full') > 0,
        5000,
      ).catch(() => undefined);
      const full = dropped(s, 'buffer_full');
      expect(full).toBeGreaterThan(1000);
      const after = await heapAfterGc(demo);
      expect(after - before).toBeLessThan(16 * 2 ** 20);
      const { ms } = await demo.stop('SIGTERM');
      expect(ms).toBeLessThan(8000);
      figures.stuckReader = {
        bufferLimit: limit,
        droppedLines: full,
        heapGrowthMB: +((after - before) / 2 ** 20).toFixed(1),
        stopMs: ms,
      };
    } finally {
      await demo.stop('SIGKILL');
    }
  }, 120_000);
});

describe('dependencies that fail under the demo', () => {
  let redis: OwnRedis;
  let pg: OwnPostgres;
  let demo: DemoProcess;
  let hung: { port: number; close(): Promise<void> };

  beforeAll(async () => {
    redis = await OwnRedis.create();
    await redis.start();
    pg = await OwnPostgres.create();
    await pg.start();
    hung = await silentServer();
    demo = await startDemo({
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      DATABASE_URL: pg.url,
      PARTNER_URL: `http://127.0.0.1:${hung.port}`,
    });
  }, 120_000);

  afterAll(async () => {
    await demo?.stop('SIGKILL');
    await redis?.stop();
    await pg?.destroy();
    await hung?.close();
  });

  const health = async () => {
    const r = await rawRequest(`${demo.url}/health`);
    return {
      status: r.status,
      body: JSON.parse(r.body) as { checks: Record<string, { status: string }> },
    };
  };
  const items = async () => (await rawRequest(`${demo.url}/orgs/acme/items`)).status;
  const timed = async <T>(fn: () => Promise<T>) => {
    const start = Date.now();
    const value = await fn();
    return { value, ms: Date.now() - start };
  };

  it('starts healthy', async () => {
    await eventually(async () => (await health()).status === 200, 20_000);
    expect(await items()).toBe(200);
  }, 30_000);

  it('a partner that hangs: its calls time out and are counted, the rest is served', async () => {
    const [customer, other] = await Promise.all([
      timed(() => rawRequest(`${demo.url}/orgs/acme/partner/customers/7`)),
      timed(items),
    ]);
    expect(other.value).toBe(200);
    expect(other.ms).toBeLessThan(2000);
    expect(customer.value.status).toBe(500);
    expect(customer.ms).toBeLessThan(6000);
    const s = await scrape(demo.url);
    expect(
      sumOf(s, 'integration_requests_total', { integration: 'partner', status: 'error' }),
    ).toBeGreaterThan(0);
  }, 30_000);

  it('Redis killed: requests served, health says redis is down, /metrics answers; back when Redis is', async () => {
    await redis.stop();
    expect(await items()).toBe(200);
    await eventually(
      async () => (await health()).body.checks.redis?.status === 'unhealthy',
      15_000,
    );
    const h = await health();
    expect(h.status).toBe(503);
    const m = await timed(() => rawRequest(`${demo.url}/metrics`));
    expect(m.value.status).toBe(200);
    expect(m.ms).toBeLessThan(5000);
    const s = parseExposition(m.value.body);
    expect(sumOf(s, 'observability_collector_stale')).toBeGreaterThan(0);
    // asking for a job answers 503 in bounded time instead of hanging
    const enqueue = await timed(() =>
      rawRequest(`${demo.url}/orgs/acme/reports`, { method: 'POST' }),
    );
    expect(enqueue.value.status).toBe(503);
    expect(enqueue.ms).toBeLessThan(5000);
    // Socket.IO on its Redis adapter still takes clients and delivers locally
    const client = ioClient(demo.url, { transports: ['websocket'] });
    try {
      const got = new Promise<string>((r) =>
        client.once('notification', (text: string) => r(text)),
      );
      await new Promise<void>((r, j) => {
        client.once('connect', () => r());
        client.once('connect_error', j);
      });
      client.emit('join', 'ops');
      await new Promise((r) => setTimeout(r, 100));
      client.emit('notify', { room: 'ops', text: 'redis is down' });
      expect(await got).toBe('redis is down');
      expect(sumOf(await scrape(demo.url), 'socketio_connections')).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }

    await redis.start();
    await eventually(async () => (await health()).status === 200, 30_000);
    const before = sumOf(await scrape(demo.url), 'jobs_completed_total');
    expect((await rawRequest(`${demo.url}/orgs/acme/reports`, { method: 'POST' })).status).toBe(
      201,
    );
    await eventually(
      async () => sumOf(await scrape(demo.url), 'jobs_completed_total') > before,
      20_000,
    );
    const after = await scrape(demo.url);
    expect(sumOf(after, 'observability_collector_stale')).toBe(0);
    figures.redisOutage = { metricsMsWhileDown: m.ms, enqueueMsWhileDown: enqueue.ms };
  }, 120_000);

  it('PostgreSQL restarted: health says database is down, then the pool reconnects', async () => {
    const queriesBefore = sumOf(await scrape(demo.url), 'db_queries_total');
    await pg.stop();
    const down = await items();
    expect(down).toBe(500);
    await eventually(
      async () => (await health()).body.checks.database?.status === 'unhealthy',
      15_000,
    );
    expect((await rawRequest(`${demo.url}/metrics`)).status).toBe(200);
    await pg.start();
    await eventually(async () => (await items()) === 200, 30_000);
    await eventually(async () => (await health()).status === 200, 30_000);
    // the failed queries and the ones after recovery are counted
    expect(sumOf(await scrape(demo.url), 'db_queries_total')).toBeGreaterThan(queriesBefore + 1);
  }, 120_000);

  it('stops within the bound on SIGTERM, with a partner call in flight', async () => {
    const inFlight = rawRequest(`${demo.url}/orgs/acme/partner/customers/9`).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const { ms } = await demo.stop('SIGTERM');
    await inFlight;
    expect(ms).toBeLessThan(8000);
    const lines = demo.lines();
    expect(lines.some((l) => l.message === 'application shut down (SIGTERM)')).toBe(true);
    figures.stopWithHungPartnerMs = ms;
  }, 30_000);
});
