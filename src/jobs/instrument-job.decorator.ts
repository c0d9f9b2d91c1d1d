import { JobInstrumentation } from './job-instrumentation.js';
import { readJobTrace } from './job-trace.js';

interface JobLike {
  id?: string;
  name?: string;
  data?: unknown;
  attemptsMade?: number;
  opts?: { attempts?: number; telemetry?: { metadata?: string } };
}

function isJobLike(v: unknown): v is JobLike {
  return (
    v !== null &&
    typeof v === 'object' &&
    'data' in v &&
    'opts' in v &&
    typeof (v as JobLike).name === 'string'
  );
}

function organizationOf(args: unknown[]): string | undefined {
  for (const a of args) {
    const org = (a as { organization?: unknown } | null)?.organization;
    if (typeof org === 'string' && org !== '') return org;
  }
  return undefined;
}

/**
 * The spec's `@instrument_job(queue)`: times a job method and records
 * `CATALOG.jobsCompletedTotal`, `.jobsDurationSeconds` and `.jobsRetriedTotal`,
 * with start/success/failure log lines in the job's own trace context.
 *
 * For job handlers outside `@nestjs/bullmq` processors (those are
 * instrumented automatically). When the first argument is a BullMQ job, its
 * name, attempt, organization and the trace ID it carries are used; otherwise
 * `organization` is read from the first argument that has one. Sync and async
 * methods keep their nature; other decorators' metadata is kept.
 */
export function InstrumentJob(queue = 'default'): MethodDecorator {
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown;
    if (typeof original !== 'function') {
      throw new Error(`@InstrumentJob() can only decorate methods (${String(key)})`);
    }
    const method = `${(target as { constructor: { name: string } }).constructor.name}.${String(key)}`;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      const jobs = JobInstrumentation.current();
      const call = () => (original as (...a: unknown[]) => unknown).apply(this, args);
      if (jobs === undefined) return call();
      const job = isJobLike(args[0]) ? args[0] : undefined;
      const carried = job ? readJobTrace(job.opts?.telemetry?.metadata) : undefined;
      return jobs.run(
        {
          queue,
          method,
          org: organizationOf(job ? [job.data] : args) ?? carried?.org,
          traceId: carried?.traceId,
          jobId: job?.id,
          jobName: job?.name,
          attempt: (job?.attemptsMade ?? 0) + 1,
          attempts: job?.opts?.attempts ?? 1,
        },
        call,
      );
    };
    // Keep what other decorators stored on the method (Nest route, event and
    // processor metadata lives there) and its name.
    for (const k of Reflect.getMetadataKeys?.(original) ?? []) {
      Reflect.defineMetadata(k, Reflect.getMetadata(k, original), wrapped);
    }
    Object.defineProperty(wrapped, 'name', { value: (original as { name: string }).name });
    descriptor.value = wrapped as never;
    return descriptor;
  };
}
