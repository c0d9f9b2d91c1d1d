import { acceptTraceId, traceIdFromTraceparent } from '../context/trace-id.js';

/**
 * How a job carries the trace ID (and organization) of the request that
 * enqueued it: in BullMQ's `opts.telemetry.metadata`, a string stored with the
 * job and invisible to processors, marked with a prefix so it is never
 * confused with OpenTelemetry propagation data. When a delegate telemetry
 * (bullmq-otel) also propagates, its own metadata travels inside ours.
 */
const PREFIX = 'nestjs-observability:';

export interface CarriedTrace {
  traceId?: string;
  org?: string;
  /** The delegate telemetry's own metadata, handed back to it on the worker. */
  delegate?: string;
}

export function writeJobTrace(trace: CarriedTrace): string {
  const v: { t?: string; o?: string; d?: string } = {};
  if (trace.traceId !== undefined) v.t = trace.traceId;
  if (trace.org !== undefined) v.o = trace.org;
  if (trace.delegate !== undefined) v.d = trace.delegate;
  return PREFIX + JSON.stringify(v);
}

/** The carried trace, or undefined when absent, foreign or malformed. */
export function readJobTrace(metadata: unknown): CarriedTrace | undefined {
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return undefined;
  try {
    const v = JSON.parse(metadata.slice(PREFIX.length)) as {
      t?: unknown;
      o?: unknown;
      d?: unknown;
    };
    if (v === null || typeof v !== 'object') return undefined;
    const out: CarriedTrace = {};
    const traceId = acceptTraceId(typeof v.t === 'string' ? v.t : undefined);
    if (traceId !== undefined) out.traceId = traceId;
    if (typeof v.o === 'string' && v.o !== '') out.org = v.o.slice(0, 256);
    if (typeof v.d === 'string') out.delegate = v.d;
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The trace ID in another library's metadata: OpenTelemetry propagators
 * (bullmq-otel) store a JSON carrier with a W3C `traceparent`, so a job
 * enqueued by a service on bullmq-otel keeps its trace ID here too.
 */
export function foreignTraceId(metadata: unknown): string | undefined {
  if (typeof metadata !== 'string' || metadata.length > 8192 || !metadata.includes('traceparent'))
    return undefined;
  try {
    const carrier = JSON.parse(metadata) as { traceparent?: unknown } | null;
    return typeof carrier?.traceparent === 'string'
      ? traceIdFromTraceparent(carrier.traceparent)
      : undefined;
  } catch {
    return undefined;
  }
}
