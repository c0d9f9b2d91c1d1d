import 'reflect-metadata';
import type {
  CallHandler,
  DynamicModule,
  ExecutionContext,
  INestApplication,
  NestInterceptor,
  Provider,
} from '@nestjs/common';
import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  InjectMetric,
  makeCounterProvider,
  makeHistogramProvider,
  PrometheusModule,
} from '@willsoto/nestjs-prometheus';
import promBundle from 'express-prom-bundle';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { Counter, Histogram } from 'prom-client';
import { tap } from 'rxjs';
import { ObservabilityModule } from '../src/index.js';

/**
 * One benchmark server: the same two routes under a given instrumentation
 * variant. Started by bench/run.ts as a child process pinned to its own core.
 * Usage: node server.js <variant> <express|fastify> <port> <logfile>
 */

export const VARIANTS = [
  'bare',
  'als-only',
  'noop-interceptor',
  'obs-metrics',
  'obs-metrics-trace',
  'obs-full',
  'willsoto-interceptor',
  'willsoto-interceptor-pino',
  'express-prom-bundle',
] as const;
export type Variant = (typeof VARIANTS)[number];

@Controller()
class BenchController {
  @Get('hello')
  hello(): string {
    return 'hello world';
  }

  @Get('orgs/:orgId/items/:itemId')
  item(@Param('orgId') orgId: string, @Param('itemId') itemId: string) {
    return { orgId, itemId };
  }
}

@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

/** The usual hand-written metrics interceptor of @willsoto/nestjs-prometheus users. */
@Injectable()
class PromInterceptor implements NestInterceptor {
  constructor(
    @InjectMetric('http_requests_total') private readonly requests: Counter<string>,
    @InjectMetric('http_request_duration_seconds') private readonly duration: Histogram<string>,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler) {
    const start = performance.now();
    const http = ctx.switchToHttp();
    const req = http.getRequest<{
      method: string;
      route?: { path: string };
      routeOptions?: { url: string };
    }>();
    const record = (status: number) => {
      const route = req.route?.path ?? req.routeOptions?.url ?? 'unknown';
      this.requests.inc({ method: req.method, route, status: String(status) });
      this.duration.observe({ method: req.method, route }, (performance.now() - start) / 1000);
    };
    return next.handle().pipe(
      tap({
        next: () => record(http.getResponse<{ statusCode: number }>().statusCode),
        error: (e: { status?: number }) => record(e.status ?? 500),
      }),
    );
  }
}

function willsoto(): { imports: DynamicModule[]; providers: Provider[] } {
  return {
    imports: [PrometheusModule.register({ defaultMetrics: { enabled: false } })],
    providers: [
      makeCounterProvider({
        name: 'http_requests_total',
        help: 'requests',
        labelNames: ['method', 'route', 'status'],
      }),
      makeHistogramProvider({
        name: 'http_request_duration_seconds',
        help: 'latency',
        labelNames: ['method', 'route'],
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      }),
      { provide: APP_INTERCEPTOR, useClass: PromInterceptor },
    ],
  };
}

function moduleFor(variant: Variant, logFile: string): DynamicModule {
  const imports: DynamicModule[] = [];
  const providers: Provider[] = [];
  // BENCH_OPTIONS (JSON): options merged over each module variant's, section by
  // section, for ablations (e.g. {"trace":{"responseHeader":false}}).
  const ablation = JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Record<string, object>;
  const obs = (extra: Record<string, object>) => {
    const merged: Record<string, object> = {
      metrics: { defaultMetrics: false },
      logging: { destination: logFile, replaceNestLogger: false },
      ...extra,
    };
    for (const [k, v] of Object.entries(ablation)) merged[k] = { ...merged[k], ...v };
    return ObservabilityModule.forRoot({ serviceName: 'bench', ...merged });
  };
  switch (variant) {
    case 'noop-interceptor':
      providers.push({ provide: APP_INTERCEPTOR, useClass: NoopInterceptor });
      break;
    case 'obs-metrics':
      imports.push(obs({ trace: { enabled: false }, http: { accessLog: false } }));
      break;
    case 'obs-metrics-trace':
      imports.push(obs({ http: { accessLog: false } }));
      break;
    case 'obs-full':
      imports.push(obs({}));
      break;
    case 'willsoto-interceptor': {
      const w = willsoto();
      imports.push(...w.imports);
      providers.push(...w.providers);
      break;
    }
    case 'willsoto-interceptor-pino': {
      const w = willsoto();
      imports.push(
        ...w.imports,
        LoggerModule.forRoot({
          pinoHttp: { stream: pino.destination({ dest: logFile, sync: false }) },
        }),
      );
      providers.push(...w.providers);
      break;
    }
    default:
      break;
  }
  @Module({ imports, controllers: [BenchController], providers })
  class BenchModule {}
  return { module: BenchModule };
}

/**
 * Reference variant: nothing but an AsyncLocalStorage entered per request.
 * On Node 20 that alone enables async hooks for every promise, the floor
 * cost of any per-request context (trace IDs in logs included).
 */
function enterAlsPerRequest(app: INestApplication, adapterKind: string): void {
  const als = new AsyncLocalStorage<object>();
  const instance = app.getHttpAdapter().getInstance() as {
    use?: (fn: (req: unknown, res: unknown, next: () => void) => void) => void;
    addHook?: (name: string, fn: (req: unknown, reply: unknown, done: () => void) => void) => void;
  };
  if (adapterKind === 'fastify') {
    instance.addHook!('onRequest', (_req, _reply, done) => {
      als.enterWith({});
      done();
    });
  } else {
    instance.use!((_req, _res, next) => {
      als.enterWith({});
      next();
    });
  }
}

/** Builds (but does not start) the app of one variant. */
export async function createBenchApp(
  variant: Variant,
  adapterKind: string,
  logFile: string,
): Promise<INestApplication> {
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
  const adapter = adapterKind === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(moduleFor(variant, logFile), adapter, {
    logger: false,
    bufferLogs: false,
  });
  if (variant === 'express-prom-bundle') {
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  }
  if (variant === 'willsoto-interceptor-pino') app.useLogger(app.get(PinoNestLogger));
  if (variant === 'als-only') enterAlsPerRequest(app, adapterKind);
  return app;
}

async function main(): Promise<void> {
  const [variant, adapterKind, port, logFile] = process.argv.slice(2) as [
    Variant,
    string,
    string,
    string,
  ];
  const app = await createBenchApp(variant, adapterKind, logFile);
  await app.listen(Number(port), '127.0.0.1');
  // Under --expose-gc, SIGUSR2 runs a full GC and answers `gc` on stdout: the
  // instruction benchmark starts every measured window from the same heap.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    process.on('SIGUSR2', () => {
      gc();
      process.stdout.write('gc\n');
    });
  }
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// Only when run as the server process, not when imported for VARIANTS.
if (process.argv[1]?.endsWith('server.js')) void main();
