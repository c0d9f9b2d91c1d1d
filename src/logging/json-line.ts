/**
 * Whether a string can go between JSON quotes as it is: no quote, backslash,
 * control character or surrogate. A loop over the char codes, not a regular
 * expression: about a third of the instructions on a path.
 */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/**
 * A JSON string literal, skipping JSON.stringify for the common plain case
 * (JSON.stringify escapes lone surrogates, so the result is always valid).
 */
export function jsonString(s: string): string {
  return plain(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * The same text, stored flat. A string built with `+` or a template literal
 * is a rope of its pieces (V8 ConsString), and writing a line walks every
 * piece of every rope in it; a piece reused on every line is flattened once
 * here instead. (`[s].join('')` would return `s` itself, still a rope.)
 */
export function flat(s: string): string {
  return s.split('').join('');
}

/** What goes between the quotes of a JSON string literal of `s`. */
export function jsonText(s: string): string {
  return plain(s) ? s : JSON.stringify(s).slice(1, -1);
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
