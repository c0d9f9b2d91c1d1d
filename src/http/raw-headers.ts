/**
 * Request headers read from `req.rawHeaders` (name, value, name, value, …)
 * rather than `req.headers`.
 *
 * `req.headers` is a getter that builds an object on first use, and on
 * Express it meets the request under several hidden classes (Express 5
 * re-prototypes every request), so reading it early turns the getter's own
 * property loads megamorphic for every caller: some 3,500 instructions per
 * request on Node 24. The raw list is a plain array; most names are skipped
 * on their length alone.
 */

/**
 * The value of one request header, `name` in lower case. Repeats are joined
 * with ", " as `req.headers` joins them for the headers this module reads.
 */
export function rawHeader(raw: readonly string[] | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined;
  let value: string | undefined;
  const n = name.length;
  // `| 0x20` lower-cases an ASCII letter: a name that differs in length or
  // first letter is passed over without building its lower-case copy.
  const first = name.charCodeAt(0) | 0x20;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length !== n || (key.charCodeAt(0) | 0x20) !== first) continue;
    if (key !== name && key.toLowerCase() !== name) continue;
    value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

/** A Content-Length value as a number of bytes, or undefined when it is not one. */
export function contentLength(v: string | number | string[] | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The request body's size as its headers declare it: the first Content-Length
 * (as Node keeps it; repeats are dropped), 0 when there is no body, and
 * undefined for a chunked upload (Transfer-Encoding), whose size only the
 * socket can tell. Content-Length and Transfer-Encoding in one pass.
 */
export function declaredRequestBytes(raw: readonly string[] | undefined): number | undefined {
  let length: string | undefined;
  let chunked = false;
  if (raw === undefined) return 0;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === 14) {
      if (length === undefined && key.toLowerCase() === 'content-length') length = raw[i + 1];
    } else if (key.length === 17 && key.toLowerCase() === 'transfer-encoding') {
      chunked = true;
    }
  }
  return contentLength(length) ?? (chunked ? undefined : 0);
}
