/** Injection token of the validated options (`ResolvedOptions`). */
export const OBSERVABILITY_OPTIONS = Symbol('nestjs-observability:options');
/** Injection token of the application's pino logger. */
export const JSON_LOGGER = Symbol('nestjs-observability:json-logger');
/** Injection token of the log destination the module owns (flushed on shutdown). */
export const LOG_DESTINATION = Symbol('nestjs-observability:log-destination');
