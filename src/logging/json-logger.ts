import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger, LoggerOptions } from 'pino';
import type { TraceContext } from '../context/trace-context.js';
import { NO_TRACE } from '../context/trace-context.js';
import { activeOtelSpan } from '../context/otel.js';
import { errorFields } from './error-fields.js';
import { isoNow } from './iso-time.js';
import type { LoggedErrors } from './logged-errors.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { extraFieldMatcher, redact, scrubUrlCredentials } from './redact.js';

/** pino level labels as the spec writes them. */
export const SPEC_LEVELS: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** A pino destination we may have to flush on shutdown. */
export interface OwnedDestination {
  stream: DestinationStream;
  /** Flush and (for files) close; safe to call twice. */
  close(): Promise<void>;
  /** Lines the destination did not take, counted from now on in `registry`. */
  attach(registry: MetricsRegistry): void;
}

/** Where lines go: `stdout`, `stderr`, a file path or a stream; `sync` writes each line at once. */
export interface DestinationSettings {
  destination: string | DestinationStream;
  sync: boolean;
  /** Characters held while the destination is slow or failing. */
  bufferLimit: number;
}

/** What the JSON logger needs from the module's options. */
export interface JsonLoggerSettings {
  level: string;
  /** Extra field names to redact. */
  redact: readonly string[];
  serviceName: string;
  site: string;
  /** Add the active OpenTelemetry span's IDs (see context/otel.ts). */
  openTelemetry: boolean;
}

/**
 * Builds the application's JSON logger: one object per line with the spec's
 * standard fields (`timestamp`, `level`, `message`, `trace_id`, `site`, and
 * `user`, `organization` and context fields when known), errors as
 * `error_type` + `stack_trace`, secrets redacted.
 */
export function createJsonLogger(
  settings: JsonLoggerSettings,
  context: TraceContext,
  destination: DestinationStream,
  errors?: LoggedErrors,
): PinoLogger {
  const extra = extraFieldMatcher(settings.redact);
  const storage = context.storage;
  const config: LoggerOptions = {
    level: settings.level,
    messageKey: 'message',
    errorKey: 'err',
    base: { service: settings.serviceName, site: settings.site },
    timestamp: () => `,"timestamp":"${isoNow()}"`,
    formatters: {
      level: (label) => ({ level: SPEC_LEVELS[label] ?? label.toUpperCase() }),
      log: (obj) => {
        let out = obj as Record<string, unknown>;
        const err = out.err ?? out.error;
        if (err !== undefined && (err instanceof Error || out.err !== undefined)) {
          const { err: _e, error: _r, ...rest } = out;
          out = { ...rest, ...errorFields(err) };
        }
        return redact(out, extra) as Record<string, unknown>;
      },
    },
    // Read on every line, so a log call anywhere in a request carries its trace.
    mixin: () => {
      const ctx = storage.getStore();
      const otel = settings.openTelemetry ? activeOtelSpan() : undefined;
      if (ctx === undefined) {
        return otel === undefined
          ? { trace_id: NO_TRACE }
          : { trace_id: otel.traceId, span_id: otel.spanId };
      }
      const out: Record<string, unknown> = { trace_id: ctx.traceId };
      // the current OpenTelemetry span when it is of this trace, else the one the work began in
      const spanId = otel !== undefined && otel.traceId === ctx.traceId ? otel.spanId : ctx.spanId;
      if (spanId !== undefined) out.span_id = spanId;
      const user = ctx.user;
      if (user !== undefined) out.user = user;
      const org = ctx.organization;
      if (org !== undefined) out.organization = org;
      if (ctx.fields !== undefined) Object.assign(out, ctx.fields);
      return out;
    },
    hooks: {
      // Messages can carry connection strings (driver errors): mask their passwords.
      logMethod(args, method, level) {
        try {
          errors?.observe(args, level);
        } catch {
          // counting must never cost a log line
        }
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (typeof a === 'string' && a.includes('://')) args[i] = scrubUrlCredentials(a);
        }
        return method.apply(this, args);
      },
    },
  };
  return pino(config, destination);
}
