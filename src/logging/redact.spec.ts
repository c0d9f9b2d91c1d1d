import { errorFields } from './error-fields.js';
import { extraFieldMatcher, redact, scrubUrlCredentials } from './redact.js';

describe('redact', () => {
  it('redacts sensitive keys at any depth without mutating the input', () => {
    const input = {
      user: 'ada',
      password: 'p',
      db: { passwordHash: 'h', list: [{ accessToken: 't' }] },
      'set-cookie': ['a'],
    };
    const out = redact(input, undefined) as Record<string, unknown>;
    expect(out).toEqual({
      user: 'ada',
      password: '[REDACTED]',
      db: { passwordHash: '[REDACTED]', list: [{ accessToken: '[REDACTED]' }] },
      'set-cookie': '[REDACTED]',
    });
    expect(input.password).toBe('p');
  });
  it('returns the same object when there is nothing to redact', () => {
    const input = { a: 1, b: { c: 'x' } };
    expect(redact(input, undefined)).toBe(input);
  });
  it('honours extra field names', () => {
    expect(redact({ ssn: '1', other: 2 }, extraFieldMatcher(['ssn']))).toEqual({
      ssn: '[REDACTED]',
      other: 2,
    });
  });
  it('masks URL passwords', () => {
    expect(scrubUrlCredentials('amqp://guest:guest@h:5672 and redis://:pw@r')).toBe(
      'amqp://guest:***@h:5672 and redis://:***@r',
    );
    expect(scrubUrlCredentials('https://example.com/a@b')).toBe('https://example.com/a@b');
  });
  it('survives cycles', () => {
    const a: Record<string, unknown> = { token: 'x' };
    a.self = a;
    expect(() => redact(a, undefined)).not.toThrow();
  });
});

describe('errorFields', () => {
  it('gives the class and the stack, causes included, passwords masked', () => {
    class PaymentError extends Error {}
    const e = new PaymentError('declined', { cause: new Error('postgres://u:secret@db refused') });
    const f = errorFields(e);
    expect(f.error_type).toBe('PaymentError');
    expect(f.stack_trace).toContain('Caused by: Error: postgres://u:***@db refused');
  });
  it('recovers the type from a rebuilt error stack', () => {
    const e = new Error('x');
    e.stack = 'RangeError: x\n    at f (a.js:1:1)';
    expect(errorFields(e).error_type).toBe('RangeError');
  });
  it('handles things that are not errors', () => {
    expect(errorFields('oops')).toEqual({ error_type: 'string', stack_trace: 'oops' });
    expect(errorFields({ code: 1 }).error_type).toBe('Object');
  });
});
