import { acceptTraceId, newTraceId, traceIdFromTraceparent } from './trace-id.js';

describe('trace IDs', () => {
  it.each(['abc', 'a1-b2_c3.d4:e5', 'f'.repeat(64)])('accepts %s', (id) =>
    expect(acceptTraceId(id)).toBe(id),
  );
  it.each(['', 'a'.repeat(65), 'a\nb', 'a"b', 'a b', '-abc', 'é', "a'b", 'a\u0000b'])(
    'rejects %j',
    (id) => expect(acceptTraceId(id)).toBeUndefined(),
  );
  it('rejects repeated headers', () => expect(acceptTraceId(['a', 'b'])).toBeUndefined());
  it('reads W3C traceparent, refusing the all-zero trace', () => {
    expect(traceIdFromTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(
      traceIdFromTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'),
    ).toBeUndefined();
    expect(
      traceIdFromTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'),
    ).toBeUndefined();
  });
  it('generates unique 32-hex IDs', () => {
    const ids = new Set(Array.from({ length: 5000 }, newTraceId));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});
