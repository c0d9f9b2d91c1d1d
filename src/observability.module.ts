import type {
  MiddlewareConsumer,
  NestModule,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  DynamicModule,
  Provider,
} from '@nestjs/common';
import { ConfigurableModuleBuilder, Global, Inject, Logger, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createServer, type Server } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import {
  collectDefaultMetrics,
  register as promGlobal,
  Registry as PromRegistry,
} from 'prom-client';
import { TraceContext } from './context/trace-context.js';
import { JobInstrumentation } from './jobs/job-instrumentation.js';
import { installHttpHooks } from './http/adapter-hooks.js';
import { ObservabilityOptionsError } from './options/schema.js';
import { HttpInstrumentation } from './http/http-instrumentation.js';
import { AccessLog } from './logging/access-log.js';
import type { OwnedDestination } from './logging/json-logger.js';
import { createJsonLogger } from './logging/json-logger.js';
import { openDestination } from './logging/log-destination.js';
import { LoggedErrors } from './logging/logged-errors.js';
import { ObservabilityLogger } from './logging/observability-logger.js';
import { StructuredLogger } from './logging/structured-logger.js';
import { MetricsEndpoint } from './metrics/metrics-endpoint.js';
import { ClusterPeers, defaultClusterDir } from './metrics/cluster/cluster-peers.js';
import { MetricsRegistry } from './metrics/metrics-registry.js';
import { MetricsService } from './metrics/metrics.service.js';
import { JSON_LOGGER, LOG_DESTINATION, OBSERVABILITY_OPTIONS } from './observability.constants.js';
import type { ObservabilityModuleOptions, ResolvedOptions } from './observability.options.js';
import { httpSettings, resolveOptions } from './observability.options.js';

const builder = new ConfigurableModuleBuilder<ObservabilityModuleOptions>({
  moduleName: 'Observability',
})
  .setClassMethodName('forRoot')
  .build();
const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } = builder;

/** `forRoot` options. */
export type ObservabilityModuleSyncOptions = typeof builder.OPTIONS_TYPE;
/** `forRootAsync` options: `imports`, `inject`, `useFactory` (or `useClass`). */
export type ObservabilityModuleAsyncOptions = typeof builder.ASYNC_OPTIONS_TYPE;

const providers: Provider[] = [
  {
    provide: OBSERVABILITY_OPTIONS,
    // Defaults and validation: a wrong option stops start-up with its name.
    useFactory: (raw: unknown) => resolveOptions(raw),
    inject: [MODULE_OPTIONS_TOKEN],
  },
  { provide: TraceContext, useFactory: () => new TraceContext() },
  {
    provide: LOG_DESTINATION,
    useFactory: (o: ResolvedOptions) => openDestination(o.logging),
    inject: [OBSERVABILITY_OPTIONS],
  },
  { provide: LoggedErrors, useFactory: () => new LoggedErrors() },
  {
    provide: JSON_LOGGER,
    useFactory: (
      o: ResolvedOptions,
      trace: TraceContext,
      dest: OwnedDestination,
      errors: LoggedErrors,
    ) =>
      createJsonLogger(
        {
          level: o.logging.level,
          redact: o.logging.redact,
          serviceName: o.serviceName,
          site: o.site,
          openTelemetry: o.trace.enabled && o.trace.openTelemetry,
        },
        trace,
        dest.stream,
        errors,
      ),
    inject: [OBSERVABILITY_OPTIONS, TraceContext, LOG_DESTINATION, LoggedErrors],
  },
  {
    provide: MetricsRegistry,
    useFactory: (o: ResolvedOptions, log: Pino, errors: LoggedErrors, dest: OwnedDestination) => {
      const registry = new MetricsRegistry({
        labels: o.labels,
        defaultLabels: o.metrics.defaultLabels,
        collectorTimeoutMs: o.metrics.collectorTimeoutMs,
        exposeAllFamilies: o.metrics.exposeAllFamilies,
        onCollectorError: (collector, err) =>
          log.warn(
            { err, collector },
            `nestjs-observability: collector "${collector}" failed; its gauges are stale`,
          ),
      });
      if (o.metrics.enabled && o.metrics.defaultMetrics) {
        // A registry of our own per app: process metrics never land in
        // prom-client's global registry, so apps and test runs do not collide.
        const prom = new PromRegistry();
        collectDefaultMetrics({ register: prom });
        registry.addPromRegistry(prom);
      }
      if (o.metrics.enabled) {
        for (const r of o.metrics.registries)
          registry.addPromRegistry(r === 'global' ? promGlobal : r);
      }
      errors.attach(registry);
      dest.attach(registry);
      return registry;
    },
    inject: [OBSERVABILITY_OPTIONS, JSON_LOGGER, LoggedErrors, LOG_DESTINATION],
  },
  {
    provide: MetricsService,
    useFactory: (r: MetricsRegistry) => new MetricsService(r),
    inject: [MetricsRegistry],
  },
  {
    provide: ClusterPeers,
    useFactory: (o: ResolvedOptions, r: MetricsRegistry) => {
      const c = o.metrics.cluster;
      if (!o.metrics.enabled || c === false) return null;
      return new ClusterPeers(r, {
        dir: c.dir || defaultClusterDir(o.serviceName),
        timeoutMs: c.timeoutMs,
      });
    },
    inject: [OBSERVABILITY_OPTIONS, MetricsRegistry],
  },
  {
    provide: MetricsEndpoint,
    useFactory: (o: ResolvedOptions, r: MetricsRegistry, log: Pino, peers: ClusterPeers | null) =>
      new MetricsEndpoint(r, {
        auth: o.metrics.auth,
        exemplars: o.metrics.exemplars,
        gzip: o.metrics.gzip,
        onError: (err) => log.error({ err }, 'nestjs-observability: metrics scrape failed'),
        aggregate: peers ? () => peers.aggregate() : undefined,
      }),
    inject: [OBSERVABILITY_OPTIONS, MetricsRegistry, JSON_LOGGER, ClusterPeers],
  },
  {
    provide: HttpInstrumentation,
    useFactory: (
      o: ResolvedOptions,
      r: MetricsRegistry,
      t: TraceContext,
      log: Pino,
      m: MetricsEndpoint,
      dest: OwnedDestination,
    ) =>
      new HttpInstrumentation(
        httpSettings(o),
        r,
        t,
        log,
        o.metrics.enabled && o.metrics.port === undefined ? m : undefined,
        o.http.accessLog
          ? new AccessLog(log, dest.stream, o.serviceName, o.site, o.logging.redact)
          : undefined,
      ),
    inject: [
      OBSERVABILITY_OPTIONS,
      MetricsRegistry,
      TraceContext,
      JSON_LOGGER,
      MetricsEndpoint,
      LOG_DESTINATION,
    ],
  },
  {
    provide: JobInstrumentation,
    useFactory: (r: MetricsRegistry, t: TraceContext, log: Pino, o: ResolvedOptions) => {
      const jobs = new JobInstrumentation(r, t, log, o.organization.fallback);
      // Active from instantiation, so @InstrumentJob methods run during start-up are recorded.
      jobs.activate();
      return jobs;
    },
    inject: [MetricsRegistry, TraceContext, JSON_LOGGER, OBSERVABILITY_OPTIONS],
  },
  {
    provide: StructuredLogger,
    useFactory: (log: Pino) => new StructuredLogger(log),
    inject: [JSON_LOGGER],
  },
  {
    provide: ObservabilityLogger,
    useFactory: (log: Pino) => new ObservabilityLogger(log),
    inject: [JSON_LOGGER],
  },
];

const exported = [
  OBSERVABILITY_OPTIONS,
  JSON_LOGGER,
  TraceContext,
  MetricsRegistry,
  MetricsService,
  HttpInstrumentation,
  JobInstrumentation,
  StructuredLogger,
  ObservabilityLogger,
];

/**
 * One import for the whole observability stack:
 *
 * ```ts
 * ObservabilityModule.forRoot({ serviceName: 'api', site: 'acme.example' })
 * ```
 *
 * Always global, wherever it is imported: a process has one registry, one
 * logger and one trace context, and the BullMQ, TypeORM, health and
 * integration modules find them from any module. HTTP instrumentation is
 * installed on the HTTP adapter itself (Express or Fastify), not as a Nest
 * interceptor.
 */
@Global()
@Module({
  imports: [
    // nestjs-pino's PinoLogger / @InjectPinoLogger keep working, on our logger.
    // forRoutes: [] because the request hooks above already carry the context;
    // its per-request middleware would only add cost.
    LoggerModule.forRootAsync({
      useFactory: (logger: Pino) => ({ pinoHttp: { logger, autoLogging: false }, forRoutes: [] }),
      inject: [JSON_LOGGER],
    }),
  ],
  providers,
  exports: exported,
})
export class ObservabilityModule
  extends ConfigurableModuleClass
  implements NestModule, OnApplicationBootstrap, OnApplicationShutdown
{
  private metricsServer: Server | undefined;

  static override forRoot(options: ObservabilityModuleSyncOptions): DynamicModule {
    rejectIsGlobal(options);
    return super.forRoot(options);
  }

  static override forRootAsync(options: ObservabilityModuleAsyncOptions): DynamicModule {
    rejectIsGlobal(options);
    return super.forRootAsync(options);
  }

  constructor(
    @Inject(OBSERVABILITY_OPTIONS) private readonly options: ResolvedOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly http: HttpInstrumentation,
    private readonly metricsEndpoint: MetricsEndpoint,
    @Inject(JSON_LOGGER) private readonly log: Pino,
    @Inject(LOG_DESTINATION) private readonly destination: OwnedDestination,
    nestLogger: ObservabilityLogger,
    private readonly jobs: JobInstrumentation,
    private readonly registry: MetricsRegistry,
    @Inject(ClusterPeers) private readonly peers: ClusterPeers | null,
  ) {
    super();
    // Nest's own logs (and the exception handler's) become JSON lines with
    // trace IDs, unless the app turned Nest logging off (`logger: false`).
    const current = (Logger as unknown as { staticInstanceRef?: unknown }).staticInstanceRef;
    if (options.logging.replaceNestLogger && current !== undefined) {
      Logger.overrideLogger(nestLogger);
    }
  }

  /**
   * Runs while the app initialises, before it listens: puts the HTTP
   * instrumentation on the adapter's request hook (see adapter-hooks.ts).
   */
  configure(_consumer: MiddlewareConsumer): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // an application context without HTTP
    if (installHttpHooks(adapter, this.http)) this.registry.useGroup('http');
    else {
      this.log.warn(
        `nestjs-observability: HTTP adapter "${adapter.getType()}" is not supported; HTTP metrics are off`,
      );
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const { metrics } = this.options;
    if (metrics.enabled && metrics.registries.length > 0) this.checkForeignRegistries();
    await this.peers?.start();
    if (!metrics.enabled || metrics.port === undefined) return;
    const path = metrics.path;
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      if ((q === -1 ? url : url.slice(0, q)) === path) void this.metricsEndpoint.handle(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(metrics.port, metrics.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.metricsServer = server;
  }

  /**
   * prom-client registries the app passed in `metrics.registries`: a metric
   * named like one of the module's stops start-up (two families of one name
   * would break the exposition); one in several registries (process metrics
   * collected twice) is served once, with a WARN.
   */
  private checkForeignRegistries(): void {
    const { clashes, duplicates } = this.registry.foreignConflicts();
    if (clashes.length > 0) {
      throw new ObservabilityOptionsError(
        'metrics.registries',
        `prom-client metric${clashes.length > 1 ? 's' : ''} ${clashes.map((n) => `"${n}"`).join(', ')} ` +
          `named like ${clashes.length > 1 ? 'metrics' : 'a metric'} of this module (see its metric reference); rename ${clashes.length > 1 ? 'them' : 'it'}`,
      );
    }
    if (duplicates.length > 0) {
      this.log.warn(
        { metrics: duplicates },
        `nestjs-observability: ${duplicates.length} prom-client metric(s) exist in more than one registry and are served once ` +
          `(e.g. "${duplicates[0]}": process metrics collected twice? turn off one side's default metrics)`,
      );
    }
  }

  /** The separate metrics server's address (when `metrics.port` is set). */
  metricsAddress(): { port: number; address: string } | undefined {
    const a = this.metricsServer?.address();
    return a && typeof a === 'object' ? { port: a.port, address: a.address } : undefined;
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.log.info({ signal }, `application shut down${signal ? ` (${signal})` : ''}`);
    this.jobs.deactivate();
    this.http.close();
    await this.peers?.stop();
    const server = this.metricsServer;
    this.metricsServer = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.destination.close();
  }
}

/**
 * `isGlobal` was an option until 0.1: with it false, the logger and the
 * integration modules could not find the core. The module is global now;
 * say so instead of failing later with a dependency-resolution error.
 */
function rejectIsGlobal(options: unknown): void {
  if (options !== null && typeof options === 'object' && 'isGlobal' in options) {
    throw new Error(
      'ObservabilityModule: `isGlobal` is not an option — the module is always global (one ' +
        'registry, logger and trace context per process, found by the BullMQ, TypeORM, health ' +
        'and integration modules wherever they are imported). Remove `isGlobal`.',
    );
  }
}
