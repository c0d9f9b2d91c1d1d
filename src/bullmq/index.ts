export { BullMqObservabilityModule } from './bullmq-observability.module.js';
export type { BullMqObservabilityOptions } from './bullmq.options.js';
export { BullMqInstrumentation } from './bullmq-instrumentation.js';
export { DEPTH_STATES } from './queue-gauges.collector.js';
export { OrgJobCounts } from './org-job-counts.js';
