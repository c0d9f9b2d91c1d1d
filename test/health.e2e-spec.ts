import { rawRequest } from './support/http-client.js';
import type { HealthApp } from './support/health-app.js';
import { startHealthApp, TcpProxy } from './support/health-app.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { freePort } from './support/prometheus.js';
import { OwnRedis, REDIS_PORT, requireRedis, silentServer } from './support/redis.js';
import { PG, requirePostgres } from './support/typeorm-app.js';

async function health(app: HealthApp, path = '/health') {
  const start = Date.now();
  const res = await rawRequest(`${app.url}${path}`);
  return {
    status: res.status,
    body: JSON.parse(res.body) as Record<string, any>,
    ms: Date.now() - start,
    raw: res.body,
  };
}

/*
 * "Answers within its timeout, never hangs", with margins that hold on a
 * loaded 2-core machine: the check's own duration (the server's clock, in
 * the body) is the timeout give or take a timer firing late; the HTTP
 * round trip, measured by the client, only has to show it did not hang.
 */
const SERVER_LATENESS_MS = 400;
const CLIENT_MARGIN_MS = 2500;

function withinTimeout(h: Awaited<ReturnType<typeof health>>, check: string, timeoutMs: number) {
  const ms = h.body.checks[check].duration_ms as number;
  expect(ms).toBeGreaterThanOrEqual(timeoutMs - 5);
  expect(ms).toBeLessThan(timeoutMs + SERVER_LATENESS_MS);
  expect(h.ms).toBeLessThan(timeoutMs + CLIENT_MARGIN_MS);
}

describe('health endpoints (real PostgreSQL and Redis)', () => {
  beforeAll(async () => {
    await requirePostgres();
    await requireRedis();
  });

  describe.each(['express', 'fastify'] as const)('all up on %s', (adapter) => {
    let t: HealthApp;
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = new TcpProxy(await freePort(), PG.port);
      await proxy.start();
      t = await startHealthApp({
        adapter,
        pgPort: proxy.port,
        redisPort: REDIS_PORT,
        globalPrefix: 'api',
        denyAll: true,
      });
    });
    afterAll(async () => {
      await t?.close();
      await proxy?.stop();
    });

    it('answers 200 with every component healthy, ignoring the global prefix and guard', async () => {
      const h = await health(t);
      expect(h.status).toBe(200);
      expect(h.body.status).toBe('healthy');
      expect(h.body.checks.database).toMatchObject({ status: 'healthy', data_sources: 1 });
      expect(h.body.checks.redis).toMatchObject({ status: 'healthy' });
      expect(h.body.checks.workers).toMatchObject({ status: 'healthy', queue: 'default' });
      expect(h.body.checks.workers.workers).toBeGreaterThanOrEqual(1);
      expect((await rawRequest(`${t.url}/api/ping`)).status).toBe(403); // the guard works on the app
    });

    it('serves liveness and readiness, and does not count health traffic', async () => {
      expect((await health(t, '/health/live')).body).toEqual({ status: 'healthy' });
      expect((await health(t, '/health/ready')).status).toBe(200);
      const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
      expect(
        samples.filter(
          (s) => s.name === 'http_requests_total' && String(s.labels.endpoint).includes('health'),
        ),
      ).toEqual([]);
    });
  });

  it('database down: 503 naming database, and the password never shows', async () => {
    const proxy = new TcpProxy(await freePort(), PG.port);
    await proxy.start();
    const password = 'Db-Passw0rd-NeverShown';
    const t = await startHealthApp({
      pgPort: proxy.port,
      pgPassword: password,
      health: { timeoutMs: 1500 },
    });
    try {
      expect((await health(t)).status).toBe(200);
      await proxy.stop();
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.status).toBe('unhealthy');
      expect(h.body.checks.database.status).toBe('unhealthy');
      expect(h.body.checks.database.error).toEqual(expect.any(String));
      expect(h.raw).not.toContain(password);
      expect(t.logs.raw.join('\n')).not.toContain(password);
    } finally {
      await t.close();
      await proxy.stop();
    }
  });

  it('a database that hangs (connections open, no answers): 503 naming database within the timeout', async () => {
    const proxy = new TcpProxy(await freePort(), PG.port);
    await proxy.start();
    const timeoutMs = 700;
    const t = await startHealthApp({ pgPort: proxy.port, health: { timeoutMs } });
    try {
      expect((await health(t)).status).toBe(200);
      proxy.freeze();
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.checks.database).toMatchObject({
        status: 'unhealthy',
        error: `timeout of ${timeoutMs}ms exceeded`,
      });
      withinTimeout(h, 'database', timeoutMs);
    } finally {
      await proxy.stop();
      await t.close();
    }
  }, 30000);

  it('Redis stopped: 503 naming redis, within the timeout', async () => {
    const redis = await OwnRedis.create();
    await redis.start();
    const t = await startHealthApp({ redisPort: redis.port, health: { timeoutMs: 800 } });
    try {
      expect((await health(t)).status).toBe(200);
      await redis.stop();
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.checks.redis.status).toBe('unhealthy');
      // refused at once, or at most the timeout
      expect(h.body.checks.redis.duration_ms).toBeLessThan(800 + SERVER_LATENESS_MS);
      expect(h.ms).toBeLessThan(800 + CLIENT_MARGIN_MS);
    } finally {
      await t.close();
      await redis.stop();
    }
  }, 30000);

  it('no workers on the default queue: 503 naming workers', async () => {
    const t = await startHealthApp({ redisPort: REDIS_PORT, processors: false });
    try {
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.checks.workers).toMatchObject({
        status: 'unhealthy',
        error: 'no worker serves queue "default"',
      });
      expect(h.body.checks.redis.status).toBe('healthy');
    } finally {
      await t.close();
    }
  });

  it('a Redis that accepts connections and never answers: 503 within the timeout plus a small margin', async () => {
    const silent = await silentServer();
    const timeoutMs = 600;
    const t = await startHealthApp({
      redisPort: silent.port,
      processors: false,
      health: { timeoutMs },
    });
    try {
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.checks.redis).toMatchObject({
        status: 'unhealthy',
        error: `timeout of ${timeoutMs}ms exceeded`,
      });
      withinTimeout(h, 'redis', timeoutMs);
      // the app itself keeps answering
      expect((await rawRequest(`${t.url}/ping`)).body).toBe('pong');
    } finally {
      await t.close();
      await silent.close();
    }
  }, 30000);

  it('leaves out checks for parts the app does not use, and runs custom checks with sanitised errors', async () => {
    const t = await startHealthApp({
      health: {
        checks: [
          {
            name: 'partner',
            check: () => {
              throw new Error('cannot reach https://svc:hunter2pw@partner.example/api');
            },
          },
          { name: 'cache', check: async () => ({ entries: 3 }) },
        ],
      },
    });
    try {
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(Object.keys(h.body.checks).sort()).toEqual(['cache', 'partner']);
      expect(h.body.checks.cache).toMatchObject({ status: 'healthy', entries: 3 });
      expect(h.body.checks.partner.error).toBe('cannot reach https://svc:***@partner.example/api');
      expect(h.raw).not.toContain('hunter2pw');
    } finally {
      await t.close();
    }
  });

  it('readiness fails as soon as shutdown begins, while liveness stays up', async () => {
    const t = await startHealthApp({ health: { drainDelayMs: 1200 } });
    expect((await health(t, '/health/ready')).status).toBe(200);
    const closing = t.close();
    await new Promise((r) => setTimeout(r, 200));
    const ready = await health(t, '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.status).toBe('shutting_down');
    expect((await health(t, '/health/live')).status).toBe(200);
    await closing;
  });

  it('can be served as an ordinary controller, under the global prefix and counted', async () => {
    const t = await startHealthApp({
      redisPort: REDIS_PORT,
      globalPrefix: 'api',
      health: { serve: 'controller' },
    });
    try {
      expect((await rawRequest(`${t.url}/health`)).status).toBe(404);
      const res = await rawRequest(`${t.url}/api/health`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).checks.redis.status).toBe('healthy');
      const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
      expect(sumOf(samples, 'http_requests_total', { endpoint: '/api/health' })).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('a required check with nothing to check is reported, not silently skipped', async () => {
    const t = await startHealthApp({ health: { database: true } });
    try {
      const h = await health(t);
      expect(h.status).toBe(503);
      expect(h.body.checks.configuration.error).toContain('no TypeORM DataSource');
    } finally {
      await t.close();
    }
  });
});
