import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { TraceContext } from '../context/trace-context.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from '../observability.constants.js';
import type { ResolvedOptions } from '../observability.options.js';
import type { IntegrationsObservabilityOptions } from './integrations.options.js';
import { resolveIntegrationsOptions } from './integrations.options.js';
import { Integrations } from './integrations.service.js';

/**
 * Outbound integration metrics, trace propagation, circuit breakers and
 * token expiry:
 *
 * ```ts
 * IntegrationsObservabilityModule.forRoot({
 *   integrations: {
 *     stripe: { baseUrl: 'https://api.stripe.com/v1', routes: ['/customers/:id'], breaker: {} },
 *   },
 * })
 * ```
 */
@Module({})
export class IntegrationsObservabilityModule {
  static forRoot(options: IntegrationsObservabilityOptions = {}): DynamicModule {
    const resolved = resolveIntegrationsOptions(options);
    return {
      module: IntegrationsObservabilityModule,
      global: true,
      providers: [
        {
          provide: Integrations,
          useFactory: (
            core: ResolvedOptions,
            registry: MetricsRegistry,
            trace: TraceContext,
            log: Pino,
          ) =>
            Integrations.create(resolved, {
              registry,
              trace,
              log,
              traceHeader: core.trace.header,
              fallbackOrg: core.organization.fallback,
            }),
          inject: [OBSERVABILITY_OPTIONS, MetricsRegistry, TraceContext, JSON_LOGGER],
        },
      ],
      exports: [Integrations],
    };
  }
}
