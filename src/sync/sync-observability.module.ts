import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { TraceContext } from '../context/trace-context.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from '../observability.constants.js';
import type { ResolvedOptions } from '../observability.options.js';
import type { SyncObservabilityOptions } from './sync.options.js';
import { resolveSyncOptions } from './sync.options.js';
import { SyncMetrics } from './sync-metrics.service.js';

/**
 * Sync layer metrics through the injectable `SyncMetrics`:
 *
 * ```ts
 * SyncObservabilityModule.forRoot({ redis: process.env.REDIS_URL })
 * ```
 */
@Module({})
export class SyncObservabilityModule {
  static forRoot(options: SyncObservabilityOptions = {}): DynamicModule {
    const resolved = resolveSyncOptions(options);
    return {
      module: SyncObservabilityModule,
      global: true,
      providers: [
        {
          provide: SyncMetrics,
          useFactory: (
            core: ResolvedOptions,
            registry: MetricsRegistry,
            trace: TraceContext,
            log: Pino,
          ) =>
            SyncMetrics.create(resolved, {
              registry,
              trace,
              log,
              fallbackOrg: core.organization.fallback,
            }),
          inject: [OBSERVABILITY_OPTIONS, MetricsRegistry, TraceContext, JSON_LOGGER],
        },
      ],
      exports: [SyncMetrics],
    };
  }
}
