import { CATALOG, MetricsService } from '../src/index.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { rawRequest } from './support/http-client.js';
import type { TestApp } from './support/test-app.js';
import { ADAPTERS, startTestApp } from './support/test-app.js';

const HEX32 = /^[0-9a-f]{32}$/;
const SPEC_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);

describe.each(ADAPTERS)('trace context and JSON logs on %s', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(adapter);
  });
  afterAll(() => t.close());
  beforeEach(() => t.logs.clear());

  it('uses a valid incoming X-Trace-ID, echoes it, and puts it on every log line of the request', async () => {
    const id = 'req-2026.11:abc_DEF-9';
    const res = await rawRequest(`${t.url}/trace`, { headers: { 'x-trace-id': id } });
    expect(res.headers['x-trace-id']).toBe(id);
    expect(JSON.parse(res.body)).toEqual({ traceId: id });
    const lines = t.logs.where({ trace_id: id });
    // before await, after await, and the access line
    expect(lines.map((l) => l.message)).toEqual(['before await', 'after await', 'GET /trace 200']);
    expect(t.logs.lines.filter((l) => l.trace_id !== id && l.path === '/trace')).toEqual([]);
  });

  it('keeps the trace through body parsing', async () => {
    const id = 'body-trace-1';
    const res = await rawRequest(`${t.url}/orgs/9/items`, {
      method: 'POST',
      headers: { 'x-trace-id': id, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'widget', quantity: 3 }),
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body).trace).toBe(id);
    const created = t.logs.where({ message: 'item created' });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ trace_id: id, doctype: 'Item', docname: 'widget' });
  });

  it.each([
    ['too long', 'a'.repeat(65)],
    ['quotes', '"abc"'],
    ['spaces', 'abc def'],
    ['markup', '<script>'],
    ['shell', 'abc;rm -rf'],
    ['empty', ''],
  ])('replaces an invalid trace ID (%s) with a new one', async (_what, bad) => {
    const res = await rawRequest(`${t.url}/trace`, { headers: { 'x-trace-id': bad } });
    const id = res.headers['x-trace-id'] as string;
    expect(id).toMatch(HEX32);
    expect(JSON.parse(res.body).traceId).toBe(id);
    expect(t.logs.where({ trace_id: id })).toHaveLength(3);
    expect(t.logs.raw.join('\n')).not.toContain(bad || '\u0000');
  });

  it('takes the trace ID from a W3C traceparent header', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await rawRequest(`${t.url}/trace`, {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.headers['x-trace-id']).toBe(traceId);
  });

  it('generates distinct trace IDs for requests without one', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add((await rawRequest(`${t.url}/trace`)).headers['x-trace-id'] as string);
    expect(ids.size).toBe(20);
  });

  it('writes a thrown error as one JSON line with error_type and stack_trace', async () => {
    const res = await rawRequest(`${t.url}/boom`);
    expect(res.status).toBe(500);
    const id = res.headers['x-trace-id'];
    const withStack = t.logs.lines.filter((l) => l.stack_trace !== undefined);
    expect(withStack).toHaveLength(1);
    expect(withStack[0]).toMatchObject({
      level: 'ERROR',
      error_type: 'TypeError',
      trace_id: id,
      message: 'kaboom',
    });
    expect(withStack[0]!.stack_trace).toMatch(/^TypeError: kaboom\n\s+at /);
    // plus exactly one access line for the request
    expect(t.logs.where({ trace_id: id, status: 500 })).toHaveLength(1);
    // and the ERROR line is counted by its error_type (the Overview's "Top errors")
    const samples = parseExposition(await t.app.get(MetricsService).scrape());
    expect(sumOf(samples, CATALOG.loggedErrorsTotal.name, { error_type: 'TypeError' })).toBe(1);
  });

  it('emits the standard fields on every line', async () => {
    await rawRequest(`${t.url}/trace`, { headers: { 'x-organization': 'acme' } });
    expect(t.logs.lines.length).toBeGreaterThan(0);
    for (const line of t.logs.lines) {
      expect(typeof line.timestamp).toBe('string');
      expect(new Date(line.timestamp as string).toISOString()).toBe(line.timestamp);
      expect(SPEC_LEVELS.has(line.level as string)).toBe(true);
      expect(typeof line.message).toBe('string');
      expect(line.trace_id).toMatch(HEX32);
      expect(line.site).toBe('test.example');
      expect(line.organization).toBe('acme');
    }
  });

  it('adds the authenticated user once authentication has run', async () => {
    const res = await rawRequest(`${t.url}/me`, { headers: { authorization: 'Bearer good' } });
    expect(JSON.parse(res.body)).toEqual({ user: 'ada@example.com' });
    const lines = t.logs.where({ trace_id: res.headers['x-trace-id'] });
    expect(lines.map((l) => l.user)).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('redacts secrets and connection-string passwords', async () => {
    await rawRequest(`${t.url}/secrets`, {
      headers: { cookie: 'session=abc', authorization: 'Bearer zzz' },
    });
    const all = t.logs.raw.join('\n');
    for (const secret of [
      'hunter2',
      'tok-123',
      'key-456',
      'Bearer abc',
      'sid=xyz',
      'pg-pass-789',
      's3cr3t-pw',
      'zzz',
    ]) {
      expect(all).not.toContain(secret);
    }
    const line = t.logs.where({ level: 'WARNING' })[0]!;
    expect(line).toMatchObject({
      password: '[REDACTED]',
      token: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', authorization: '[REDACTED]', cookie: '[REDACTED]' },
      dsn: 'postgres://app:***@db.internal/app',
      keep: 'visible',
      message: 'connecting to redis://:***@cache.internal:6379 failed',
    });
  });
});
