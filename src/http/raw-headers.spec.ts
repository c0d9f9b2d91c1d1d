import { contentLength, declaredRequestBytes, rawHeader } from './raw-headers.js';

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

describe('declaredRequestBytes', () => {
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
