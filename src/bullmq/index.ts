export { BullMqObservabilityModule } from './bullmq-observability.module.js';
export type { BullMqObservabilityOptions } from './bullmq.options.js';
