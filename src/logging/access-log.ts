import type { DestinationStream, Logger as Pino } from 'pino';
import { isoNow } from './iso-time.js';
import { jsonString } from './json-line.js';
import { SPEC_LEVELS } from './json-logger.js';
import { extraFieldMatcher, redact } from './redact.js';

/** What one access line reports. */
export interface AccessRecord {
  traceId: string;
  spanId: string | undefined;
  user: string | undefined;
  organization: string | undefined;
  fields: Record<string, unknown> | undefined;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  durationMs: number;
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

  write(level: 'info' | 'warn' | 'error', r: AccessRecord): void {
    if (!this.logger.isLevelEnabled(level)) return;
    let line = `${this.prefix[level]}${isoNow()}"${this.base},"trace_id":${jsonString(r.traceId)}`;
    if (r.spanId !== undefined) line += `,"span_id":"${r.spanId}"`;
    if (r.user !== undefined) line += `,"user":${jsonString(r.user)}`;
    if (r.organization !== undefined) line += `,"organization":${jsonString(r.organization)}`;
    if (r.fields !== undefined) line += fieldsJson(r.fields, this.extra);
    line +=
      `,"method":${jsonString(r.method)},"path":${jsonString(r.path)},"endpoint":${jsonString(r.endpoint)}` +
      `,"status":${r.status},"duration_ms":${r.durationMs}` +
      `,"message":${jsonString(`${r.method} ${r.endpoint} ${r.status}`)}}\n`;
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
