import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { coreDepsProvider } from '../core-deps.js';
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
      providers: [coreDepsProvider(SyncMetrics, (deps) => SyncMetrics.create(resolved, deps))],
      exports: [SyncMetrics],
    };
  }
}
