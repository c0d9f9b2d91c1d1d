import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { PinoLogger } from 'nestjs-pino';
import {
  CATALOG,
  CATALOG_DEFINITIONS,
  MetricsService,
  ObservabilityModule,
  StructuredLogger,
} from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { IntegrationsObservabilityModule } from '../src/integrations/index.js';
import { SyncMetrics, SyncObservabilityModule } from '../src/sync/index.js';
import { HealthObservabilityModule } from '../src/terminus/index.js';
import { LogCapture } from './support/log-capture.js';
import { rawRequest } from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { ADAPTERS, startTestApp } from './support/test-app.js';

@Injectable()
class Settings {
  readonly metricsPath = '/prom';
  readonly logs = new LogCapture();
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

@Controller()
class PingController {
  constructor(private readonly metrics: MetricsService) {}
  @Get('ping')
  ping() {
    this.metrics
      .counter(CATALOG.syncDeltasTotal)
      .inc({ doctype: 'Note', org: 'acme', operation: 'update' });
    return 'pong';
  }
}

describe('ObservabilityModule', () => {
  it('forRootAsync resolves options from injected providers', async () => {
    @Module({
      imports: [
        ObservabilityModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (s: Settings) => ({
            serviceName: 'async-api',
            metrics: { path: s.metricsPath },
            logging: { destination: s.logs },
          }),
        }),
      ],
      controllers: [PingController],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      await rawRequest(`${url}/ping`);
      const res = await rawRequest(`${url}/prom`);
      expect(res.status).toBe(200);
      const samples = parseExposition(res.body);
      expect(sumOf(samples, 'http_requests_total', { endpoint: '/ping' })).toBe(1);
      expect(
        sumOf(samples, 'sync_deltas_total', { doctype: 'Note', org: 'acme', operation: 'update' }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('stops start-up with an error that names a wrong option', async () => {
    @Module({
      imports: [ObservabilityModule.forRoot({ serviceName: 'x', metrics: { path: 'no-slash' } })],
    })
    class BadModule {}
    await expect(
      NestFactory.create(BadModule, { logger: false, abortOnError: false }),
    ).rejects.toThrow('invalid option "metrics.path": must start with "/"');
  });

  it('rejects `isGlobal` with an explanation instead of a dependency error', () => {
    const options = { serviceName: 'x', isGlobal: false } as never;
    expect(() => ObservabilityModule.forRoot(options)).toThrow(/always global/);
    expect(() =>
      ObservabilityModule.forRootAsync({ isGlobal: false, useFactory: () => ({}) } as never),
    ).toThrow(/always global/);
  });

  it('works imported in a feature module, with the integrations imported elsewhere', async () => {
    const logs = new LogCapture();
    @Module({
      imports: [
        ObservabilityModule.forRoot({ serviceName: 'shape', logging: { destination: logs } }),
      ],
    })
    class CoreModule {}

    @Controller()
    class ShapeController {
      constructor(
        private readonly metrics: MetricsService,
        private readonly log: StructuredLogger,
        private readonly pino: PinoLogger,
        private readonly sync: SyncMetrics,
      ) {}
      @Get('shape')
      shape() {
        this.sync.delta('Note', 'update', 'acme');
        this.metrics
          .counter(CATALOG.syncConflictsTotal)
          .inc({ doctype: 'Note', strategy: 'merge' });
        this.log.info('from the structured logger');
        this.pino.info('from nestjs-pino');
        return 'ok';
      }
    }
    @Module({
      imports: [
        SyncObservabilityModule.forRoot(),
        IntegrationsObservabilityModule.forRoot({ integrations: {} }),
        HealthObservabilityModule.forRoot(),
      ],
      controllers: [ShapeController],
    })
    class FeatureModule {}

    @Module({ imports: [FeatureModule, CoreModule] })
    class AppModule {}

    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      expect((await rawRequest(`${url}/shape`)).status).toBe(200);
      const samples = parseExposition((await rawRequest(`${url}/metrics`)).body);
      expect(sumOf(samples, 'http_requests_total', { endpoint: '/shape' })).toBe(1);
      expect(sumOf(samples, CATALOG.syncDeltasTotal.name, { doctype: 'Note' })).toBe(1);
      expect(sumOf(samples, CATALOG.syncConflictsTotal.name, { doctype: 'Note' })).toBe(1);
      // (PinoLogger resolved above; where its line goes is nestjs-pino's process-wide
      // root, the first app's in this file — see docs/design-notes.md.)
      expect(logs.lines.map((l) => l.message)).toContain('from the structured logger');
    } finally {
      await app.close();
    }
  });

  describe('families without a recorder', () => {
    const typeLines = (body: string) =>
      new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const groupFamilies = (group: string) =>
      CATALOG_DEFINITIONS.filter((d) => d.group === group).map((d) => d.name);

    it('are not exposed as empty blocks in an app without their integration', async () => {
      const t = await startTestApp('express');
      try {
        const types = typeLines((await rawRequest(`${t.url}/metrics`)).body);
        for (const name of groupFamilies('http')) expect(types).toContain(name);
        for (const name of groupFamilies('self')) expect(types).toContain(name);
        for (const group of ['jobs', 'database', 'integrations', 'sync', 'socketio']) {
          for (const name of groupFamilies(group)) expect(types).not.toContain(name);
        }
      } finally {
        await t.close();
      }
    });

    it('are exposed from the start once their module is installed, or when asked for', async () => {
      const withSync = await startTestApp('express', {
        imports: [SyncObservabilityModule.forRoot()],
      });
      const all = await startTestApp('express', {
        options: { metrics: { exposeAllFamilies: true } },
      });
      try {
        const sync = typeLines((await rawRequest(`${withSync.url}/metrics`)).body);
        for (const name of groupFamilies('sync')) expect(sync).toContain(name);
        for (const name of groupFamilies('socketio')) expect(sync).not.toContain(name);
        const every = typeLines((await rawRequest(`${all.url}/metrics`)).body);
        for (const d of CATALOG_DEFINITIONS) expect(every).toContain(d.name);
      } finally {
        await withSync.close();
        await all.close();
      }
    });
  });

  // That the core loads without the optional peers is proven by test/optional-peers.e2e-spec.ts
  // (the built package run with every peer unresolvable).

  describe.each(ADAPTERS)('on %s', (adapter) => {
    it('ignores configured paths in metrics and access logs, but still traces them', async () => {
      const t = await startTestApp(adapter, {
        options: { http: { ignorePaths: ['/orgs/1/items', /^\/tr/] } },
      });
      try {
        const res = await rawRequest(`${t.url}/orgs/1/items`);
        expect(res.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
        await rawRequest(`${t.url}/trace`);
        await rawRequest(`${t.url}/orgs/2/items`);
        const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
        expect(sumOf(samples, 'http_requests_total')).toBe(1);
        expect(t.logs.lines.filter((l) => l.status !== undefined).map((l) => l.path)).toEqual([
          '/orgs/2/items',
        ]);
        // logs written inside an ignored request still carry its trace
        expect(t.logs.where({ message: 'before await' })[0]!.trace_id).toMatch(/^[0-9a-f]{32}$/);
      } finally {
        await t.close();
      }
    });

    it('survives a throwing organization resolver and counts the error', async () => {
      const t = await startTestApp(adapter, {
        options: {
          organization: {
            resolve: () => {
              throw new Error('resolver bug');
            },
          },
        },
      });
      try {
        expect((await rawRequest(`${t.url}/orgs/1/items`)).status).toBe(200);
        const registry = t.app.get(MetricsRegistry);
        expect(
          registry.counter(CATALOG.httpRequestsTotal).get({
            method: 'GET',
            endpoint: '/orgs/:orgId/items',
            status: '200',
            org: 'system',
          }),
        ).toBe(1);
        expect(
          registry
            .counter(CATALOG.instrumentationErrorsTotal)
            .get({ component: 'resolver:organization' }),
        ).toBeGreaterThan(0);
      } finally {
        await t.close();
      }
    });

    it('uses a custom user resolver and organization fallback', async () => {
      const t = await startTestApp(adapter, {
        options: {
          resolveUser: (req) => (req.headers['x-user'] as string | undefined) ?? null,
          organization: { fallback: 'none' },
        },
      });
      try {
        await rawRequest(`${t.url}/trace`, { headers: { 'x-user': 'grace' } });
        expect(t.logs.where({ message: 'after await' })[0]).toMatchObject({ user: 'grace' });
        const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
        expect(sumOf(samples, 'http_requests_total', { org: 'none' })).toBe(1);
      } finally {
        await t.close();
      }
    });

    it('gives resolvers one header through header(), whatever case it arrived in', async () => {
      const seen: (string | undefined)[] = [];
      const t = await startTestApp(adapter, {
        options: {
          organization: {
            resolve: (req) => {
              seen.push(req.header?.('x-tenant'));
              return req.header?.('x-tenant');
            },
          },
        },
      });
      try {
        await rawRequest(`${t.url}/orgs/1/items`, { headers: { 'X-Tenant': 'initech' } });
        await rawRequest(`${t.url}/orgs/2/items`);
        // (called again while unknown: the body that names it may come later)
        expect(new Set(seen)).toEqual(new Set(['initech', undefined]));
        const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
        expect(sumOf(samples, 'http_requests_total', { org: 'initech' })).toBe(1);
        expect(sumOf(samples, 'http_requests_total', { org: 'system' })).toBe(1);
      } finally {
        await t.close();
      }
    });

    it('can turn HTTP metrics off while keeping trace IDs', async () => {
      const t = await startTestApp(adapter, { options: { http: { enabled: false } } });
      try {
        const res = await rawRequest(`${t.url}/orgs/1/items`);
        expect(res.headers['x-trace-id']).toBeDefined();
        const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
        expect(sumOf(samples, 'http_requests_total')).toBe(0);
      } finally {
        await t.close();
      }
    });
  });
});
