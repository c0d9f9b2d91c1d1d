import { randomFillSync } from 'node:crypto';

/** Longest incoming trace ID we accept; longer ones are replaced. */
export const DEFAULT_TRACE_ID_MAX_LENGTH = 64;

// Letters, digits and the separators common trace formats use. No spaces,
// quotes, newlines or other characters that could break a log line, a header
// or an exemplar.
const SAFE_TRACE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
// W3C traceparent: version-traceid-parentid-flags; an all-zero trace ID is invalid.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = '00000000000000000000000000000000';

/** The incoming trace ID if it is short and made of safe characters, else undefined. */
export function acceptTraceId(
  value: string | string[] | undefined,
  maxLength = DEFAULT_TRACE_ID_MAX_LENGTH,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.length === 0 || value.length > maxLength) return undefined;
  return SAFE_TRACE_ID.test(value) ? value : undefined;
}

/** The trace ID part of a valid W3C `traceparent` header, else undefined. */
export function traceIdFromTraceparent(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const m = TRACEPARENT.exec(value);
  return m !== null && m[1] !== ZERO_TRACE ? m[1] : undefined;
}

// Random bytes are drawn from the OS in blocks, not per ID, and turned into
// hex once per block: an ID is then a slice of that string (no call into C++
// per request). 4096 bytes: one syscall and one conversion per 256 IDs.
const POOL = Buffer.allocUnsafe(4096);
let hex = '';
let offset = 0;

/** A new 128-bit trace ID as 32 lowercase hex characters (the W3C trace-id format). */
export function newTraceId(): string {
  if (offset >= hex.length) {
    randomFillSync(POOL);
    hex = POOL.toString('hex');
    offset = 0;
  }
  const id = hex.slice(offset, offset + 32);
  offset += 32;
  return id;
}
