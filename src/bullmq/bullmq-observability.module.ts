import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { BullMqObservabilityOptions } from './bullmq.options.js';
import { resolveBullMqOptions } from './bullmq.options.js';
import { BULLMQ_OBSERVABILITY_OPTIONS, BullMqInstrumentation } from './bullmq-instrumentation.js';
import { BullMqTelemetry } from './bullmq-telemetry.js';

/**
 * BullMQ jobs get the spec's job metrics, logs and trace propagation through
 * BullMQ's own telemetry option:
 *
 * ```ts
 * imports: [
 *   ObservabilityModule.forRoot({ serviceName: 'api' }),
 *   BullMqObservabilityModule.forRoot(),
 *   BullModule.forRootAsync({
 *     inject: [BullMqTelemetry],
 *     useFactory: (telemetry: BullMqTelemetry) => ({ connection, telemetry }),
 *   }),
 * ]
 * ```
 *
 * No change to processors or producers. `fallbackPatches: true` also covers
 * queues and workers created without the telemetry.
 */
@Module({})
export class BullMqObservabilityModule {
  static forRoot(options: BullMqObservabilityOptions = {}): DynamicModule {
    const resolved = resolveBullMqOptions(options);
    return {
      module: BullMqObservabilityModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: BULLMQ_OBSERVABILITY_OPTIONS, useValue: resolved },
        BullMqInstrumentation,
        BullMqTelemetry,
      ],
      exports: [BullMqInstrumentation, BullMqTelemetry],
    };
  }
}
