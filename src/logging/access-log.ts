import type { DestinationStream, Logger as Pino } from 'pino';
import { isoNow } from './iso-time.js';
import { jsonString, millisecondsText } from './json-line.js';
import { SPEC_LEVELS } from './json-logger.js';
import { extraFieldMatcher, redact } from './redact.js';

/**
 * The parts of an access line that depend only on its method and route,
 * rendered once per route (see `AccessLog.routeText`) instead of escaped again
 * on every request.
 */
export interface RouteText {
  /** `,"method":"GET","path":` */
  readonly method: string;
  /** `,"endpoint":"/items/:id","status":` */
  readonly endpoint: string;
  /** `,"message":"GET /items/:id ` (the status and closing quote follow) */
  readonly message: string;
}

/** What one access line reports. */
export interface AccessRecord {
  /** Safe as it is (validated or generated: see context/trace-id.ts), so not escaped again. */
  traceId: string;
  spanId: string | undefined;
  user: string | undefined;
  organization: string | undefined;
  fields: Record<string, unknown> | undefined;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  /** Time to the response, in seconds (logged as `duration_ms`). */
  seconds: number;
  /** `method` and `endpoint` rendered, when the caller keeps them per route. */
  text: RouteText | undefined;
}

/**
 * Writes the one access line per request. It is the hottest log line by far,
 * so it is assembled directly as JSON with the same fields, order and
 * redaction as the pino logger's lines and written to the same destination,
 * instead of going through pino's generic serialisation.
 */
export class AccessLog {
  private readonly prefix: Record<'info' | 'warn' | 'error', string>;
  private readonly base: string;
  private readonly extra: RegExp | undefined;

  constructor(
    private readonly logger: Pino,
    private readonly stream: DestinationStream,
    service: string,
    site: string,
    redactFields: readonly string[],
  ) {
    const base = `,"service":${jsonString(service)},"site":${jsonString(site)}`;
    const tag = (l: 'info' | 'warn' | 'error') => `{"level":"${SPEC_LEVELS[l]}","timestamp":"`;
    this.prefix = { info: tag('info'), warn: tag('warn'), error: tag('error') };
    this.base = base;
    this.extra = extraFieldMatcher(redactFields);
  }

  /** The per-route parts of the lines of `method` requests served by `endpoint`. */
  routeText(method: string, endpoint: string): RouteText {
    return {
      method: `,"method":${jsonString(method)},"path":`,
      endpoint: `,"endpoint":${jsonString(endpoint)},"status":`,
      // Escaping works character by character, so the message's escaped
      // prefix followed by the status is the escaped message.
      message: `,"message":${JSON.stringify(`${method} ${endpoint} `).slice(0, -1)}`,
    };
  }

  write(level: 'info' | 'warn' | 'error', r: AccessRecord): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const t = r.text ?? this.routeText(r.method, r.endpoint);
    let line = `${this.prefix[level]}${isoNow()}"${this.base},"trace_id":"${r.traceId}"`;
    if (r.spanId !== undefined) line += `,"span_id":"${r.spanId}"`;
    if (r.user !== undefined) line += `,"user":${jsonString(r.user)}`;
    if (r.organization !== undefined) line += `,"organization":${jsonString(r.organization)}`;
    if (r.fields !== undefined) line += fieldsJson(r.fields, this.extra);
    line +=
      `${t.method}${jsonString(r.path)}${t.endpoint}${r.status},"duration_ms":${millisecondsText(r.seconds)}` +
      `${t.message}${r.status}"}\n`;
    this.stream.write(line);
  }
}

/** `,"a":1,"b":"x"` for context fields, redacted; empty when they cannot be serialised. */
function fieldsJson(fields: Record<string, unknown>, extra: RegExp | undefined): string {
  try {
    const json = JSON.stringify(redact(fields, extra));
    return json.length > 2 ? `,${json.slice(1, -1)}` : '';
  } catch {
    return '';
  }
}
