import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import { CATALOG, MetricsService, TraceContext } from '../src/index.js';
import { Integrations, IntegrationsObservabilityModule } from '../src/integrations/index.js';
import { freePort } from './support/prometheus.js';
import { PartnerServer } from './support/partner-server.js';
import { parseExposition, samplesOf, sumOf } from './support/prom-text.js';
import { rawRequest } from './support/http-client.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const PARTNER = Symbol('partner');
const REFUSED = Symbol('refused');
// http.client.request.created (the hook that lets headers be added to node:http calls) exists from Node 22.12.
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const httpCanCarryTrace = major > 22 || (major === 22 && minor >= 12);

@Controller('call')
class CallController {
  constructor(
    @Inject(PARTNER) private readonly partner: string,
    @Inject(REFUSED) private readonly refused: string,
    private readonly http: HttpService,
  ) {}

  /** Calls the partner with global fetch (`via=fetch`) or @nestjs/axios (`via=axios`). */
  @Get()
  async call(
    @Query('via') via: string,
    @Query('path') path: string,
    @Query('timeout') timeout?: string,
  ) {
    const base = path.startsWith('/refused') ? this.refused : this.partner;
    const url = base + path.replace('/refused', '');
    const ms = timeout ? Number(timeout) : 5000;
    try {
      if (via === 'axios') {
        const r = await firstValueFrom(
          this.http.get(url, { timeout: ms, validateStatus: () => true }),
        );
        return { status: r.status };
      }
      const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
      await r.text();
      return { status: r.status };
    } catch (e) {
      return { error: (e as Error).name };
    }
  }
}

describe('outbound integrations', () => {
  const partner = new PartnerServer();
  let t: TestApp;
  let refusedUrl: string;

  const metrics = () => t.app.get(MetricsService);
  const scrape = async () => parseExposition(await metrics().scrape());
  const count = async (integration: string, status?: string, endpoint?: string) =>
    sumOf(await scrape(), CATALOG.integrationRequestsTotal.name, {
      integration,
      ...(status ? { status } : {}),
      ...(endpoint ? { endpoint } : {}),
    });

  beforeAll(async () => {
    await partner.start();
    refusedUrl = `http://127.0.0.1:${await freePort()}`;
    t = await startTestApp('express', {
      imports: [
        HttpModule,
        IntegrationsObservabilityModule.forRoot({
          integrations: {
            partner: {
              baseUrl: partner.url + '/v1',
              routes: ['/customers/:id'],
              breaker: { consecutiveFailures: 3, halfOpenAfterMs: 400 },
            },
            down: { baseUrl: refusedUrl },
          },
        }),
      ],
      controllers: [CallController],
      providers: [
        { provide: PARTNER, useValue: partner.url },
        { provide: REFUSED, useFactory: () => refusedUrl },
      ],
    });
  });

  afterAll(async () => {
    await t.close();
    await partner.stop();
  });

  for (const via of ['fetch', 'axios'] as const) {
    it(`counts success, 500, timeout and refused calls exactly through ${via}`, async () => {
      const before = {
        ok: await count('partner', 'success'),
        err: await count('partner', 'error'),
        down: await count('down', 'error'),
      };
      const call = async (path: string, timeout?: number) =>
        JSON.parse(
          (
            await rawRequest(
              `${t.url}/call?via=${via}&path=${encodeURIComponent(path)}${timeout ? `&timeout=${timeout}` : ''}`,
            )
          ).body,
        ) as { status?: number; error?: string };
      for (const id of [11, 12, 13])
        expect(await call(`/v1/customers/${id}`)).toEqual({ status: 200 });
      expect(await call('/v1/fail')).toEqual({ status: 500 });
      expect(await call('/v1/fail')).toEqual({ status: 500 });
      expect((await call('/v1/slow?ms=2000', 150)).error).toBeDefined();
      expect((await call('/refused/x')).error).toBeDefined();

      expect((await count('partner', 'success')) - before.ok).toBe(3);
      expect((await count('partner', 'error')) - before.err).toBe(3); // two 500s and a timeout
      expect((await count('down', 'error')) - before.down).toBe(1);

      const samples = await scrape();
      const endpoints = new Set(
        samplesOf(samples, CATALOG.integrationRequestsTotal.name).map((s) => s.labels.endpoint),
      );
      // templates, never raw IDs
      expect(endpoints).toContain('GET /customers/:id');
      expect(endpoints).toContain('GET /fail');
      expect(endpoints).toContain('GET /slow');
      expect([...endpoints].some((e) => /\d{2}/.test(e ?? ''))).toBe(false);
      const hist = samplesOf(samples, `${CATALOG.integrationDurationSeconds.name}_count`, {
        integration: 'partner',
        endpoint: 'GET /customers/:id',
      });
      expect(hist[0]!.value).toBeGreaterThanOrEqual(3);
    });
  }

  it('sends the caller trace ID to the partner (fetch always; node:http from Node 22.12)', async () => {
    partner.hits.length = 0;
    for (const via of ['fetch', 'axios']) {
      const res = await rawRequest(
        `${t.url}/call?via=${via}&path=${encodeURIComponent('/v1/customers/77')}`,
        {
          headers: { 'x-trace-id': `trace-${via}-1234` },
        },
      );
      expect(res.headers['x-trace-id']).toBe(`trace-${via}-1234`);
    }
    const [viaFetch, viaAxios] = partner.hitsTo('/v1/customers/77');
    expect(viaFetch!.headers['x-trace-id']).toBe('trace-fetch-1234');
    if (httpCanCarryTrace) expect(viaAxios!.headers['x-trace-id']).toBe('trace-axios-1234');
    else expect(viaAxios!.headers['x-trace-id']).toBeUndefined();

    // A W3C trace ID also travels as traceparent.
    partner.hits.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await rawRequest(`${t.url}/call?via=fetch&path=${encodeURIComponent('/v1/customers/78')}`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    const hit = partner.hitsTo('/v1/customers/78')[0]!;
    expect(hit.headers['x-trace-id']).toBe(traceId);
    expect(hit.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('logs each failed call with integration, endpoint, duration_ms, error_type and the trace ID', async () => {
    t.logs.clear();
    await rawRequest(`${t.url}/call?via=fetch&path=${encodeURIComponent('/v1/fail')}`, {
      headers: { 'x-trace-id': 'failing-call-trace' },
    });
    await rawRequest(`${t.url}/call?via=fetch&path=${encodeURIComponent('/refused/y')}`);
    const lines = t.logs.where({ message: 'integration call failed' });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'WARNING',
      integration: 'partner',
      endpoint: 'GET /fail',
      error_type: 'HttpError',
      status_code: 500,
      trace_id: 'failing-call-trace',
    });
    expect(typeof lines[0]!.duration_ms).toBe('number');
    expect(lines[1]).toMatchObject({
      integration: 'down',
      endpoint: 'GET /y',
      error_type: 'ECONNREFUSED',
    });
  });

  it('opens the breaker after the configured failures, fails fast while open, and recovers through half-open', async () => {
    const integrations = t.app.get(Integrations);
    const state = async () =>
      sumOf(await scrape(), CATALOG.integrationCircuitBreakerState.name, {
        integration: 'partner',
      });
    expect(await state()).toBe(0);
    partner.mode = { status: 500, delayMs: 0 };
    for (let i = 0; i < 3; i++)
      expect((await integrations.fetch('partner', '/switch')).status).toBe(500);
    expect(await state()).toBe(2);

    const hitsBefore = partner.hitsTo('/v1/switch').length;
    const errorsBefore = await count('partner', 'error', 'GET /switch');
    await expect(integrations.fetch('partner', '/switch')).rejects.toThrow(/circuit/i);
    await expect(integrations.fetch('partner', '/switch')).rejects.toThrow(/circuit/i);
    expect(partner.hitsTo('/v1/switch').length).toBe(hitsBefore); // never reached the partner
    expect((await count('partner', 'error', 'GET /switch')) - errorsBefore).toBe(2);

    await new Promise((r) => setTimeout(r, 450));
    partner.mode = { status: 200, delayMs: 300 };
    const trial = integrations.fetch('partner', '/switch');
    await new Promise((r) => setTimeout(r, 100));
    expect(await state()).toBe(1); // half-open while the trial call runs
    expect((await trial).status).toBe(200);
    expect(await state()).toBe(0);
    partner.mode = { status: 200, delayMs: 0 };
  });

  it('records an explicit call once, under the name and endpoint the caller chose', async () => {
    const integrations = t.app.get(Integrations);
    const before = await count('partner', 'success', 'charge');
    const inner = await count('partner', 'success', 'GET /customers/:id');
    await integrations.call('partner', 'charge', () => fetch(`${partner.url}/v1/customers/5`));
    expect((await count('partner', 'success', 'charge')) - before).toBe(1);
    expect(await count('partner', 'success', 'GET /customers/:id')).toBe(inner);
  });

  it('does not record calls to hosts no integration claims', async () => {
    const other = new PartnerServer();
    await other.start();
    try {
      const before = sumOf(await scrape(), CATALOG.integrationRequestsTotal.name);
      await (await fetch(other.url.replace('127.0.0.1', 'localhost') + '/v1/customers/1')).text();
      expect(sumOf(await scrape(), CATALOG.integrationRequestsTotal.name)).toBe(before);
    } finally {
      await other.stop();
    }
  });

  it('computes token expiry at scrape time, so it falls with nobody calling, and forgets tokens', async () => {
    const integrations = t.app.get(Integrations);
    const trace = t.app.get(TraceContext);
    const expiry = async (org: string) =>
      samplesOf(await scrape(), CATALOG.integrationTokenExpirySeconds.name, {
        integration: 'partner',
        org,
      });
    integrations.tokenRefreshed('partner', 'success', {
      expiresAt: Date.now() + 5000,
      org: 'acme',
    });
    trace.run(() => integrations.tokenExpiresAt('partner', new Date(Date.now() + 800)), {
      organization: 'globex',
    });
    const first = (await expiry('acme'))[0]!.value;
    await new Promise((r) => setTimeout(r, 1000));
    const second = (await expiry('acme'))[0]!.value;
    expect(first).toBeLessThanOrEqual(5);
    expect(first - second).toBeGreaterThan(0.9);
    expect(first - second).toBeLessThan(1.5);
    expect((await expiry('globex'))[0]!.value).toBeLessThanOrEqual(0);
    integrations.tokenRefreshed('partner', 'error');
    const s = await scrape();
    expect(
      sumOf(s, CATALOG.integrationTokenRefreshTotal.name, {
        integration: 'partner',
        status: 'success',
      }),
    ).toBe(1);
    expect(
      sumOf(s, CATALOG.integrationTokenRefreshTotal.name, {
        integration: 'partner',
        status: 'error',
      }),
    ).toBe(1);
    integrations.forgetToken('partner', 'globex');
    expect(await expiry('globex')).toHaveLength(0);
    expect(await expiry('acme')).toHaveLength(1);
  });
});

describe('outbound integrations: per-integration settings and breakers the app owns', () => {
  it('counts 4xx as success when configured, skips trace headers when disabled, and reports a cockatiel breaker of the app', async () => {
    const partner = new PartnerServer();
    await partner.start();
    const t = await startTestApp('express', {
      imports: [
        IntegrationsObservabilityModule.forRoot({
          integrations: {
            lenient: {
              baseUrl: partner.url + '/v1',
              clientErrorsAreSuccess: true,
              propagateTrace: false,
            },
          },
        }),
      ],
    });
    try {
      const trace = t.app.get(TraceContext);
      const integrations = t.app.get(Integrations);
      await trace.run(async () => {
        expect((await integrations.fetch('lenient', '/missing')).status).toBe(404);
        await (await fetch(partner.url + '/v1/fail')).text();
      });
      const s = parseExposition(await t.app.get(MetricsService).scrape());
      const count = (status: string, endpoint: string) =>
        sumOf(s, CATALOG.integrationRequestsTotal.name, {
          integration: 'lenient',
          status,
          endpoint,
        });
      expect(count('success', 'GET /missing')).toBe(1);
      expect(count('error', 'GET /fail')).toBe(1); // 5xx stays an error
      expect(
        partner.hits.every(
          (h) => h.headers['x-trace-id'] === undefined && h.headers.traceparent === undefined,
        ),
      ).toBe(true);

      const { circuitBreaker, ConsecutiveBreaker, handleAll } = await import('cockatiel');
      const own = circuitBreaker(handleAll, {
        halfOpenAfter: 60_000,
        breaker: new ConsecutiveBreaker(1),
      });
      integrations.observeBreaker('own', own);
      const state = async () =>
        sumOf(
          parseExposition(await t.app.get(MetricsService).scrape()),
          CATALOG.integrationCircuitBreakerState.name,
          {
            integration: 'own',
          },
        );
      expect(await state()).toBe(0);
      await expect(
        integrations.call('own', 'op', () => Promise.reject(new Error('down'))),
      ).rejects.toThrow('down');
      expect(await state()).toBe(2);
      expect(t.logs.where({ message: 'circuit breaker opened', integration: 'own' })).toHaveLength(
        1,
      );
    } finally {
      await t.close();
      await partner.stop();
    }
  });
});

describe('outbound integrations with a catch-all', () => {
  it('records calls to unnamed hosts under the catch-all name, host in the endpoint', async () => {
    const other = new PartnerServer();
    await other.start();
    const t = await startTestApp('fastify', {
      imports: [IntegrationsObservabilityModule.forRoot({ otherHosts: 'external' })],
    });
    try {
      await (await fetch(other.url + '/v1/orders/3f2b8c1e-1111-4c3a-9d7e-0123456789ab?x=1')).text();
      const s = parseExposition(await t.app.get(MetricsService).scrape());
      expect(
        samplesOf(s, CATALOG.integrationRequestsTotal.name, { integration: 'external' }),
      ).toEqual([
        expect.objectContaining({
          labels: {
            integration: 'external',
            endpoint: 'GET 127.0.0.1/v1/orders/:id',
            status: 'success',
          },
          value: 1,
        }),
      ]);
    } finally {
      await t.close();
      await other.stop();
    }
  });
});
