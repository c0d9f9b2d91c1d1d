import { declaredBody, rawHeader } from './raw-headers.js';

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

describe('declaredBody', () => {
  it('reads Content-Length (the first one) and Transfer-Encoding in any case', () => {
    expect(declaredBody(['Content-Length', '12', 'content-length', '99'])).toEqual({
      contentLength: '12',
      chunked: false,
    });
    expect(declaredBody(['TRANSFER-ENCODING', 'chunked'])).toEqual({
      contentLength: undefined,
      chunked: true,
    });
  });

  it('declares nothing for a bodiless request or no list', () => {
    expect(declaredBody(['Host', 'x', 'Content-Type', 'text/plain'])).toEqual({
      contentLength: undefined,
      chunked: false,
    });
    expect(declaredBody(undefined)).toEqual({ contentLength: undefined, chunked: false });
  });
});
