import type { Logger as Pino } from 'pino';
import type { RequestContext } from '../context/request-context.js';
import type { TraceContext } from '../context/trace-context.js';
import { errorFields } from '../logging/error-fields.js';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily, HistogramFamily } from '../metrics/families.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';

/** How one outbound call ended: an HTTP status, or an error (network, timeout, open circuit). */
export interface CallOutcome {
  statusCode?: number;
  error?: unknown;
}

/**
 * What counts as a failed call: any error thrown or reported by the client,
 * and any 4xx or 5xx status (4xx only when the integration does not count
 * client errors as success).
 */
export function isSuccessful(outcome: CallOutcome, clientErrorsAreSuccess: boolean): boolean {
  if (outcome.error !== undefined) return false;
  const s = outcome.statusCode;
  if (s === undefined || s < 400) return true;
  return s < 500 && clientErrorsAreSuccess;
}

/** `error_type` of a failed call: the network error's code (ECONNREFUSED), its class, or `HttpError`. */
export function callErrorType(outcome: CallOutcome): string {
  const e = outcome.error;
  if (e === undefined) return 'HttpError';
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
  return errorFields(e).error_type;
}

/** Records outbound calls: the two integration metrics and a WARN line per failure. */
export class CallRecorder {
  private readonly requests: CounterFamily<'integration' | 'endpoint' | 'status'>;
  private readonly duration: HistogramFamily<'integration' | 'endpoint'>;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly trace: TraceContext,
    private readonly log: Pino,
    private readonly logFailures: boolean,
  ) {
    registry.useGroup('integrations');
    this.requests = registry.counter(CATALOG.integrationRequestsTotal);
    this.duration = registry.histogram(CATALOG.integrationDurationSeconds);
  }

  /**
   * One finished call. `ctx` is the context the call was made in: channel
   * events that end a call fire in the socket's context, not the caller's.
   */
  record(
    integration: string,
    endpoint: string,
    seconds: number,
    outcome: CallOutcome,
    clientErrorsAreSuccess: boolean,
    ctx: RequestContext | undefined,
  ): void {
    try {
      const ok = isSuccessful(outcome, clientErrorsAreSuccess);
      this.requests.inc({ integration, endpoint, status: ok ? 'success' : 'error' });
      this.duration.observe({ integration, endpoint }, seconds, ctx?.traceId);
      if (ok || !this.logFailures) return;
      const fields: Record<string, unknown> = {
        integration,
        endpoint,
        duration_ms: Math.round(seconds * 10_000) / 10,
        error_type: callErrorType(outcome),
      };
      if (outcome.statusCode !== undefined) fields.status_code = outcome.statusCode;
      if (outcome.error !== undefined) fields.error_message = messageOf(outcome.error);
      const write = () => this.log.warn(fields, 'integration call failed');
      if (ctx !== undefined && ctx !== this.trace.current()) this.trace.storage.run(ctx, write);
      else write();
    } catch {
      this.registry.countInternalError('integrations');
    }
  }
}

function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 300 ? m.slice(0, 300) + '…' : m;
}
