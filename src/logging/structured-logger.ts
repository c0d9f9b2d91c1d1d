import type { Logger as Pino } from 'pino';

/**
 * Context fields of one structured log line. The spec's optional fields are
 * typed; anything else is passed through (secrets are redacted).
 */
export interface LogFields {
  doctype?: string;
  docname?: string;
  duration_ms?: number;
  /** Anything thrown: becomes `error_type` and `stack_trace`. */
  error?: unknown;
  [field: string]: unknown;
}

/**
 * The spec's `structured_log` / `log_info` / `log_warning` / `log_error` for
 * Nest code: one JSON line with the standard fields plus your context fields.
 * The trace ID, user and organization of the current request or job are added
 * automatically.
 */
export class StructuredLogger {
  constructor(private readonly pino: Pino) {}

  /** `level` is debug, info, warning or error, as in the spec. */
  log(level: 'debug' | 'info' | 'warning' | 'error', message: string, fields?: LogFields): void {
    const method = level === 'warning' ? 'warn' : level;
    if (!this.pino.isLevelEnabled(method)) return;
    if (fields === undefined) {
      this.pino[method](message);
      return;
    }
    const { error, ...rest } = fields;
    this.pino[method](error === undefined ? rest : { ...rest, err: error }, message);
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warning(message: string, fields?: LogFields): void {
    this.log('warning', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }

  /** The underlying pino logger, for code that wants pino's own API. */
  get raw(): Pino {
    return this.pino;
  }
}
