// Strings that can go into JSON between quotes as they are: no quote,
// backslash, control character or lone surrogate.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * A JSON string literal, skipping JSON.stringify for the common plain case
 * (JSON.stringify escapes lone surrogates, so the result is always valid).
 */
export function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}
