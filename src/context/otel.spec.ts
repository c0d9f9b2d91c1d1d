import { activeOtelSpan } from './otel.js';

const API = Symbol.for('opentelemetry.js.api.1');
const SPAN = Symbol.for('OpenTelemetry Context Key SPAN');
const g = globalThis as Record<symbol, unknown>;

function withActive(spanContext: unknown): void {
  g[API] = {
    context: {
      active: () => ({
        getValue: (k: symbol) => (k === SPAN ? { spanContext: () => spanContext } : undefined),
      }),
    },
  };
}

describe('activeOtelSpan', () => {
  afterEach(() => delete g[API]);

  it('is undefined without OpenTelemetry', () => {
    expect(activeOtelSpan()).toBeUndefined();
  });

  it("reads the active span's IDs from the API's global", () => {
    withActive({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
    expect(activeOtelSpan()).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
  });

  it.each([
    ['the invalid (all-zero) trace', { traceId: '0'.repeat(32), spanId: '00f067aa0ba902b7' }],
    ['a malformed trace ID', { traceId: 'x"\n', spanId: '00f067aa0ba902b7' }],
    ['a malformed span ID', { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'zz' }],
    ['no span', undefined],
  ])('ignores %s', (_what, sc) => {
    withActive(sc);
    expect(activeOtelSpan()).toBeUndefined();
  });

  it('treats a global that throws as absent', () => {
    g[API] = {
      context: {
        active: () => {
          throw new Error('broken');
        },
      },
    };
    expect(activeOtelSpan()).toBeUndefined();
  });
});
