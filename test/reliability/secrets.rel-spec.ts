// the module object itself (a namespace import would be a copy the spy cannot reach)
import crypto from 'node:crypto';
import { startDemo, type DemoProcess } from '../support/demo-process.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { OwnPostgres } from '../support/postgres.js';
import { OwnRedis } from '../support/redis.js';
import { report } from '../support/reliability-report.js';
import { startTestApp } from '../support/test-app.js';

// Credentials never leak: not in log lines (the demo's, with its database
// and Redis failing and a scraper guessing the token), not in health bodies,
// and metrics credentials are compared in constant time and never logged.

const PG_PASSWORD = 'pg-secret-pw';
const REDIS_PASSWORD = 'redis-secret-pw';
const TOKEN = 'metrics-secret-tok';
const GUESS = 'wrong-secret-guess';
const SECRETS = [PG_PASSWORD, REDIS_PASSWORD, TOKEN, GUESS];

describe('secrets in the demo', () => {
  let redis: OwnRedis;
  let pg: OwnPostgres;
  let demo: DemoProcess;
  const bodies: string[] = [];

  beforeAll(async () => {
    redis = await OwnRedis.create(REDIS_PASSWORD);
    await redis.start();
    pg = await OwnPostgres.create();
    await pg.start();
    expect(pg.url).toContain(PG_PASSWORD);
    demo = await startDemo({
      REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
      DATABASE_URL: pg.url,
      METRICS_TOKEN: TOKEN,
    });
  }, 120_000);

  afterAll(async () => {
    await demo?.stop('SIGKILL');
    await redis?.stop();
    await pg?.destroy();
  });

  it('asks scrapers for the token: 401 without it or with a wrong one, and logs neither', async () => {
    const before = demo.stdout().length;
    expect((await rawRequest(`${demo.url}/metrics`)).status).toBe(401);
    expect(
      (await rawRequest(`${demo.url}/metrics`, { headers: { authorization: `Bearer ${GUESS}` } }))
        .status,
    ).toBe(401);
    expect(
      (await rawRequest(`${demo.url}/metrics`, { headers: { authorization: GUESS } })).status,
    ).toBe(401);
    const ok = await rawRequest(`${demo.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(ok.status).toBe(200);
    bodies.push(ok.body);
    await new Promise((r) => setTimeout(r, 300)); // a batch of log lines is out
    const lines = demo.stdout().slice(before);
    expect(lines).not.toContain('/metrics');
  });

  it('with Redis and PostgreSQL failing, neither health bodies nor log lines carry a password', async () => {
    await redis.stop();
    await pg.stop();
    // drive the failing paths: queries, enqueues, partner calls, health
    await rawRequest(`${demo.url}/orgs/acme/items`);
    await rawRequest(`${demo.url}/orgs/acme/reports`, { method: 'POST' }).catch(() => undefined);
    await eventually(async () => {
      const h = await rawRequest(`${demo.url}/health`);
      bodies.push(h.body);
      return h.status === 503 && h.body.includes('database') && h.body.includes('redis');
    }, 20_000);
    for (const path of ['/health/ready', '/health/live'])
      bodies.push((await rawRequest(`${demo.url}${path}`)).body);
    await new Promise((r) => setTimeout(r, 2000)); // reconnect attempts log their errors
    const { ms } = await demo.stop('SIGTERM');
    const output = demo.stdout() + demo.stderr();
    expect(output.length).toBeGreaterThan(1000);
    // the failures were logged (so the check below looked at error lines)
    expect(output).toMatch(/"level":"(ERROR|WARNING)"/);
    for (const secret of SECRETS) {
      expect(output).not.toContain(secret);
      for (const b of bodies) expect(b).not.toContain(secret);
    }
    // and no URL with credentials in any other shape
    expect(output).not.toMatch(/:\/\/[^/\s"@]*:[^/\s"@*]+@/);
    report('secrets', {
      checkedOutputKB: Math.round(output.length / 1024),
      healthBodies: bodies.length,
      stopMs: ms,
    });
  }, 60_000);
});

describe('metrics credentials', () => {
  it('are compared in constant time, whatever the length of the guess', async () => {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    const t = await startTestApp('express', {
      options: { metrics: { auth: { type: 'basic', username: 'prom', password: 'pw-123' } } },
    });
    try {
      const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
      for (const guess of ['', 'x', basic('prom:pw-124'), basic('prom:pw-123') + 'x'.repeat(100)]) {
        const before = spy.mock.calls.length;
        expect(
          (await rawRequest(`${t.url}/metrics`, { headers: guess ? { authorization: guess } : {} }))
            .status,
        ).toBe(401);
        // a guess of any length is compared with timingSafeEqual (a missing header is not compared)
        if (guess !== '') expect(spy.mock.calls.length).toBe(before + 1);
      }
      const right = await rawRequest(`${t.url}/metrics`, {
        headers: { authorization: basic('prom:pw-123') },
      });
      expect(right.status).toBe(200);
      expect(t.logs.raw.join('\n')).not.toContain('pw-12');
    } finally {
      spy.mockRestore();
      await t.close();
    }
  });
});
