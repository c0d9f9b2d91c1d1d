/**
 * Marks this module's BullMQ telemetry, so that the fallback patches leave
 * alone the queues, workers and flow producers it already instruments
 * (checked by shape: the patches must not load the telemetry's module).
 */
export const TELEMETRY_MARK = Symbol.for('nestjs-observability:bullmq-telemetry');

export function usesObservedTelemetry(obj: object): boolean {
  const t = (obj as { opts?: { telemetry?: Record<symbol, unknown> } }).opts?.telemetry;
  return t !== undefined && t !== null && t[TELEMETRY_MARK] === true;
}
