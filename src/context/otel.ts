/**
 * Reads the active OpenTelemetry span, when an app runs the OpenTelemetry
 * SDK, without loading `@opentelemetry/api`: the API keeps its registered
 * context manager on a well-known global (`Symbol.for('opentelemetry.js.api.1')`,
 * its stable major version), and a context holds its span under
 * `Symbol.for('OpenTelemetry Context Key SPAN')`. An app without OpenTelemetry
 * pays one property read; nothing of OpenTelemetry is ever imported here.
 */
const API = Symbol.for('opentelemetry.js.api.1');
const SPAN = Symbol.for('OpenTelemetry Context Key SPAN');
const INVALID_TRACE = '00000000000000000000000000000000';
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

export interface OtelSpanIds {
  traceId: string;
  spanId: string;
}

interface OtelGlobal {
  context?: { active?: () => { getValue?: (key: symbol) => unknown } | undefined };
}

interface SpanLike {
  spanContext?: () => { traceId?: unknown; spanId?: unknown } | undefined;
}

/** The trace and span IDs of the active OpenTelemetry span, if any (and valid). */
export function activeOtelSpan(): OtelSpanIds | undefined {
  const api = (globalThis as Record<symbol, OtelGlobal | undefined>)[API];
  if (api === undefined) return undefined;
  try {
    const span = api.context?.active?.()?.getValue?.(SPAN) as SpanLike | undefined;
    const sc = span?.spanContext?.();
    const traceId = sc?.traceId;
    const spanId = sc?.spanId;
    if (typeof traceId !== 'string' || traceId === INVALID_TRACE || !HEX32.test(traceId))
      return undefined;
    if (typeof spanId !== 'string' || !HEX16.test(spanId)) return undefined;
    return { traceId, spanId };
  } catch {
    // a broken or foreign global: as if OpenTelemetry were absent
    return undefined;
  }
}
