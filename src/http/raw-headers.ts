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
 * The request headers the instrumentation reads as a request starts, found
 * in one pass over the raw list. One instance serves every request: `read`
 * fills it and the caller takes the values at once.
 */
export class RequestHeaders {
  /** The trace header's value (repeats joined with ", "). */
  trace: string | undefined = undefined;
  /** W3C `traceparent` (repeats joined with ", "). */
  traceparent: string | undefined = undefined;
  /**
   * The body's size as declared: the first Content-Length (as Node keeps it;
   * repeats are dropped), 0 when there is no body, undefined for a chunked
   * upload (Transfer-Encoding), whose size only the socket can tell.
   */
  declaredBytes: number | undefined = 0;
  /** The trace header's first letter, lower-cased (`| 0x20`); -1 when none is read. */
  private readonly first: number;

  /** `traceName` in lower case; '' when trace IDs are not read. */
  constructor(private readonly traceName: string) {
    this.first = traceName === '' ? -1 : traceName.charCodeAt(0) | 0x20;
  }

  read(raw: readonly string[] | undefined): this {
    let trace: string | undefined;
    let parent: string | undefined;
    let length: string | undefined;
    let chunked = false;
    const name = this.traceName;
    const n = name.length;
    const first = this.first;
    if (raw !== undefined) {
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const key = raw[i]!;
        const k = key.length;
        // A name that differs in length or first letter is passed over
        // without building its lower-case copy.
        const c = key.charCodeAt(0) | 0x20;
        if (k === n && c === first && (key === name || key.toLowerCase() === name)) {
          trace = trace === undefined ? raw[i + 1]! : `${trace}, ${raw[i + 1]!}`;
        } else if (c === 0x74 /* t */) {
          if (k === 11 && (key === 'traceparent' || key.toLowerCase() === 'traceparent')) {
            parent = parent === undefined ? raw[i + 1]! : `${parent}, ${raw[i + 1]!}`;
          } else if (k === 17 && key.toLowerCase() === 'transfer-encoding') {
            chunked = true;
          }
        } else if (c === 0x63 /* c */ && k === 14 && length === undefined) {
          if (key.toLowerCase() === 'content-length') length = raw[i + 1];
        }
      }
    }
    this.trace = trace;
    this.traceparent = parent;
    this.declaredBytes = contentLength(length) ?? (chunked ? undefined : 0);
    return this;
  }
}
