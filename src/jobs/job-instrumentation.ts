import { performance } from 'node:perf_hooks';
import type { Logger as Pino } from 'pino';
import type { TraceContext } from '../context/trace-context.js';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily, HistogramFamily } from '../metrics/families.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';

/** One attempt of one job, as the instrumentation records it. */
export interface JobAttempt {
  queue: string;
  /** Processor class and handler or job name, e.g. `EmailProcessor.welcome`. */
  method: string;
  /** Organization the job acts for (`system` when unknown). */
  org: string | undefined;
  /** Trace ID carried from the enqueuing request; a new one when absent. */
  traceId: string | undefined;
  jobId?: string;
  jobName?: string;
  /** 1-based number of this attempt (unknown when only BullMQ's telemetry saw the job). */
  attempt: number | undefined;
  /** How many attempts the job has in all. */
  attempts: number | undefined;
  /** The class that processes the job, for the log lines. */
  processor?: string;
  /** Called once the job will run no more (success or final failure). */
  onDone?: (outcome: 'success' | 'failure') => void;
}

/** What became of an attempt that threw. */
export type FailureKind = 'retry' | 'failure' | 'not-a-failure';

/**
 * Runs job attempts with the spec's job metrics and logs: each attempt in its
 * own trace context (the enqueuing request's trace ID when the job carries
 * one), a duration observation per attempt, a retry count for attempts
 * that failed and will be retried, `CATALOG.jobsCompletedTotal` once per job (success
 * or final failure), and JSON lines for start, success and failure.
 * Independent of any queue library: the BullMQ glue and `@InstrumentJob` use it.
 */
export class JobInstrumentation {
  private static active: JobInstrumentation | undefined;

  private readonly enqueued: CounterFamily<'queue' | 'method' | 'org'>;
  private readonly completed: CounterFamily<'queue' | 'method' | 'org' | 'status'>;
  private readonly retried: CounterFamily<'queue' | 'method'>;
  private readonly duration: HistogramFamily<'queue' | 'method'>;

  constructor(
    private readonly registry: MetricsRegistry,
    readonly trace: TraceContext,
    private readonly log: Pino,
    private readonly fallbackOrg: string,
  ) {
    this.enqueued = registry.counter(CATALOG.jobsEnqueuedTotal);
    this.completed = registry.counter(CATALOG.jobsCompletedTotal);
    this.retried = registry.counter(CATALOG.jobsRetriedTotal);
    this.duration = registry.histogram(CATALOG.jobsDurationSeconds);
  }

  /**
   * The instrumentation of the application that started last and is still
   * running: what `@InstrumentJob` and library patches use, as decorators
   * cannot be injected.
   */
  static current(): JobInstrumentation | undefined {
    return JobInstrumentation.active;
  }

  activate(): void {
    JobInstrumentation.active = this;
  }

  deactivate(): void {
    if (JobInstrumentation.active === this) JobInstrumentation.active = undefined;
  }

  /** Counts one job enqueued. */
  recordEnqueue(queue: string, method: string, org: string | undefined): void {
    this.safely(() => this.enqueued.inc({ queue, method, org: org ?? this.fallbackOrg }));
  }

  /**
   * Runs one attempt of a job. `classify` tells what a thrown error means
   * (default: retried while attempts remain). Returns what `fn` returns, sync
   * or async, and rethrows what it throws.
   */
  run<T>(attempt: JobAttempt, fn: () => T, classify?: (err: unknown) => FailureKind): T {
    return this.trace.run(
      () => {
        const start = this.begin(attempt);
        let result: T;
        try {
          result = fn();
        } catch (err) {
          this.failed(attempt, err, start, classify);
          throw err;
        }
        if (isThenable(result)) {
          return result.then(
            (value) => {
              this.succeeded(attempt, start);
              return value;
            },
            (err: unknown) => {
              this.failed(attempt, err, start, classify);
              throw err;
            },
          ) as T;
        }
        this.succeeded(attempt, start);
        return result;
      },
      {
        traceId: attempt.traceId,
        organization: attempt.org,
        fields: JobInstrumentation.fields(attempt),
      },
    );
  }

  /** The log fields a job's context carries. */
  static fields(a: JobAttempt): Record<string, unknown> {
    return { queue: a.queue, job_id: a.jobId, job_name: a.jobName, processor: a.processor };
  }

  /**
   * For callers that see an attempt's start and end as separate events
   * (BullMQ's telemetry spans) and run it in a context of their own: logs the
   * start and returns the start time to hand to `end`.
   */
  begin(a: JobAttempt): number {
    this.started(a);
    return performance.now();
  }

  /** The end of an attempt begun with `begin`: success, or what became of its error. */
  end(
    a: JobAttempt,
    start: number,
    outcome: 'success' | FailureKind,
    err?: unknown,
    now = performance.now(),
  ): void {
    if (outcome === 'success') this.succeeded(a, start, now);
    else this.failed(a, err, start, () => outcome, now);
  }

  private started(a: JobAttempt): void {
    this.safely(() =>
      this.log.info(
        { method: a.method, attempt: a.attempt, attempts: a.attempts },
        `job started: ${a.queue} ${a.method}`,
      ),
    );
  }

  // Each step on its own (safely): one failing metric must not cost the
  // others, the log line or the outcome callback.
  private succeeded(a: JobAttempt, start: number, now = performance.now()): void {
    const seconds = (now - start) / 1000;
    this.safely(() => this.duration.observe({ queue: a.queue, method: a.method }, seconds));
    this.safely(() =>
      this.completed.inc({
        queue: a.queue,
        method: a.method,
        org: a.org ?? this.fallbackOrg,
        status: 'success',
      }),
    );
    this.safely(() =>
      this.log.info(
        { method: a.method, attempt: a.attempt, attempts: a.attempts, duration_ms: round(seconds) },
        `job completed: ${a.queue} ${a.method}`,
      ),
    );
    this.safely(() => this.emit(a, 'success'));
  }

  private failed(
    a: JobAttempt,
    err: unknown,
    start: number,
    classify?: (err: unknown) => FailureKind,
    now = performance.now(),
  ): void {
    const kind = this.kindOf(a, err, classify);
    if (kind === 'not-a-failure') return;
    const seconds = (now - start) / 1000;
    this.safely(() => this.duration.observe({ queue: a.queue, method: a.method }, seconds));
    const fields = {
      method: a.method,
      attempt: a.attempt,
      attempts: a.attempts,
      duration_ms: round(seconds),
      will_retry: kind === 'retry',
      err,
    };
    if (kind === 'retry') {
      this.safely(() => this.retried.inc({ queue: a.queue, method: a.method }));
      this.safely(() => {
        const of = a.attempt === undefined ? '' : ` ${a.attempt}/${a.attempts ?? '?'}`;
        this.log.warn(fields, `job attempt${of} failed, will retry: ${a.queue} ${a.method}`);
      });
      return;
    }
    this.safely(() =>
      this.completed.inc({
        queue: a.queue,
        method: a.method,
        org: a.org ?? this.fallbackOrg,
        status: 'failure',
      }),
    );
    this.safely(() => this.log.error(fields, `job failed: ${a.queue} ${a.method}`));
    this.safely(() => this.emit(a, 'failure'));
  }

  private kindOf(
    a: JobAttempt,
    err: unknown,
    classify?: (err: unknown) => FailureKind,
  ): FailureKind {
    try {
      if (classify) return classify(err);
    } catch {
      this.safely(() => this.registry.countInternalError('jobs'));
    }
    return (a.attempt ?? 1) < (a.attempts ?? 1) ? 'retry' : 'failure';
  }

  private emit(a: JobAttempt, outcome: 'success' | 'failure'): void {
    a.onDone?.(outcome);
  }

  /** Instrumentation never breaks the job: its own errors are counted and dropped. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      try {
        this.registry.countInternalError('jobs');
      } catch {
        // nothing left to do
      }
    }
  }
}

function isThenable<T>(v: T): v is T & PromiseLike<Awaited<T>> {
  return (
    v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function'
  );
}

function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
