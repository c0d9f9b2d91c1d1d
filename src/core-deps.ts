import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { TraceContext } from './context/trace-context.js';
import { MetricsRegistry } from './metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from './observability.constants.js';
import type { ResolvedOptions } from './observability.options.js';

/** What the integration modules take from the core module, and nothing more. */
export interface CoreDeps {
  registry: MetricsRegistry;
  trace: TraceContext;
  log: Pino;
  /** The trace header (`x-trace-id` by default). */
  traceHeader: string;
  /** `org` label value when no organization is known. */
  fallbackOrg: string;
}

/** A provider built from the core's registry, trace context, logger and options. */
export function coreDepsProvider<T>(
  provide: InjectionToken,
  create: (deps: CoreDeps) => T | Promise<T>,
): FactoryProvider<T> {
  return {
    provide,
    useFactory: (
      core: ResolvedOptions,
      registry: MetricsRegistry,
      trace: TraceContext,
      log: Pino,
    ) =>
      create({
        registry,
        trace,
        log,
        traceHeader: core.trace.header,
        fallbackOrg: core.organization.fallback,
      }),
    inject: [OBSERVABILITY_OPTIONS, MetricsRegistry, TraceContext, JSON_LOGGER],
  };
}
