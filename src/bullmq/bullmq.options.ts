import type { Output } from '../options/schema.js';
import type { Telemetry } from 'bullmq';
import {
  array,
  bool,
  custom,
  fail,
  int,
  object,
  optional,
  resolveWith,
  str,
} from '../options/schema.js';

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
  /**
   * Another BullMQ telemetry (bullmq-otel's `BullMQOtel`) that `BullMqTelemetry`
   * passes every span and context to, so its spans and propagation are kept.
   */
  delegate?: Telemetry;
  /**
   * Also instrument BullMQ by patching `Queue`, `FlowProducer` and `Worker`
   * prototypes, for queues and workers created without `BullMqTelemetry`
   * (and for BullMQ releases without the telemetry option). Off by default.
   */
  fallbackPatches?: boolean;
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
  delegate: custom<Telemetry | undefined>((v, path) => {
    if (v === undefined) return undefined;
    const t = v as Partial<Telemetry> | null;
    if (
      typeof t?.tracer?.startSpan !== 'function' ||
      typeof t.contextManager?.with !== 'function' ||
      typeof t.contextManager.active !== 'function' ||
      typeof t.contextManager.getMetadata !== 'function' ||
      typeof t.contextManager.fromMetadata !== 'function'
    )
      return fail(
        path,
        'must be a BullMQ Telemetry (a tracer and a context manager), e.g. new BullMQOtel(name)',
      );
    return t as Telemetry;
  }),
  fallbackPatches: bool(false),
});

export type ResolvedBullMqOptions = Output<typeof schema>;

export function resolveBullMqOptions(
  input: BullMqObservabilityOptions = {},
): ResolvedBullMqOptions {
  return resolveWith(schema, input, 'bullmq');
}
