import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { FlowProducer, Queue, Worker } from 'bullmq';
import type { FlowJob, Job, JobsOptions } from 'bullmq';
import type { Logger as Pino } from 'pino';
import { TraceContext } from '../context/trace-context.js';
import { newTraceId } from '../context/trace-id.js';
import type { FailureKind } from '../jobs/job-instrumentation.js';
import { JobInstrumentation } from '../jobs/job-instrumentation.js';
import { readJobTrace, writeJobTrace } from '../jobs/job-trace.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from '../observability.constants.js';
import type { ResolvedOptions } from '../observability.options.js';
import type { RequestContext } from '../context/request-context.js';
import type { ResolvedBullMqOptions } from './bullmq.options.js';
import type { BullMqHooks, PreparedAdd } from './bullmq-patches.js';
import { rawClientsOf } from './bullmq-compat.js';
import { claimBullMqObject, installBullMqPatches } from './bullmq-patches.js';
import { usesObservedTelemetry } from './telemetry-mark.js';
import { QueueGauges } from './queue-gauges.collector.js';
import { OrgJobCounts } from './org-job-counts.js';

export const BULLMQ_OBSERVABILITY_OPTIONS = Symbol('nestjs-observability:bullmq-options');

/** What shutdown closes: workers, queues and flow producers. */
type Closable = Pick<Worker, 'close' | 'disconnect'>;

/** What the instrumentation needs of the telemetry (which depends on it, not the reverse). */
interface TelemetryLike {
  observe(worker: Worker): void;
}

/** Errors BullMQ uses for control flow: the attempt did not fail. */
const NOT_FAILURES = new Set([
  'DelayedError',
  'WaitingChildrenError',
  'WaitingError',
  'RateLimitError',
]);

export function orgFromData(data: unknown): string | undefined {
  const org = (data as { organization?: unknown } | null | undefined)?.organization;
  return typeof org === 'string' && org !== '' ? org : undefined;
}

/**
 * BullMQ instrumentation: what `BullMqTelemetry` (BullMQ's own telemetry
 * seam) reports lands here (enqueue counts, per-organization counts in
 * Redis), and with `fallbackPatches` the prototype patches do the same for
 * queues and workers created without it. Reads the queue gauges at scrape
 * time, and closes workers and queues on shutdown even when Redis is gone.
 */
@Injectable()
export class BullMqInstrumentation
  implements
    BullMqHooks,
    OnModuleInit,
    OnApplicationBootstrap,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly uninstall: () => void;
  private readonly workers = new Set<Worker>();
  private readonly queues = new Map<string, Queue>();
  private readonly flowProducers = new Set<FlowProducer>();
  /** Processor class per queue name (a `WorkerHost` serves one queue). */
  private readonly processorsByQueue = new Map<string, string>();
  /** Jobs a worker made active, until their 'process' span starts (by queue and id). */
  private readonly active = new Map<string, Job>();
  private telemetry: TelemetryLike | undefined;
  private readonly watched = new WeakSet<object>();
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
    this.uninstall = options.fallbackPatches ? installBullMqPatches(this) : () => undefined;
    registry.useGroup('jobs');
  }

  // --- what BullMqTelemetry reports -----------------------------------------

  useTelemetry(telemetry: TelemetryLike): void {
    this.telemetry = telemetry;
  }

  /** The organization a job enqueued in this context is counted and carried under. */
  orgOf(ctx: RequestContext | undefined): string {
    return ctx?.organization ?? this.core.organization.fallback;
  }

  processorOf(queue: string): string | undefined {
    return this.processorsByQueue.get(queue);
  }

  /** A worker made a job active: kept until its 'process' span starts. */
  noteActive(worker: Worker, job: Job): void {
    if (job?.id === undefined) return;
    // bounded: a job whose span never starts (worker closing) is dropped with the oldest
    if (this.active.size >= 10_000) this.active.delete(this.active.keys().next().value!);
    this.active.set(`${worker.name}\u0000${job.id}`, job);
  }

  takeActive(queue: string, jobId: string): Job | undefined {
    const key = `${queue}\u0000${jobId}`;
    const job = this.active.get(key);
    if (job !== undefined) this.active.delete(key);
    return job;
  }

  telemetryEnqueued(queue: string, name: string, org: string | undefined): void {
    const o = org ?? this.core.organization.fallback;
    this.jobs.recordEnqueue(queue, name, o);
    const q = this.queues.get(queue);
    if (q) this.orgCounts.increment(q, o);
  }

  telemetryJobDone(queue: string, org: string | undefined): void {
    const q = this.queues.get(queue);
    if (q) this.orgCounts.decrement(q, org ?? this.core.organization.fallback);
  }

  warn(message: string): void {
    this.registry.countInternalError('bullmq:telemetry');
    this.log.warn(message);
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
    this.orgCounts.increment(queue, org ?? this.core.organization.fallback);
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
      this.orgCounts.increment(queue, org ?? this.core.organization.fallback);
    }
  }

  /** Options with the current trace (and organization) attached, unless BullMQ telemetry owns that field. */
  private withTrace(
    opts: JobsOptions | undefined,
    org: string | undefined,
    hasTelemetry: boolean,
  ): JobsOptions | undefined {
    if (hasTelemetry || opts?.telemetry?.metadata !== undefined) return opts;
    // a job added outside any request still gets one trace for all its attempts
    const traceId = this.trace.current()?.traceId ?? newTraceId();
    return {
      ...opts,
      telemetry: { ...opts?.telemetry, metadata: writeJobTrace({ traceId, org }) },
    };
  }

  missingTargets(targets: string[]): void {
    for (const t of targets) this.registry.countInternalError(`bullmq:patch:${t}`);
    this.log.warn(
      { targets },
      `nestjs-observability: BullMQ ${targets.join(', ')} not found (an unsupported BullMQ version?); ` +
        'what they instrument (enqueue counts, job metrics, trace propagation) is missing',
    );
  }

  // --- worker side ----------------------------------------------------------

  workerStarted(worker: Worker): void {
    this.workers.add(worker);
    this.watchErrors(worker, `worker:${worker.name}`);
  }

  /**
   * An 'error' event nobody listens to crashes the process, and BullMQ emits
   * one for every failed reconnect while Redis is down. Listen, count, and
   * log at most once per 30 s per source.
   */
  private watchErrors(
    emitter: { on(e: 'error', l: (err: Error) => void): unknown },
    source: string,
  ): void {
    if (this.watched.has(emitter)) return;
    this.watched.add(emitter);
    let last = 0;
    emitter.on('error', (err: Error) => {
      this.registry.countInternalError('bullmq:redis');
      const now = Date.now();
      if (now - last < 30_000) return;
      last = now;
      this.log.warn(
        { err, source },
        `nestjs-observability: BullMQ ${source}: ${err?.message ?? err}`,
      );
    });
  }

  runJob<T>(worker: Worker, job: Job, attempt: () => Promise<T>): Promise<T> {
    const carried = readJobTrace(job.opts?.telemetry?.metadata);
    const org = carried?.org ?? orgFromData(job.data);
    const attempts = Math.max(1, job.opts?.attempts ?? 1);
    return this.jobs.run(
      {
        queue: worker.name,
        method: job.name,
        org,
        traceId: carried?.traceId,
        jobId: job.id,
        jobName: job.name,
        processor: this.processorsByQueue.get(worker.name),
        attempt: (job.attemptsMade ?? 0) + 1,
        attempts,
        onDone: () => this.orgCounts.decrement(worker, org ?? this.core.organization.fallback),
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

  /**
   * `@nestjs/bullmq` creates its workers in its own onModuleInit; looking
   * in ours and again at bootstrap finds them as early as the module order
   * allows (jobs picked up before still get metrics, from their spans).
   */
  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) this.discoverWorker(wrapper.instance);
  }

  /** A `WorkerHost` provider's worker: its processor's name, shutdown, and telemetry listeners. */
  private discoverWorker(instance: unknown): void {
    let worker: unknown;
    try {
      // WorkerHost.worker throws until @nestjs/bullmq created the worker
      worker = (instance as { worker?: unknown } | null)?.worker;
    } catch {
      return;
    }
    if (worker === undefined || worker === null || typeof worker !== 'object') return;
    if (!('callProcessJob' in worker)) return;
    const w = worker as unknown as Worker;
    const processor = (instance as object).constructor.name;
    this.processorsByQueue.set(w.name, processor);
    this.workers.add(w);
    this.watchErrors(w, `worker:${w.name}`);
    if (this.telemetry && usesObservedTelemetry(w)) this.telemetry.observe(w);
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (instance instanceof Queue) {
        this.queues.set(instance.name, instance);
        claimBullMqObject(instance, this);
        this.watchErrors(instance, `queue:${instance.name}`);
      }
      if (instance instanceof FlowProducer) {
        claimBullMqObject(instance, this);
        this.flowProducers.add(instance);
        this.watchErrors(instance, 'flow-producer');
      }
      this.discoverWorker(instance);
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
      this.queues.set(name, q);
    }
    this.removeCollector = this.registry.addCollector(
      new QueueGauges(() => [...this.queues.values()], this.registry, this.options, this.orgCounts),
    );
  }

  /**
   * Closes workers and queues before @nestjs/bullmq does, through their
   * public `close()`, with a time limit. A worker whose Redis is unreachable
   * is closed with `close(true)`: a graceful close would wait for a blocking
   * command that ioredis holds until Redis returns, and BullMQ answers every
   * later `close()` (Nest's own, at shutdown) with that same promise, so
   * shutdown would never end. Its active jobs cannot be finished without
   * Redis anyway. Past the limit, connections are dropped.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.removeCollector?.();
    await settlesWithin(this.orgCounts.flush(), this.options.shutdownTimeoutMs);
    const closables: Closable[] = [...this.workers, ...this.queues.values(), ...this.flowProducers];
    const pending = new Set<Closable>(closables);
    const closing = Promise.allSettled(
      closables.map((c) => {
        let closed: Promise<void>;
        if (reachable(c)) closed = c.close();
        else {
          // BullMQ cannot close an object whose Redis is gone (taskforcesh/bullmq#4656):
          // end its connections first, then close it (a worker without waiting for its jobs)
          forceEnd(c);
          closed = c instanceof Worker ? c.close(true) : c.close();
        }
        return closed.finally(() => pending.delete(c));
      }),
    );
    if (await settlesWithin(closing, this.options.shutdownTimeoutMs)) return;
    const names = () =>
      [...pending].map((c) => `${c.constructor.name}:${(c as { name?: string }).name}`).join(', ');
    this.log.warn(
      `nestjs-observability: ${names()} did not close within ${this.options.shutdownTimeoutMs} ms (Redis unreachable?); dropping their connections`,
    );
    for (const c of pending) forceEnd(c);
    if (!(await settlesWithin(closing, this.options.shutdownTimeoutMs)))
      this.log.warn(
        `nestjs-observability: ${names()} still not closed after their connections were dropped`,
      );
  }

  onApplicationShutdown(): void {
    this.uninstall();
  }

  internalError(component: string, err: unknown): void {
    this.registry.countInternalError(component);
    this.log.debug({ err, component }, 'nestjs-observability: BullMQ instrumentation error');
  }
}

/** Whether every Redis connection of a queue, worker or flow producer is up. */
function reachable(c: object): boolean {
  const clients = rawClientsOf(c) as RawClient[];
  return clients.length > 0 && clients.every((client) => client.status === 'ready');
}

interface RawClient {
  status?: string;
  disconnect?: () => void;
  emit?: (event: string) => boolean;
}

/**
 * Ends the Redis connections of a BullMQ object for good. Dropping them is not
 * enough when ioredis is between reconnect attempts: it then never reports
 * 'end', so BullMQ's "connection ready" promise, which @nestjs/bullmq awaits
 * at shutdown, never settles. Emitting 'end' makes it settle (rejected).
 * Reaches into BullMQ's connection objects; only used on this failure path.
 */
function forceEnd(c: unknown): void {
  // A worker whose close() is stuck never reaches the end of its cleanup:
  // stop its own timers (lock renewal, stalled-job checks, delay waits), or
  // they keep the process alive after shutdown.
  const w = c as {
    lockManager?: { close?: () => unknown };
    stalledCheckStopper?: () => void;
    abortDelayController?: { abort?: () => void };
  };
  try {
    w.abortDelayController?.abort?.();
    void w.lockManager?.close?.();
    w.stalledCheckStopper?.();
  } catch {
    // best effort
  }
  for (const client of rawClientsOf(c as object) as RawClient[]) {
    try {
      client.disconnect?.();
      // what BullMQ's own close() does to the client once it is closed: later
      // commands (its quit()) then fail at once instead of queueing for a
      // reconnection that will not come
      client.status = 'end';
      client.emit?.('end');
    } catch {
      // already gone
    }
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
