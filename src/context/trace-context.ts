import { AsyncLocalStorage } from 'node:async_hooks';
import { acceptTraceId, newTraceId } from './trace-id.js';
import type { ContextFields } from './request-context.js';
import { RequestContext } from './request-context.js';

/** Trace ID reported for work that runs outside any request or job (as the spec's `get_trace_id`). */
export const NO_TRACE = 'no-trace';

export interface RunOptions {
  /**
   * Reuse this trace ID (e.g. the one a job carries). It is validated like an
   * incoming header; a missing or unsafe one is replaced by a new ID.
   */
  traceId?: string;
  organization?: string;
  user?: string;
  fields?: ContextFields;
}

/**
 * The current request's (or job's) observability context, anywhere in its
 * async call chain. Inject it to read the trace ID, or to run work (a cron
 * tick, a queue consumer) in a context of its own.
 */
export class TraceContext {
  /** One store per application, created with the module (never at import). */
  readonly storage = new AsyncLocalStorage<RequestContext>();

  /** The current context, or undefined outside a request or job. */
  current(): RequestContext | undefined {
    return this.storage.getStore();
  }

  /** The current trace ID, or `no-trace` outside a request or job. */
  get traceId(): string {
    return this.storage.getStore()?.traceId ?? NO_TRACE;
  }

  get organization(): string | undefined {
    return this.storage.getStore()?.organization;
  }

  get user(): string | undefined {
    return this.storage.getStore()?.user;
  }

  /** Adds fields (e.g. `doctype`, `docname`) to every later log line of the current context. */
  assign(fields: ContextFields): void {
    this.storage.getStore()?.assign(fields);
  }

  /** Sets the organization of the current context (when it is only known after authentication). */
  setOrganization(organization: string): void {
    const ctx = this.storage.getStore();
    if (ctx) ctx.organization = organization;
  }

  /** Runs `fn` in a new context; its async continuations keep it. */
  run<T>(fn: () => T, options: RunOptions = {}): T {
    const ctx = new RequestContext(
      acceptTraceId(options.traceId) ?? newTraceId(),
      options.organization,
      options.user,
    );
    if (options.fields) ctx.assign(options.fields);
    return this.storage.run(ctx, fn);
  }
}
