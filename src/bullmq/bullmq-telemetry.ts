import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import type {
  Attributes,
  AttributeValue,
  ContextManager,
  Exception,
  Job,
  Span,
  SpanOptions,
  Telemetry,
  Time,
  Tracer,
  Worker,
} from 'bullmq';
import { RequestContext } from '../context/request-context.js';
import { TraceContext } from '../context/trace-context.js';
import { newTraceId } from '../context/trace-id.js';
import type { FailureKind, JobAttempt } from '../jobs/job-instrumentation.js';
import { JobInstrumentation } from '../jobs/job-instrumentation.js';
import { foreignTraceId, readJobTrace, writeJobTrace } from '../jobs/job-trace.js';
import {
  BULLMQ_OBSERVABILITY_OPTIONS,
  BullMqInstrumentation,
  orgFromData,
} from './bullmq-instrumentation.js';
import type { ResolvedBullMqOptions } from './bullmq.options.js';
import { TELEMETRY_MARK } from './telemetry-mark.js';

// BullMQ's SpanKind and attribute names, spelled out: BullMQ 5 releases
// before its telemetry interface export neither, and this file must load there.
const INTERNAL = 0;
const PRODUCER = 3;
const CONSUMER = 4;
const QUEUE = 'bullmq.queue.name';
const OPERATION = 'bullmq.queue.operation';
const JOB_NAME = 'bullmq.job.name';
const JOB_ID = 'bullmq.job.id';
const BULK_NAMES = 'bullmq.job.bulk.names';

/** What an attempt's end was: the operation BullMQ traces when it moves the job on. */
const OUTCOMES: Record<string, 'success' | FailureKind> = {
  complete: 'success',
  fail: 'failure',
  retry: 'retry',
  delay: 'retry',
};
const ENQUEUES = new Set(['add', 'addBulk', 'addNode']);
const FLOWS = new Set(['addFlow', 'addBulkFlows']);

/** The context BullMQ hands around: this module's trace context and the delegate's. */
export interface BullMqTelemetryContext {
  obs: RequestContext | undefined;
  inner: unknown;
  /** The span this context was made for (to find an attempt or a flow). */
  span?: ObservedSpan;
}

/** One attempt of a job, seen through its spans. */
interface SpanAttempt {
  job: JobAttempt;
  start: number;
  outcome?: 'success' | FailureKind;
  endedAt?: number;
  err?: unknown;
  reason?: string;
}

/**
 * BullMQ's `telemetry` option backed by this module: pass it to
 * `BullModule.forRoot` (every queue, worker and flow producer gets it) or to
 * a plain `new Worker(..., { telemetry })`, and jobs are counted when added,
 * carry the enqueuing request's trace ID and organization, run in that
 * trace context, and get the job metrics and log lines. A `delegate`
 * (bullmq-otel's `BullMQOtel`) keeps its own spans and propagation.
 */
@Injectable()
export class BullMqTelemetry implements Telemetry<BullMqTelemetryContext> {
  readonly [TELEMETRY_MARK] = true;
  readonly tracer: Tracer<BullMqTelemetryContext>;
  readonly contextManager: ContextManager<BullMqTelemetryContext>;
  private readonly delegate: Telemetry | undefined;
  private readonly attempts = new WeakMap<RequestContext, SpanAttempt>();
  private readonly observed = new WeakSet<Worker>();
  private warnedUnnamed = false;

  constructor(
    private readonly trace: TraceContext,
    private readonly jobs: JobInstrumentation,
    private readonly instrumentation: BullMqInstrumentation,
    @Inject(BULLMQ_OBSERVABILITY_OPTIONS) options: ResolvedBullMqOptions,
  ) {
    this.delegate = options.delegate as Telemetry | undefined;
    this.tracer = { startSpan: (name, opts, ctx) => this.startSpan(name, opts, ctx) };
    this.contextManager = this.makeContextManager();
    instrumentation.useTelemetry(this);
  }

  /**
   * Makes the failure log lines of a worker you created yourself (with this
   * telemetry) carry the error's class and stack and the attempt numbers;
   * without it they carry BullMQ's failure reason. `@nestjs/bullmq`
   * processors are observed already.
   */
  observe(worker: Worker): void {
    if (this.observed.has(worker)) return;
    this.observed.add(worker);
    worker.on('active', (job: Job) => this.instrumentation.noteActive(worker, job));
    worker.on('failed', (job: Job | undefined, err: Error) => this.noteFailure(job, err));
  }

  // --- context --------------------------------------------------------------

  private makeContextManager(): ContextManager<BullMqTelemetryContext> {
    const d = this.delegate?.contextManager;
    const storage = this.trace.storage;
    return {
      active: () => ({ obs: storage.getStore(), inner: d?.active() }),
      root: () => ({ obs: undefined, inner: d ? (d.root?.() ?? d.active()) : undefined }),
      with: <A extends (...args: unknown[]) => unknown>(ctx: BullMqTelemetryContext, fn: A) => {
        const run = d ? () => d.with(ctx?.inner, fn) : fn;
        return storage.run(ctx?.obs as RequestContext, run) as ReturnType<A>;
      },
      getMetadata: (ctx) => {
        const delegate = d && ctx ? this.safe(() => d.getMetadata(ctx.inner)) : undefined;
        return writeJobTrace({
          // a job added outside any request still gets one trace for all its attempts
          traceId: ctx?.obs?.traceId ?? newTraceId(),
          org: ctx?.span?.org ?? ctx?.obs?.organization,
          delegate: typeof delegate === 'string' ? delegate : undefined,
        });
      },
      fromMetadata: (active, metadata) => {
        const carried = readJobTrace(metadata);
        const traceId = carried ? carried.traceId : foreignTraceId(metadata);
        const forDelegate = carried ? carried.delegate : metadata;
        const inner =
          d && forDelegate !== undefined
            ? this.safe(() => d.fromMetadata(active?.inner, forDelegate), active?.inner)
            : active?.inner;
        return { obs: new RequestContext(traceId ?? newTraceId(), carried?.org), inner };
      },
    };
  }

  // --- spans ----------------------------------------------------------------

  private startSpan(
    name: string,
    options: SpanOptions | undefined,
    ctx: BullMqTelemetryContext | undefined,
  ): Span<BullMqTelemetryContext> {
    const inner = this.delegate?.tracer.startSpan(name, options, ctx?.inner) as Span | undefined;
    const enclosing = this.trace.storage.getStore();
    const span = new ObservedSpan(this, options?.kind ?? INTERNAL, inner, ctx, enclosing);
    if (span.kind === PRODUCER) span.org = this.safe(() => this.instrumentation.orgOf(enclosing));
    return span;
  }

  /** Called by a span after its attributes changed. */
  attributesSet(span: ObservedSpan): void {
    this.safe(() => {
      if (span.kind === CONSUMER) {
        if (span.attempt === undefined && span.jobId !== undefined && span.jobCtx !== undefined)
          span.attempt = this.begin(span, span.jobCtx);
        return;
      }
      if (span.kind !== INTERNAL || span.operation === undefined) return;
      const outcome = OUTCOMES[span.operation];
      const ctx = span.enclosing;
      const attempt = outcome && ctx ? this.attempts.get(ctx) : undefined;
      if (attempt === undefined || attempt.outcome !== undefined) return;
      attempt.outcome = outcome;
      attempt.endedAt = performance.now();
    });
  }

  /**
   * BullMQ before 6 traces no 'complete' operation: a success shows only as
   * the process span's 'job completed' event.
   */
  completedEvent(span: ObservedSpan): void {
    const a = span.attempt;
    if (a === undefined || a.outcome !== undefined) return;
    a.outcome = 'success';
    a.endedAt = performance.now();
  }

  private begin(span: ObservedSpan, ctx: RequestContext): SpanAttempt {
    const queue = span.queue ?? '';
    const job = this.instrumentation.takeActive(queue, span.jobId!);
    if (span.jobName === undefined && job === undefined && !this.warnedUnnamed) {
      this.warnedUnnamed = true;
      this.instrumentation.warn(
        'nestjs-observability: this BullMQ names no job in its process spans (BullMQ < 5.58): ' +
          'BullMqTelemetry needs 5.58 or later; on older releases use fallbackPatches: true',
      );
    }
    const org = ctx.organization ?? orgFromData(job?.data);
    if (ctx.organization === undefined && org !== undefined) ctx.organization = org;
    const attempt: JobAttempt = {
      queue,
      method: span.jobName ?? job?.name ?? '',
      org,
      traceId: ctx.traceId,
      jobId: span.jobId,
      jobName: span.jobName,
      processor: this.instrumentation.processorOf(queue),
      attempt: job ? (job.attemptsMade ?? 0) + 1 : undefined,
      attempts: job ? Math.max(1, job.opts?.attempts ?? 1) : undefined,
    };
    ctx.assign(JobInstrumentation.fields(attempt));
    const a: SpanAttempt = { job: attempt, start: this.jobs.begin(attempt) };
    this.attempts.set(ctx, a);
    return a;
  }

  /** A worker's 'failed' event: emitted inside the attempt's context, with the error itself. */
  private noteFailure(job: Job | undefined, err: unknown): void {
    this.safe(() => {
      const ctx = this.trace.storage.getStore();
      const a = ctx ? this.attempts.get(ctx) : undefined;
      if (a === undefined) return;
      a.err = err;
      if (job && a.job.attempt === undefined) {
        // the failure already counted this attempt in attemptsMade
        a.job.attempt = Math.max(1, job.attemptsMade ?? 1);
        a.job.attempts = Math.max(1, job.opts?.attempts ?? 1);
      }
    });
  }

  /** Called by a span when it ends. */
  ended(span: ObservedSpan): void {
    this.safe(() => {
      if (span.kind === CONSUMER) return this.finish(span);
      const op = span.operation ?? '';
      if (span.kind !== PRODUCER || span.failed) return;
      if (FLOWS.has(op)) {
        // a flow's nodes are written together, when the flow's span ends
        for (const [queue, name] of span.nodes ?? []) this.enqueued(queue, name, span);
        return;
      }
      if (!ENQUEUES.has(op) || span.queue === undefined) return;
      const names = span.bulkNames ?? (span.jobName !== undefined ? [span.jobName] : []);
      const flow = op === 'addNode' ? span.enclosingSpan : undefined;
      for (const name of names) {
        if (flow !== undefined) (flow.nodes ??= []).push([span.queue, name]);
        else this.enqueued(span.queue, name, span);
      }
    });
  }

  private enqueued(queue: string, name: string, span: ObservedSpan): void {
    this.instrumentation.telemetryEnqueued(queue, name, span.org);
  }

  private finish(span: ObservedSpan): void {
    const a = span.attempt;
    if (a === undefined || a.outcome === undefined) return;
    let err = a.err;
    if (err === undefined && a.outcome !== 'success') {
      err = new Error(span.reason ?? 'job failed');
      (err as Error).stack =
        `Error: ${span.reason ?? 'job failed'}\n    (the failure reason BullMQ reported; observe the worker for the original error)`;
    }
    // (the span ends after BullMQ left the attempt's context: log inside it)
    const outcome = a.outcome;
    this.trace.storage.run(span.jobCtx!, () =>
      this.jobs.end(a.job, a.start, outcome, err, a.endedAt),
    );
    if (a.outcome !== 'retry' && a.outcome !== 'not-a-failure')
      this.instrumentation.telemetryJobDone(a.job.queue, a.job.org);
  }

  /** Instrumentation never breaks BullMQ: its own errors are counted and dropped. */
  safe<T>(fn: () => T, fallback?: T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.instrumentation.internalError('bullmq:telemetry', err);
      return fallback;
    }
  }
}

/** A span of BullMQ's, recorded for this module and passed on to the delegate's. */
export class ObservedSpan implements Span<BullMqTelemetryContext> {
  queue: string | undefined;
  operation: string | undefined;
  jobName: string | undefined;
  jobId: string | undefined;
  bulkNames: string[] | undefined;
  reason: string | undefined;
  failed = false;
  /** Producer spans: the organization the job is counted and carried under. */
  org: string | undefined;
  /** Consumer spans: the job's own context, and its attempt once started. */
  jobCtx: RequestContext | undefined;
  attempt: SpanAttempt | undefined;
  /** Flow spans: nodes to count once the flow is written. */
  nodes: [string, string][] | undefined;

  constructor(
    private readonly owner: BullMqTelemetry,
    readonly kind: number,
    private readonly inner: Span | undefined,
    private readonly parent: BullMqTelemetryContext | undefined,
    /** The trace context active when the span started. */
    readonly enclosing: RequestContext | undefined,
  ) {}

  /** The flow this span's job is a node of. */
  get enclosingSpan(): ObservedSpan | undefined {
    return this.enclosing ? flowOf.get(this.enclosing) : undefined;
  }

  setSpanOnContext(ctx: BullMqTelemetryContext): BullMqTelemetryContext {
    const inner = this.inner ? this.inner.setSpanOnContext(ctx?.inner) : ctx?.inner;
    let obs = ctx?.obs;
    if (this.kind === CONSUMER) {
      // every attempt runs in a context of its own: the carried trace, or a new one
      obs = this.parent?.obs ?? new RequestContext(newTraceId());
      this.jobCtx = obs;
    } else if (FLOWS.has(this.operation ?? '')) {
      // a context of the flow's own (same trace and organization), so that
      // its nodes find the flow and all carry one trace
      const own = new RequestContext(obs?.traceId ?? newTraceId(), this.org);
      flowOf.set(own, this);
      obs = own;
    }
    return { obs, inner, span: this };
  }

  setAttribute(key: string, value: AttributeValue): void {
    this.inner?.setAttribute(key, value);
    this.note(key, value);
    this.owner.attributesSet(this);
  }

  setAttributes(attributes: Attributes): void {
    this.inner?.setAttributes(attributes);
    for (const key of Object.keys(attributes)) this.note(key, attributes[key]);
    this.owner.attributesSet(this);
  }

  private note(key: string, value: AttributeValue | undefined): void {
    if (key === QUEUE && typeof value === 'string') this.queue = value;
    else if (key === OPERATION && typeof value === 'string') this.operation = value;
    else if (key === JOB_NAME && typeof value === 'string') this.jobName = value;
    else if (key === JOB_ID && value !== undefined && value !== null) this.jobId = String(value);
    else if (key === BULK_NAMES && Array.isArray(value))
      this.bulkNames = value.filter((n): n is string => typeof n === 'string');
  }

  addEvent(name: string, attributes?: Attributes): void {
    this.inner?.addEvent(name, attributes);
    if (name === 'job failed') {
      const r = attributes?.['bullmq.job.failed.reason'];
      if (typeof r === 'string') this.reason = r;
    } else if (name === 'job completed') {
      this.owner.completedEvent(this);
    }
  }

  recordException(exception: Exception, time?: Time): void {
    this.inner?.recordException(exception, time);
    this.failed = true;
  }

  end(): void {
    this.inner?.end();
    this.owner.ended(this);
  }
}

/** The flow span a context was made for. */
const flowOf = new WeakMap<RequestContext, ObservedSpan>();
