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

/** `''`, `.001` … `.999` with trailing zeros cut (`.5`, `.05`): a millisecond's fraction as JavaScript prints it. */
const FRACTION = Array.from({ length: 1000 }, (_, i) =>
  i === 0 ? '' : `.${String(i).padStart(3, '0')}`.replace(/0+$/, ''),
);

/**
 * A duration in milliseconds, rounded to the microsecond, as JavaScript
 * prints `Math.round(seconds * 1e6) / 1e3`, without the general
 * double-to-string conversion: integer milliseconds (a small integer, whose
 * text V8 caches) and the fraction from a table.
 */
export function millisecondsText(seconds: number): string {
  const us = Math.round(seconds * 1e6);
  if (!(us >= 0 && us < 1e15)) return String(us / 1e3);
  const frac = us % 1000;
  return `${(us - frac) / 1000}${FRACTION[frac]!}`;
}
