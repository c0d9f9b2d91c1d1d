import type { CallHandler, CanActivate, NestInterceptor } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import compression from 'compression';
import fastifyCompress from '@fastify/compress';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { map } from 'rxjs';
import { CATALOG, CATALOG_DEFINITIONS, ObservabilityModule } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { fillCatalog } from './support/fill-catalog.js';
import { rawRequest } from './support/http-client.js';
import { parseExposition, samplesOf, sumOf } from './support/prom-text.js';
import { promtoolCheckMetrics } from './support/promtool.js';
import type { TestApp } from './support/test-app.js';
import { ADAPTERS, startTestApp } from './support/test-app.js';

@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Injectable()
class WrapResponses implements NestInterceptor {
  intercept(_ctx: unknown, next: CallHandler) {
    return next.handle().pipe(map((data: unknown) => ({ success: true, data })));
  }
}

/** GET with gzip accepted, body returned undecoded. */
function getGzip(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; encoding?: string; body: Buffer; type?: string }>(
    (resolve, reject) => {
      request(url, { headers: { 'accept-encoding': 'gzip', ...headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            encoding: res.headers['content-encoding'],
            type: res.headers['content-type'],
            body: Buffer.concat(chunks),
          }),
        );
      })
        .on('error', reject)
        .end();
    },
  );
}

describe.each(ADAPTERS)('/metrics on %s', (adapter) => {
  describe('with a global prefix, a global guard, a response-wrapping interceptor and compression', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(adapter, {
        providers: [
          { provide: APP_GUARD, useClass: DenyAll },
          { provide: APP_INTERCEPTOR, useClass: WrapResponses },
        ],
        setup: async (app) => {
          app.setGlobalPrefix('api');
          if (adapter === 'express') app.use(compression({ threshold: 0 }));
          else
            await (app as NestFastifyApplication).register(
              fastifyCompress as never,
              { threshold: 0 } as never,
            );
        },
      });
      fillCatalog(t.app.get(MetricsRegistry));
    });
    afterAll(() => t.close());

    it('the app itself is affected by all of them', async () => {
      const res = await getGzip(`${t.url}/api/orgs/1/items`);
      expect(res.status).toBe(403);
      expect(res.encoding).toBe('gzip');
    });

    it('serves /metrics unprefixed, unguarded, unwrapped', async () => {
      const res = await rawRequest(`${t.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body.startsWith('# HELP ')).toBe(true);
      expect(res.body).not.toContain('"success"');
      expect((await rawRequest(`${t.url}/api/metrics`)).body).not.toContain('# HELP');
    });

    it('compresses only with its own gzip, and the content is the same exposition', async () => {
      const res = await getGzip(`${t.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.encoding).toBe('gzip');
      const zipped = gunzipSync(res.body).toString('utf8');
      const plain = (await rawRequest(`${t.url}/metrics`)).body;
      // Same families and series in the same order (values of process metrics move between scrapes).
      const shape = (text: string) =>
        text
          .split('\n')
          .filter(
            (l) =>
              l !== '' &&
              !/^(process_|nodejs_)/.test(l) &&
              !/^# (HELP|TYPE) (process_|nodejs_)/.test(l),
          )
          .map((l) => (l.startsWith('#') ? l : l.slice(0, l.lastIndexOf(' '))));
      expect(shape(zipped)).toEqual(shape(plain));
      expect(zipped).toContain('# TYPE http_requests_total counter');
    });

    it('passes promtool check metrics with every catalog family present', async () => {
      const text = (await rawRequest(`${t.url}/metrics`)).body;
      for (const def of CATALOG_DEFINITIONS)
        expect(text).toContain(`# TYPE ${def.name} ${def.type}`);
      expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    });

    it('is not counted as HTTP traffic', async () => {
      for (let i = 0; i < 3; i++) await rawRequest(`${t.url}/metrics`);
      const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
      const endpoints = samplesOf(samples, CATALOG.httpRequestsTotal.name).map(
        (s) => s.labels.endpoint,
      );
      expect(endpoints.some((e) => e?.includes('metrics'))).toBe(false);
    });

    it('answers HEAD without a body and other methods with 405', async () => {
      const head = await rawRequest(`${t.url}/metrics`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      const post = await rawRequest(`${t.url}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
    });
  });

  describe('OpenMetrics', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(adapter);
    });
    afterAll(() => t.close());

    it('is served when the scraper asks for it, with trace-ID exemplars on request latency', async () => {
      const trace = 'exemplar-trace-1';
      await rawRequest(`${t.url}/orgs/1/items`, { headers: { 'x-trace-id': trace } });
      const res = await rawRequest(`${t.url}/metrics`, {
        headers: {
          accept:
            'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        },
      });
      expect(res.headers['content-type']).toBe(
        'application/openmetrics-text; version=1.0.0; charset=utf-8',
      );
      expect(res.body.endsWith('# EOF\n')).toBe(true);
      expect(res.body).toContain('# TYPE http_requests counter');
      const buckets = parseExposition(res.body).filter(
        (s) =>
          s.name === 'http_request_duration_seconds_bucket' &&
          s.labels.endpoint === '/orgs/:orgId/items',
      );
      const withExemplar = buckets.filter((b) => b.exemplar !== undefined);
      expect(withExemplar).toHaveLength(1);
      expect(withExemplar[0]!.exemplar).toMatch(
        new RegExp(`^\\{trace_id="${trace}"\\} [0-9.e-]+ \\d+\\.\\d{3}$`),
      );
      // Prometheus text has no exemplars.
      expect((await rawRequest(`${t.url}/metrics`)).body).not.toContain('trace_id=');
    });
  });

  describe('auth', () => {
    it.each([
      [
        'bearer',
        { type: 'bearer', token: 's3cret-token' } as const,
        'Bearer s3cret-token',
        'Bearer wrong',
      ],
      [
        'basic',
        { type: 'basic', username: 'prom', password: 'pa55' } as const,
        `Basic ${Buffer.from('prom:pa55').toString('base64')}`,
        `Basic ${Buffer.from('prom:nope').toString('base64')}`,
      ],
    ])('%s: 401 without or with wrong credentials, 200 with them', async (_n, auth, good, bad) => {
      const t = await startTestApp(adapter, { options: { metrics: { auth } } });
      try {
        const none = await rawRequest(`${t.url}/metrics`);
        expect(none.status).toBe(401);
        expect(none.headers['www-authenticate']).toMatch(/realm="metrics"/);
        expect(none.body).not.toContain('http_requests_total');
        expect(
          (await rawRequest(`${t.url}/metrics`, { headers: { authorization: bad } })).status,
        ).toBe(401);
        const ok = await rawRequest(`${t.url}/metrics`, { headers: { authorization: good } });
        expect(ok.status).toBe(200);
        expect(ok.body).toContain('# TYPE http_requests_total counter');
        // The app's own routes do not need the metrics credentials.
        expect((await rawRequest(`${t.url}/orgs/1/items`)).status).toBe(200);
      } finally {
        await t.close();
      }
    });
  });

  it('can serve metrics on a separate port only', async () => {
    const t = await startTestApp(adapter, { options: { metrics: { port: 0, host: '127.0.0.1' } } });
    try {
      const address = t.app.get(ObservabilityModule).metricsAddress()!;
      await rawRequest(`${t.url}/orgs/1/items`);
      const res = await rawRequest(`http://127.0.0.1:${address.port}/metrics`);
      expect(res.status).toBe(200);
      expect(
        sumOf(parseExposition(res.body), 'http_requests_total', { endpoint: '/orgs/:orgId/items' }),
      ).toBe(1);
      expect((await rawRequest(`http://127.0.0.1:${address.port}/other`)).status).toBe(404);
      // The app's port no longer answers /metrics itself.
      expect((await rawRequest(`${t.url}/metrics`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('two applications in one process', () => {
  it('keep separate registries and never collide', async () => {
    const a = await startTestApp('express');
    const b = await startTestApp('fastify');
    try {
      for (let i = 0; i < 3; i++) await rawRequest(`${a.url}/orgs/1/items`);
      await rawRequest(`${b.url}/orgs/1/items`);
      const ca = sumOf(
        parseExposition((await rawRequest(`${a.url}/metrics`)).body),
        'http_requests_total',
      );
      const cb = sumOf(
        parseExposition((await rawRequest(`${b.url}/metrics`)).body),
        'http_requests_total',
      );
      expect([ca, cb]).toEqual([3, 1]);
      expect(a.app.get(MetricsRegistry)).not.toBe(b.app.get(MetricsRegistry));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
