import pino from 'pino';
import { Writable } from 'node:stream';
import type { AccessRecord } from './access-log.js';
import { AccessLog } from './access-log.js';

function capture(): { stream: Writable & { write(line: string): boolean }; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines };
}

const record = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  traceId: 'abc123',
  spanId: undefined,
  user: 'ada@example.com',
  organization: 'acme',
  fields: { cart: 3 },
  method: 'GET',
  path: '/orgs/1/items',
  endpoint: '/orgs/:orgId/items',
  status: 200,
  seconds: 0.0125,
  time: Date.now(),
  text: undefined,
  ...over,
});

describe('AccessLog', () => {
  it('writes one JSON line with the fields in order', () => {
    const { stream, lines } = capture();
    const log = new AccessLog(pino({ level: 'info' }, stream), stream, 'api', 'site.example', []);
    log.write('info', record());
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual([
      'level',
      'timestamp',
      'service',
      'site',
      'trace_id',
      'user',
      'organization',
      'cart',
      'method',
      'path',
      'endpoint',
      'status',
      'duration_ms',
      'message',
    ]);
    expect(line).toMatchObject({
      level: 'INFO',
      trace_id: 'abc123',
      status: 200,
      duration_ms: 12.5,
      message: 'GET /orgs/:orgId/items 200',
    });
  });

  it.each([
    ['a plain path', {}],
    ['a path that needs escaping', { path: '/a"b\\c\n\u0001 \ud800 é' }],
    ['every context field', { spanId: 'span1', fields: { doc: 'x"y' } }],
    ['no user nor organization', { user: undefined, organization: undefined }],
    ['a status past the table', { status: 999 }],
    ['an endpoint and method that need escaping', { method: 'GE"T', endpoint: '/q"' }],
  ])('writes valid JSON with the exact values for %s', (_name, over: Partial<AccessRecord>) => {
    const { stream, lines } = capture();
    const log = new AccessLog(pino({ level: 'info' }, stream), stream, 'api', 's"ite', []);
    const r = record(over);
    log.write('info', r);
    // once more with the route's text rendered ahead, as the HTTP layer does
    log.write('info', { ...r, text: log.routeText(r.method, r.endpoint) });
    for (const l of lines) {
      expect(l.endsWith('}\n')).toBe(true);
      const line = JSON.parse(l) as Record<string, unknown>;
      expect(line).toMatchObject({
        site: 's"ite',
        trace_id: r.traceId,
        method: r.method,
        path: r.path,
        endpoint: r.endpoint,
        status: r.status,
        message: `${r.method} ${r.endpoint} ${r.status}`,
      });
      expect(line.span_id).toBe(r.spanId);
      expect(line.user).toBe(r.user);
      expect(line.organization).toBe(r.organization);
      if (r.fields?.doc !== undefined) expect(line.doc).toBe(r.fields.doc);
    }
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      lines[1]!.replace(/"timestamp":"[^"]*"/, lines[0]!.match(/"timestamp":"[^"]*"/)![0]),
    );
  });

  it('writes every status of one route right, past the statuses it keeps', () => {
    const { stream, lines } = capture();
    const log = new AccessLog(pino({ level: 'info' }, stream), stream, 'api', 'site.example', []);
    const text = log.routeText('GET', '/orgs/:orgId/items');
    const statuses = [...Array.from({ length: 120 }, (_, i) => 100 + i * 4), 200, 999, 200];
    for (const status of statuses) log.write('info', record({ status, text }));
    const parsed = lines.map((l) => JSON.parse(l) as { status: number; message: string });
    expect(parsed.map((p) => p.status)).toEqual(statuses);
    expect(parsed.map((p) => p.message)).toEqual(
      statuses.map((s) => `GET /orgs/:orgId/items ${s}`),
    );
  });

  it('stamps each line with its time, exactly, across seconds and levels', () => {
    const { stream, lines } = capture();
    const log = new AccessLog(pino({ level: 'info' }, stream), stream, 'api', 'site.example', []);
    const t = Date.UTC(2026, 11, 31, 23, 59, 59, 998);
    const times = [t, t + 1, t + 2, t + 1003, t + 1003, t - 86_400_000];
    for (const [i, time] of times.entries()) {
      log.write(i % 2 === 0 ? 'info' : 'error', record({ status: i % 2 === 0 ? 200 : 500, time }));
    }
    const parsed = lines.map((l) => JSON.parse(l) as { timestamp: string; level: string });
    expect(parsed.map((p) => p.timestamp)).toEqual(times.map((n) => new Date(n).toISOString()));
    expect(parsed.map((p) => p.level)).toEqual(['INFO', 'ERROR', 'INFO', 'ERROR', 'INFO', 'ERROR']);
  });

  it("follows the logger's level, also when it changes at run time", () => {
    const { stream, lines } = capture();
    const logger = pino({ level: 'warn' }, stream);
    const log = new AccessLog(logger, stream, 'api', 'site.example', []);
    log.write('info', record());
    log.write('warn', record({ status: 499 }));
    logger.level = 'error';
    log.write('warn', record({ status: 499 }));
    log.write('error', record({ status: 500 }));
    logger.level = 'debug';
    log.write('info', record({ status: 201 }));
    const statuses = lines.map((l) => (JSON.parse(l) as { status: number }).status);
    expect(statuses).toEqual([499, 500, 201]);
  });
});
