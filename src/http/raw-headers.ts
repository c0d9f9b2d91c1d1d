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

/** What a request declares about its body's size. */
export interface DeclaredBody {
  /** The first Content-Length, as Node keeps it (repeats are dropped). */
  contentLength: string | undefined;
  /** Whether a Transfer-Encoding header came (a chunked upload). */
  chunked: boolean;
}

/** Content-Length and Transfer-Encoding in one pass. */
export function declaredBody(raw: readonly string[] | undefined): DeclaredBody {
  let contentLength: string | undefined;
  let chunked = false;
  if (raw === undefined) return { contentLength, chunked };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === 14) {
      if (contentLength === undefined && key.toLowerCase() === 'content-length') {
        contentLength = raw[i + 1];
      }
    } else if (key.length === 17 && key.toLowerCase() === 'transfer-encoding') {
      chunked = true;
    }
  }
  return { contentLength, chunked };
}
