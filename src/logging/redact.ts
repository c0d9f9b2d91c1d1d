/** Replacement for a redacted value. */
export const REDACTED = '[REDACTED]';

/** Field names whose values never reach a log line. */
export const SENSITIVE_FIELD =
  /passw(or)?d|passphrase|^pwd$|secret|token|authorization|cookie|api[-_]?key|credential|private[-_]?key/i;

// scheme://user:password@host -> scheme://user:***@host
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)[^\s@/]+@/gi;

/** Masks the password of any URL with credentials inside `s` (connection strings in errors). */
export function scrubUrlCredentials(s: string): string {
  return s.includes('://') ? s.replace(URL_CREDENTIALS, '$1***@') : s;
}

const MAX_DEPTH = 6;

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Returns `value` with sensitive fields redacted and URL passwords masked, at
 * any depth up to a limit. Copies only the objects it changes, so the caller's
 * objects are never mutated and clean lines cost a key scan.
 */
export function redact(value: unknown, extra: RegExp | undefined, depth = 0): unknown {
  if (typeof value === 'string') return scrubUrlCredentials(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = redact(value[i], extra, depth + 1);
      if (r !== value[i]) (out ??= value.slice())[i] = r;
    }
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  const src = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(src)) {
    const v = src[k];
    const sensitive = SENSITIVE_FIELD.test(k) || (extra !== undefined && extra.test(k));
    const r = sensitive
      ? v === undefined || v === null
        ? v
        : REDACTED
      : redact(v, extra, depth + 1);
    if (r !== v) (out ??= { ...src })[k] = r;
  }
  return out ?? value;
}

/** A matcher for user-configured extra field names (exact, case-insensitive). */
export function extraFieldMatcher(names: readonly string[]): RegExp | undefined {
  if (names.length === 0) return undefined;
  const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^(${escaped.join('|')})$`, 'i');
}
