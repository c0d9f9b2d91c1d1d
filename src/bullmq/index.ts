export { BullMqObservabilityModule } from './bullmq-observability.module.js';
export type { BullMqObservabilityOptions } from './bullmq.options.js';
export { BullMqTelemetry } from './bullmq-telemetry.js';
