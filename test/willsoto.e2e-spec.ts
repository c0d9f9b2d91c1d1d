import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  PrometheusModule,
} from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { register } from 'prom-client';
import type { ObservabilityModuleOptions } from '../src/index.js';
import { ObservabilityModule, ObservabilityOptionsError } from '../src/index.js';
import { rawRequest } from './support/http-client.js';
import { LogCapture } from './support/log-capture.js';
import { promtoolCheckMetrics } from './support/promtool.js';

@Controller('orders')
class OrdersController {
  constructor(@InjectMetric('orders_placed_total') private readonly placed: Counter<string>) {}

  @Post()
  place() {
    this.placed.inc({ kind: 'web' });
    return { ok: true };
  }
}

async function start(
  options: Partial<ObservabilityModuleOptions>,
  extraProviders: ReturnType<typeof makeGaugeProvider>[] = [],
): Promise<{ app: INestApplication; url: string; logs: LogCapture }> {
  const logs = new LogCapture();
  @Module({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'willsoto-test',
        logging: { destination: logs },
        ...options,
      }),
      // as apps on @willsoto/nestjs-prometheus have it: its controller at
      // /metrics, default process metrics in prom-client's global registry
      PrometheusModule.register(),
    ],
    controllers: [OrdersController],
    providers: [
      makeCounterProvider({
        name: 'orders_placed_total',
        help: 'Orders placed',
        labelNames: ['kind'],
      }),
      ...extraProviders,
    ],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, new ExpressAdapter(), {
    logger: false,
    abortOnError: false,
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), logs };
}

const typeLines = (body: string, name: string) =>
  body.split('\n').filter((l) => l === `# TYPE ${name} counter` || l.startsWith(`# TYPE ${name} `));

describe('coming from @willsoto/nestjs-prometheus (real module, prom-client global registry)', () => {
  afterEach(() => register.clear());

  it("serves the app's prom-client metrics once, on the module's endpoint, promtool-clean", async () => {
    const { app, url, logs } = await start({ metrics: { registries: ['global'] } });
    try {
      for (let i = 0; i < 3; i++)
        expect((await rawRequest(`${url}/orders`, { method: 'POST' })).status).toBe(201);
      const res = await rawRequest(`${url}/metrics`);
      expect(res.status).toBe(200);
      // this module answered (willsoto's controller at the same path never runs)
      expect(res.body).toContain('# TYPE http_requests_total counter');
      expect(typeLines(res.body, 'orders_placed_total')).toHaveLength(1);
      expect(res.body).toContain('orders_placed_total{kind="web"} 3');
      // process metrics collected by both: served once, and the app is told
      expect(typeLines(res.body, 'process_cpu_user_seconds_total')).toHaveLength(1);
      expect(
        logs.lines.some((l) => l.level === 'WARNING' && String(l.message).includes('served once')),
      ).toBe(true);
      const check = promtoolCheckMetrics(res.body);
      expect(check.output).toBe('');
      expect(check.status).toBe(0);
      // and the OpenMetrics form carries it too
      const om = await rawRequest(`${url}/metrics`, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      });
      expect(om.body).toContain('orders_placed_total{kind="web"} 3');
      expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('without metrics.registries the global registry is not served', async () => {
    const { app, url } = await start({});
    try {
      await rawRequest(`${url}/orders`, { method: 'POST' });
      expect((await rawRequest(`${url}/metrics`)).body).not.toContain('orders_placed_total');
    } finally {
      await app.close();
    }
  });

  it('a prom-client metric named like a catalog metric stops start-up, naming it', async () => {
    const clash = makeGaugeProvider({ name: 'http_requests_total', help: 'mine' });
    await expect(start({ metrics: { registries: ['global'] } }, [clash])).rejects.toThrow(
      ObservabilityOptionsError,
    );
    register.clear();
    await expect(start({ metrics: { registries: ['global'] } }, [clash])).rejects.toThrow(
      /metrics\.registries.*"http_requests_total"/,
    );
  });

  it('rejects a registries entry that is not a registry', async () => {
    await expect(start({ metrics: { registries: [{} as never] } })).rejects.toThrow(
      /metrics\.registries.*prom-client registries or 'global'/,
    );
  });
});
