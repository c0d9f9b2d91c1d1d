import { ObservabilityOptionsError } from '../options/schema.js';
import { resolveBullMqOptions } from './bullmq.options.js';

describe('BullMQ options', () => {
  it('defaults to the telemetry seam alone (no prototype patches)', () => {
    const o = resolveBullMqOptions();
    expect(o.fallbackPatches).toBe(false);
    expect(o.delegate).toBeUndefined();
  });

  it('rejects a delegate that is not a BullMQ Telemetry, saying what it must be', () => {
    expect(() => resolveBullMqOptions({ delegate: { tracer: {} } as never })).toThrow(
      ObservabilityOptionsError,
    );
    expect(() => resolveBullMqOptions({ delegate: {} as never })).toThrow(
      /bullmq\.delegate.*must be a BullMQ Telemetry/,
    );
  });

  it('accepts a tracer plus a context manager', () => {
    const delegate = {
      tracer: { startSpan: () => ({}) },
      contextManager: {
        with: (_c: unknown, fn: () => unknown) => fn(),
        active: () => ({}),
        getMetadata: () => '',
        fromMetadata: () => ({}),
      },
    };
    expect(resolveBullMqOptions({ delegate: delegate as never }).delegate).toBe(delegate);
  });
});
