import type { Output } from '../options/schema.js';
import { array, bool, int, object, optional, resolveWith, str } from '../options/schema.js';

export interface BullMqObservabilityOptions {
  /**
   * A queue used as dead-letter queue: `dlq_depth` is then the number of jobs
   * waiting in it. By default `dlq_depth` counts the jobs of every known queue
   * that exhausted their attempts (BullMQ's `failed` set).
   */
  deadLetterQueue?: string;
  /** Reuse the queue gauges read from Redis for this long (ms). */
  gaugeCacheMs?: number;
  /** Give up reading the queue gauges from Redis after this long (ms). */
  gaugeTimeoutMs?: number;
  /** Keep per-organization job counts in Redis for `org_jobs`. */
  organizationCounts?: boolean;
  /** How long shutdown waits for workers and queues to close before forcing them (ms). */
  shutdownTimeoutMs?: number;
  /** Queues not registered with `BullModule.registerQueue` to report gauges for. */
  extraQueues?: string[];
}

const schema = object<BullMqObservabilityOptions>()({
  deadLetterQueue: optional(str('')),
  gaugeCacheMs: int(2000, 0, 600_000),
  gaugeTimeoutMs: int(1000, 0, 600_000),
  organizationCounts: bool(true),
  shutdownTimeoutMs: int(3000, 0, 600_000),
  extraQueues: array<string>(
    (q) => typeof q === 'string' && q !== '',
    'must be an array of queue names',
  ),
});

export type ResolvedBullMqOptions = Output<typeof schema>;

export function resolveBullMqOptions(
  input: BullMqObservabilityOptions = {},
): ResolvedBullMqOptions {
  return resolveWith(schema, input, 'bullmq');
}
