import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { BullMqObservabilityOptions } from './bullmq.options.js';
import { resolveBullMqOptions } from './bullmq.options.js';
import { BULLMQ_OBSERVABILITY_OPTIONS, BullMqInstrumentation } from './bullmq-instrumentation.js';

/**
 * BullMQ jobs get the spec's job metrics, logs and trace propagation:
 *
 * ```ts
 * imports: [
 *   ObservabilityModule.forRoot({ serviceName: 'api' }),
 *   BullModule.forRoot({ connection }),
 *   BullMqObservabilityModule.forRoot(),
 * ]
 * ```
 *
 * No change to processors or producers: every job added through a `Queue` or
 * `FlowProducer` and every job a `Worker` processes is instrumented.
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
      ],
      exports: [BullMqInstrumentation],
    };
  }
}
