import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { FlowProducer, Queue } from 'bullmq';
import type { FlowJob, Job, JobsOptions, Worker } from 'bullmq';
import type { Logger as Pino } from 'pino';
import { TraceContext } from '../context/trace-context.js';
import type { FailureKind } from '../jobs/job-instrumentation.js';
import { JobInstrumentation } from '../jobs/job-instrumentation.js';
import { readJobTrace, writeJobTrace } from '../jobs/job-trace.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from '../observability.constants.js';
import type { ResolvedOptions } from '../observability.options.js';
import type { ResolvedBullMqOptions } from './bullmq.options.js';
import type { BullMqHooks, PreparedAdd } from './bullmq-patches.js';
import { claimBullMqObject, installBullMqPatches } from './bullmq-patches.js';
import { QueueGauges } from './queue-gauges.collector.js';
import { OrgJobCounts } from './org-job-counts.js';

export const BULLMQ_OBSERVABILITY_OPTIONS = Symbol('nestjs-observability:bullmq-options');

/** Errors BullMQ uses for control flow: the attempt did not fail. */
const NOT_FAILURES = new Set([
  'DelayedError',
  'WaitingChildrenError',
  'WaitingError',
  'RateLimitError',
]);

/** `@Processor` metadata key of @nestjs/bullmq (checked by a test against the decorator). */
export const NEST_BULLMQ_PROCESSOR_METADATA = 'bullmq:processor_metadata';

function orgFromData(data: unknown): string | undefined {
  const org = (data as { organization?: unknown } | null | undefined)?.organization;
  return typeof org === 'string' && org !== '' ? org : undefined;
}

/**
 * BullMQ instrumentation: counts enqueues, carries the enqueuing request's
 * trace with each job, runs every processed job through the job
 * instrumentation, keeps per-organization counts in Redis, reads the queue
 * gauges at scrape time, and closes workers and queues on shutdown even when
 * Redis is gone.
 */
@Injectable()
export class BullMqInstrumentation
  implements BullMqHooks, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly uninstall: () => void;
  private readonly workers = new Set<Worker>();
  private readonly queues = new Map<string, Queue>();
  private readonly ownQueues: Queue[] = [];
  private readonly processorNames = new WeakMap<Worker, string>();
  private readonly orgCounts: OrgJobCounts;
  private removeCollector: (() => void) | undefined;

  constructor(
    private readonly jobs: JobInstrumentation,
    private readonly trace: TraceContext,
    private readonly registry: MetricsRegistry,
    private readonly discovery: DiscoveryService,
    @Inject(BULLMQ_OBSERVABILITY_OPTIONS) private readonly options: ResolvedBullMqOptions,
    @Inject(OBSERVABILITY_OPTIONS) private readonly core: ResolvedOptions,
    @Inject(JSON_LOGGER) private readonly log: Pino,
  ) {
    this.orgCounts = new OrgJobCounts(options.organizationCounts, (err) =>
      this.internalError('bullmq:org-counts', err),
    );
    // Now, while Nest instantiates providers: before any worker is created or
    // any onModuleInit hook could enqueue.
    this.uninstall = installBullMqPatches(this);
  }

  // --- producer side --------------------------------------------------------

  beforeAdd(
    queue: Queue,
    _name: string,
    data: unknown,
    opts: JobsOptions | undefined,
  ): PreparedAdd {
    try {
      this.queues.set(queue.name, this.queues.get(queue.name) ?? queue);
      const org = orgFromData(data) ?? this.trace.organization;
      const hasTelemetry = (queue.opts as { telemetry?: unknown }).telemetry !== undefined;
      return { opts: this.withTrace(opts, org, hasTelemetry), org };
    } catch (err) {
      this.internalError('bullmq:enqueue', err);
      return { opts, org: undefined };
    }
  }

  afterAdd(queue: Queue, name: string, org: string | undefined): void {
    this.jobs.recordEnqueue(queue.name, name, org);
    this.orgCounts.increment(queue, queue.name, org ?? this.core.organization.fallback);
  }

  beforeFlowNode(node: FlowJob): PreparedAdd {
    try {
      const org = orgFromData(node.data) ?? this.trace.organization;
      return { opts: this.withTrace(node.opts as JobsOptions | undefined, org, false), org };
    } catch (err) {
      this.internalError('bullmq:enqueue', err);
      return { opts: node.opts as JobsOptions | undefined, org: undefined };
    }
  }

  afterFlowNode(node: FlowJob, org: string | undefined, prefix: string | undefined): void {
    this.jobs.recordEnqueue(node.queueName, node.name, org);
    const queue = this.queues.get(node.queueName);
    if (queue && (node.prefix ?? prefix ?? 'bull') === (queue.opts.prefix ?? 'bull')) {
      this.orgCounts.increment(queue, node.queueName, org ?? this.core.organization.fallback);
    }
  }

  /** Options with the current trace (and organization) attached, unless BullMQ telemetry owns that field. */
  private withTrace(
    opts: JobsOptions | undefined,
    org: string | undefined,
    hasTelemetry: boolean,
  ): JobsOptions | undefined {
    const ctx = this.trace.current();
    if (ctx === undefined || hasTelemetry || opts?.telemetry?.metadata !== undefined) return opts;
    return {
      ...opts,
      telemetry: { ...opts?.telemetry, metadata: writeJobTrace({ traceId: ctx.traceId, org }) },
    };
  }

  // --- worker side ----------------------------------------------------------

  workerStarted(worker: Worker): void {
    this.workers.add(worker);
  }

  runJob<T>(worker: Worker, job: Job, attempt: () => Promise<T>): Promise<T> {
    const carried = readJobTrace(job.opts?.telemetry?.metadata);
    const org = carried?.org ?? orgFromData(job.data);
    const attempts = job.opts?.attempts ?? 1;
    return this.jobs.run(
      {
        queue: worker.name,
        method: job.name,
        org,
        traceId: carried?.traceId,
        jobId: job.id,
        jobName: job.name,
        processor: this.processorNames.get(worker),
        attempt: (job.attemptsMade ?? 0) + 1,
        attempts,
        onDone: () =>
          this.orgCounts.decrement(worker, worker.name, org ?? this.core.organization.fallback),
      },
      attempt,
      (err) => this.classify(worker, job, err),
    );
  }

  /** BullMQ's own retry rule (Job.shouldRetryJob), applied to the error at hand. */
  private classify(worker: Worker, job: Job, err: unknown): FailureKind {
    const name = (err as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && NOT_FAILURES.has(name)) return 'not-a-failure';
    if (name === 'UnrecoverableError' || (job as { discarded?: boolean }).discarded)
      return 'failure';
    const maxStarted = (worker.opts as { maxStartedAttempts?: number }).maxStartedAttempts;
    if (maxStarted && maxStarted <= ((job as { attemptsStarted?: number }).attemptsStarted ?? 0))
      return 'failure';
    return (job.attemptsMade ?? 0) + 1 < (job.opts?.attempts ?? 1) ? 'retry' : 'failure';
  }

  // --- lifecycle ------------------------------------------------------------

  async onApplicationBootstrap(): Promise<void> {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (instance instanceof Queue) {
        this.queues.set(instance.name, instance);
        claimBullMqObject(instance, this);
      }
      if (instance instanceof FlowProducer) claimBullMqObject(instance, this);
      const worker = (instance as { worker?: unknown } | null)?.worker;
      if (
        worker !== undefined &&
        worker !== null &&
        typeof worker === 'object' &&
        'callProcessJob' in worker
      ) {
        this.processorNames.set(worker as unknown as Worker, (instance as object).constructor.name);
      }
    }
    const connectionFrom = [...this.queues.values()][0];
    for (const name of [
      ...this.options.extraQueues,
      ...(this.options.deadLetterQueue ? [this.options.deadLetterQueue] : []),
    ]) {
      if (this.queues.has(name) || !connectionFrom) continue;
      const q = new Queue(name, {
        connection: connectionFrom.opts.connection,
        prefix: connectionFrom.opts.prefix,
      });
      q.on('error', () => undefined);
      this.ownQueues.push(q);
      this.queues.set(name, q);
    }
    this.removeCollector = this.registry.addCollector(
      new QueueGauges(() => [...this.queues.values()], this.registry, this.options, this.orgCounts),
    );
  }

  /**
   * Closes workers and queues before @nestjs/bullmq does, with a time limit:
   * a worker blocked on an unreachable Redis would otherwise hang shutdown.
   * Past the limit, connections are dropped, which ends their pending calls.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.removeCollector?.();
    const closables = [...this.workers, ...this.queues.values()];
    const closing = Promise.allSettled(closables.map((c) => c.close()));
    if (await settlesWithin(closing, this.options.shutdownTimeoutMs)) return;
    this.log.warn(
      `nestjs-observability: BullMQ workers or queues did not close within ${this.options.shutdownTimeoutMs} ms (Redis unreachable?); disconnecting them`,
    );
    await Promise.allSettled(closables.map((c) => c.disconnect()));
    await settlesWithin(closing, 1000);
  }

  onApplicationShutdown(): void {
    this.uninstall();
  }

  private internalError(component: string, err: unknown): void {
    this.registry.countInternalError(component);
    this.log.debug({ err, component }, 'nestjs-observability: BullMQ instrumentation error');
  }
}

async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
