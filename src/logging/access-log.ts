import type { DestinationStream, Logger as Pino } from 'pino';
import { levels } from 'pino';
import { isoSecond, MS_TAIL } from './iso-time.js';
import { flat, jsonString, jsonText, millisecondsText } from './json-line.js';
import { SPEC_LEVELS } from './json-logger.js';
import { extraFieldMatcher, redact } from './redact.js';

/**
 * The parts of an access line that depend only on its method and route (and
 * status), rendered once per route (see `AccessLog.routeText`) instead of
 * escaped again on every request.
 */
export class RouteText {
  /** By status: the status's pieces joined to the route's. */
  private readonly statuses = new Map<number, StatusText>();

  constructor(
    /** `,"method":"GET","path":"` */
    readonly method: string,
    /** `","method":"GET","path":"`: the same, closing the trace ID before it. */
    readonly afterTrace: string,
    /** `","endpoint":"/items/:id","status":` */
    private readonly endpoint: string,
    /** `,"message":"GET /items/:id ` (the status and closing quote follow) */
    private readonly message: string,
  ) {}

  /** The line's pieces around the duration for `status` (made at its first use). */
  status(status: number): StatusText {
    let s = this.statuses.get(status);
    if (s === undefined) {
      s = {
        duration: flat(`${this.endpoint}${status},"duration_ms":`),
        end: flat(`${this.message}${status}"}\n`),
      };
      // Not cached past a handful of codes: a status is any integer Node accepts.
      if (this.statuses.size < MAX_CACHED_STATUSES) this.statuses.set(status, s);
    }
    return s;
  }
}

/** Statuses per route whose pieces are kept (a route sees a few: 200, 304, 404, 500…). */
const MAX_CACHED_STATUSES = 32;

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
  /** When the response ended: whole milliseconds since the epoch (the line's timestamp). */
  time: number;
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
  /**
   * The line up to the trace ID comes in two pieces (see write): the level
   * and the timestamp's second, remade once a second; the timestamp's
   * milliseconds and the service fields, one string per millisecond.
   */
  private readonly lead = { info: '', warn: '', error: '' };
  private readonly tail: readonly string[];
  private second = -1;
  private readonly extra: RegExp | undefined;

  constructor(
    private readonly logger: Pino,
    private readonly stream: DestinationStream,
    service: string,
    site: string,
    redactFields: readonly string[],
  ) {
    // Every constant piece is flat (see flat): about half the pieces a line
    // would otherwise be made of, each walked when its batch is written.
    const tag = (l: 'info' | 'warn' | 'error') => `{"level":"${SPEC_LEVELS[l]}","timestamp":"`;
    this.prefix = { info: tag('info'), warn: tag('warn'), error: tag('error') };
    const base = `","service":${jsonString(service)},"site":${jsonString(site)},"trace_id":"`;
    this.tail = MS_TAIL.map((ms) => flat(ms + base));
    this.extra = extraFieldMatcher(redactFields);
  }

  /** The per-route parts of the lines of `method` requests served by `endpoint`. */
  routeText(method: string, endpoint: string): RouteText {
    // Escaping works character by character, so an escaped string's parts
    // can be written apart: the quotes here, the path's text between them.
    const m = `,"method":${jsonString(method)},"path":"`;
    return new RouteText(
      flat(m),
      flat(`"${m}`),
      `","endpoint":${jsonString(endpoint)},"status":`,
      `,"message":${JSON.stringify(`${method} ${endpoint} `).slice(0, -1)}`,
    );
  }

  write(level: 'info' | 'warn' | 'error', r: AccessRecord): void {
    // The logger is the module's own (pino's default, ascending order): one
    // number compared instead of isLevelEnabled's lookups (~100 instructions).
    if (this.logger.levelVal > levels.values[level]!) return;
    const t = r.text ?? this.routeText(r.method, r.endpoint);
    // The line is a rope of its pieces until the batch is written, and
    // flattening it costs per piece: constant neighbours are joined ahead
    // (per second, per millisecond, per route and status) and stored flat,
    // so a line has eight pieces and its context fields.
    const now = r.time;
    const ms = now % 1000;
    if (now - ms !== this.second) this.newSecond(now - ms);
    let line = `${this.lead[level]}${this.tail[ms]!}${r.traceId}`;
    let context = '';
    if (r.spanId !== undefined) context += `,"span_id":"${r.spanId}"`;
    if (r.user !== undefined) context += `,"user":${jsonString(r.user)}`;
    if (r.organization !== undefined) context += `,"organization":${jsonString(r.organization)}`;
    if (r.fields !== undefined) context += fieldsJson(r.fields, this.extra);
    line += context === '' ? t.afterTrace : `"${context}${t.method}`;
    const status = t.status(r.status);
    line += `${jsonText(r.path)}${status.duration}${millisecondsText(r.seconds)}${status.end}`;
    this.stream.write(line);
  }

  private newSecond(second: number): void {
    this.second = second;
    const iso = isoSecond(second);
    this.lead.info = flat(this.prefix.info + iso);
    this.lead.warn = flat(this.prefix.warn + iso);
    this.lead.error = flat(this.prefix.error + iso);
  }
}

/** A route and status's pieces of a line: before the duration, and after it. */
interface StatusText {
  /** `","endpoint":"/items/:id","status":200,"duration_ms":` */
  readonly duration: string;
  /** `,"message":"GET /items/:id 200"}` and the newline */
  readonly end: string;
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
