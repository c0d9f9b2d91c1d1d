import { ObservabilityOptionsError } from '../observability.options.js';

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

export type ResolvedBullMqOptions = Required<Omit<BullMqObservabilityOptions, 'deadLetterQueue'>> &
  Pick<BullMqObservabilityOptions, 'deadLetterQueue'>;

const KEYS = [
  'deadLetterQueue',
  'gaugeCacheMs',
  'gaugeTimeoutMs',
  'organizationCounts',
  'shutdownTimeoutMs',
  'extraQueues',
];

export function resolveBullMqOptions(
  input: BullMqObservabilityOptions = {},
): ResolvedBullMqOptions {
  for (const k of Object.keys(input)) {
    if (!KEYS.includes(k)) throw new ObservabilityOptionsError(`bullmq.${k}`, 'unknown option');
  }
  const ms = (key: keyof BullMqObservabilityOptions, dflt: number) => {
    const v = input[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 600_000) {
      throw new ObservabilityOptionsError(
        `bullmq.${key}`,
        'must be an integer from 0 to 600000',
        v,
      );
    }
    return v;
  };
  if (
    input.deadLetterQueue !== undefined &&
    (typeof input.deadLetterQueue !== 'string' || !input.deadLetterQueue)
  ) {
    throw new ObservabilityOptionsError(
      'bullmq.deadLetterQueue',
      'must be a queue name',
      input.deadLetterQueue,
    );
  }
  const extra = input.extraQueues ?? [];
  if (!Array.isArray(extra) || extra.some((q) => typeof q !== 'string' || q === '')) {
    throw new ObservabilityOptionsError(
      'bullmq.extraQueues',
      'must be an array of queue names',
      extra,
    );
  }
  if (input.organizationCounts !== undefined && typeof input.organizationCounts !== 'boolean') {
    throw new ObservabilityOptionsError(
      'bullmq.organizationCounts',
      'must be true or false',
      input.organizationCounts,
    );
  }
  return {
    deadLetterQueue: input.deadLetterQueue,
    gaugeCacheMs: ms('gaugeCacheMs', 2000),
    gaugeTimeoutMs: ms('gaugeTimeoutMs', 1000),
    organizationCounts: input.organizationCounts ?? true,
    shutdownTimeoutMs: ms('shutdownTimeoutMs', 3000),
    extraQueues: extra,
  };
}
