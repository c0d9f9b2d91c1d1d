import { contentLength, rawHeader, RequestHeaders } from './raw-headers.js';

/** The declared body size as a request's start reads it. */
const declaredRequestBytes = (raw: string[] | undefined) =>
  new RequestHeaders('').read(raw).declaredBytes;

describe('rawHeader', () => {
  const raw = ['Host', 'a', 'X-Trace-ID', 'abc', 'Traceparent', 'tp', 'x-trace-idx', 'no'];

  it('finds a header whatever case it arrived in', () => {
    expect(rawHeader(raw, 'x-trace-id')).toBe('abc');
    expect(rawHeader(raw, 'traceparent')).toBe('tp');
  });

  it('is undefined for an absent header, a name that only shares a prefix, or no list', () => {
    expect(rawHeader(raw, 'x-request-id')).toBeUndefined();
    expect(rawHeader(['X-Trace-IDs', 'v'], 'x-trace-id')).toBeUndefined();
    expect(rawHeader(undefined, 'x-trace-id')).toBeUndefined();
  });

  it('finds names that start with a character other than a letter', () => {
    expect(rawHeader(['_Odd', '1', '1st', '2'], '_odd')).toBe('1');
    expect(rawHeader(['_Odd', '1', '1st', '2'], '1st')).toBe('2');
  });

  it('joins repeats with ", " as req.headers does', () => {
    expect(rawHeader(['x-trace-id', 'a', 'X-TRACE-ID', 'b'], 'x-trace-id')).toBe('a, b');
  });

  it('ignores a dangling name without a value', () => {
    expect(rawHeader(['x-trace-id'], 'x-trace-id')).toBeUndefined();
  });
});

describe('RequestHeaders: the declared body size', () => {
  it('reads the first Content-Length, in any case', () => {
    expect(declaredRequestBytes(['Content-Length', '12', 'content-length', '99'])).toBe(12);
    expect(declaredRequestBytes(['CONTENT-LENGTH', '0', 'Host', 'x'])).toBe(0);
  });

  it('leaves a chunked upload to be counted (undefined), in any case', () => {
    expect(declaredRequestBytes(['TRANSFER-ENCODING', 'chunked'])).toBeUndefined();
    expect(declaredRequestBytes(['Host', 'x', 'transfer-encoding', 'chunked'])).toBeUndefined();
  });

  it('declares 0 for a bodiless request or no list', () => {
    expect(declaredRequestBytes(['Host', 'x', 'Content-Type', 'text/plain'])).toBe(0);
    expect(declaredRequestBytes(undefined)).toBe(0);
  });

  it('ignores a Content-Length that is not a byte count', () => {
    expect(declaredRequestBytes(['Content-Length', 'x1'])).toBe(0);
    expect(
      declaredRequestBytes(['Content-Length', '-1', 'Transfer-Encoding', 'chunked']),
    ).toBeUndefined();
  });
});

describe('contentLength', () => {
  it('takes numbers and numeric strings, nothing else', () => {
    expect(contentLength(5)).toBe(5);
    expect(contentLength('42')).toBe(42);
    expect(contentLength('4x')).toBeUndefined();
    expect(contentLength('-3')).toBeUndefined();
    expect(contentLength(['1'])).toBeUndefined();
    expect(contentLength(undefined)).toBeUndefined();
  });
});

describe('RequestHeaders', () => {
  const scan = (raw: string[], trace = 'x-trace-id') => {
    const { trace: t, traceparent, declaredBytes } = new RequestHeaders(trace).read(raw);
    return { trace: t, traceparent, declaredBytes };
  };

  it('finds the trace header, traceparent and the declared size in one pass', () => {
    expect(
      scan([
        'Host',
        'x',
        'X-Trace-ID',
        'a',
        'TraceParent',
        'p',
        'Content-Length',
        '12',
        'x-trace-id',
        'b',
        'content-length',
        '99',
        'Connection',
        'keep-alive',
      ]),
    ).toEqual({ trace: 'a, b', traceparent: 'p', declaredBytes: 12 });
  });

  it('says undefined for a chunked upload, 0 for none, and resets what an earlier scan found', () => {
    const out = new RequestHeaders('x-trace-id');
    out.read(['X-Trace-ID', 'a', 'Transfer-Encoding', 'chunked']);
    expect([out.trace, out.traceparent, out.declaredBytes]).toEqual(['a', undefined, undefined]);
    out.read(['Host', 'x']);
    expect([out.trace, out.traceparent, out.declaredBytes]).toEqual([undefined, undefined, 0]);
    expect(scan([], 'x-trace-id')).toEqual({
      trace: undefined,
      traceparent: undefined,
      declaredBytes: 0,
    });
  });

  it('tells a trace header named like another header apart from it', () => {
    // same lengths as content-length, traceparent and transfer-encoding
    expect(scan(['Content-Length', '3', 'X-Trace-Ident1', 't'], 'x-trace-ident1')).toEqual({
      trace: 't',
      traceparent: undefined,
      declaredBytes: 3,
    });
    expect(scan(['traceparent', 'p', 'Transfer-Encoding', 'chunked'], 'tracepar3nt')).toEqual({
      trace: undefined,
      traceparent: 'p',
      declaredBytes: undefined,
    });
    // '' reads no trace header at all
    expect(scan(['X-Trace-ID', 'a'], '')).toEqual({
      trace: undefined,
      traceparent: undefined,
      declaredBytes: 0,
    });
  });
});
