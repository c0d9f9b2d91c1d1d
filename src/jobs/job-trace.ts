import { acceptTraceId } from '../context/trace-id.js';

/**
 * How a job carries the trace ID (and organization) of the request that
 * enqueued it: in BullMQ's `opts.telemetry.metadata`, a string stored with the
 * job and invisible to processors, marked with a prefix so it is never
 * confused with OpenTelemetry propagation data.
 */
const PREFIX = 'nestjs-observability:';

export interface CarriedTrace {
  traceId: string;
  org?: string;
}

export function writeJobTrace(trace: CarriedTrace): string {
  return (
    PREFIX +
    JSON.stringify(
      trace.org === undefined ? { t: trace.traceId } : { t: trace.traceId, o: trace.org },
    )
  );
}

/** The carried trace, or undefined when absent, foreign or invalid. */
export function readJobTrace(metadata: unknown): CarriedTrace | undefined {
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return undefined;
  try {
    const v = JSON.parse(metadata.slice(PREFIX.length)) as { t?: unknown; o?: unknown };
    const traceId = acceptTraceId(typeof v.t === 'string' ? v.t : undefined);
    if (traceId === undefined) return undefined;
    return typeof v.o === 'string' && v.o !== ''
      ? { traceId, org: v.o.slice(0, 256) }
      : { traceId };
  } catch {
    return undefined;
  }
}
