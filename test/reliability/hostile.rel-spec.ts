import { connect } from 'node:net';
import { io as ioClient } from 'socket.io-client';
import { FULL } from '../support/demo-process.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { parseExposition, sumOf } from '../support/prom-text.js';
import { promtoolCheckMetrics } from '../support/promtool.js';
import { deletePrefix, requireRedis } from '../support/redis.js';
import { startBullApp } from '../support/bull-app.js';
import { report } from '../support/reliability-report.js';
import { startSocketIoApp } from '../support/socketio-app.js';
import { ADAPTERS, startTestApp, type TestApp } from '../support/test-app.js';

// Hostile values for every input the module reads: no crash, one event one
// line, label values inside the cap and the exposition format.

const LONG = 'a'.repeat(10_000);
const VALUES: string[] = [
  '',
  ' ',
  LONG,
  'x'.repeat(129),
  '\u0000',
  'a\u0001b\u007fc',
  'line\nbreak',
  'a\r\nX-Injected: 1',
  '\\n{"level":"CRITICAL","message":"forged"}',
  '"}{"level":"CRITICAL"',
  "it's",
  'back\\slash',
  'ü',
  '𝌆'.repeat(70), // surrogate pairs across the 128-character cap
  '\u2028\u2029',
  '\u202eevil',
  '\ud800',
  '__proto__',
  'constructor',
  'prototype',
  '__proto__[polluted]',
  'constructor.prototype.polluted',
  'hasOwnProperty',
  'toString',
  'a"b',
  'a}b{',
  '# HELP x y',
  '-1',
  'NaN',
  '1e309',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '%E2%80%A8',
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  '00-00000000000000000000000000000000-0000000000000000-01',
  'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
  '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '${jndi:ldap://x}',
];

/** Bytes safe to put raw into a header value or a request line (Node rejects the rest with 400). */
const headerSafe = (v: string) => Buffer.from(v, 'utf8').toString('latin1');

/** Percent-encodes every byte of `v`'s UTF-8 but the unreserved ones (lone surrogates included). */
const enc = (v: string) =>
  [...Buffer.from(v, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');

/** One request on its own connection, written byte for byte; resolves with the status (0: no response). */
function rawExchange(port: number, head: string, body = ''): Promise<number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => sock.destroy(), 5000);
    sock.on('data', (d) => (got += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      resolve(m ? Number(m[1]) : 0);
    });
    sock.end(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body, 'utf8')]));
  });
}

/** The requests of the corpus: each input the module reads, with each hostile value. */
function* hostileRequests(): Generator<{ head: string; body?: string }> {
  const req = (line: string, headers: string[] = [], body?: string) => ({
    head:
      `${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
      (body !== undefined
        ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
        : '') +
      headers.map((h) => `${h}\r\n`).join('') +
      '\r\n',
    body,
  });
  for (const v of VALUES) {
    const h = headerSafe(v);
    yield req('GET /orgs/acme/items HTTP/1.1', [`X-Trace-ID: ${h}`]);
    yield req('GET /orgs/acme/items HTTP/1.1', [`traceparent: ${h}`]);
    yield req('GET /orgs/acme/items HTTP/1.1', [`X-Organization: ${h}`]);
    yield req(`GET /orgs/acme/items?organization=${enc(v)} HTTP/1.1`);
    yield req(`GET /orgs/${enc(v)}/items HTTP/1.1`);
    yield req(`GET /${enc(v)} HTTP/1.1`);
    yield req(`GET /${headerSafe(v).replace(/[\s]/g, '')} HTTP/1.1`);
    yield req('PUT /orgs/acme/items HTTP/1.1', [], JSON.stringify({ organization: v, [v]: v }));
    yield req('POST /orgs/acme/items HTTP/1.1', [], JSON.stringify({ name: v, quantity: v }));
    yield req('GET /metrics HTTP/1.1', [`Accept: ${h}`]);
    yield req('GET /metrics HTTP/1.1', [`Accept-Encoding: ${h}`]);
    yield req(`${headerSafe(v).replace(/[\s]/g, '') || 'X'} /orgs/acme/items HTTP/1.1`);
  }
  for (const cl of ['-1', 'abc', '99999999999999999999', '1, 2', '0x10', ' 5', '10']) {
    yield {
      head: `POST /orgs/acme/items HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${cl}\r\n\r\n`,
      body: '{"a":1}',
    };
  }
  for (const m of ['get', 'PROPFIND', 'M'.repeat(2000), 'CONNECT', 'TRACE', 'OPTIONS', 'HEAD']) {
    yield req(`${m} /orgs/acme/items HTTP/1.1`);
  }
  yield {
    head: 'GET /orgs/acme/items HTTP/1.1\r\nHost: x\r\nX-Trace-ID: a\r\nX-Trace-ID: b\r\nConnection: close\r\n\r\n',
  };
  yield { head: '\u0000\u0001garbage\r\n\r\n' };
  yield { head: `GET /${'p/'.repeat(4000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` };
}

/** Every label value in the exposition is at most `max` characters. */
function longestLabel(text: string): number {
  let longest = 0;
  for (const s of parseExposition(text))
    for (const v of Object.values(s.labels)) longest = Math.max(longest, [...v].length);
  return longest;
}

const tried: Record<string, number> = {};

describe.each(ADAPTERS)('hostile HTTP input (%s)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());

  it('never crashes, logs one line per request, keeps labels in bounds and the exposition valid', async () => {
    const port = Number(new URL(t.url).port);
    const rounds = FULL ? 5 : 1;
    let sent = 0;
    const statuses = new Map<number, number>();
    const unanswered: string[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const { head, body } of hostileRequests()) {
        const status = await rawExchange(port, head, body);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 0) unanswered.push(head.split('\r\n')[0]!);
        sent++;
      }
    }
    tried[`http-${kind}`] = sent;
    // still serving
    expect((await rawRequest(`${t.url}/orgs/acme/items`)).status).toBe(200);
    // every request was answered with an HTTP status, but CONNECT: Node's
    // server drops it when the app has no 'connect' listener, before any hook
    expect(unanswered).toEqual(Array(rounds).fill('CONNECT /orgs/acme/items HTTP/1.1'));

    const text = (await rawRequest(`${t.url}/metrics`)).body;
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    expect(longestLabel(text)).toBeLessThanOrEqual(128);
    const s = parseExposition(text);
    // one access line per counted request, each one JSON object on one line
    const access = t.logs.lines.filter((l) => typeof l.endpoint === 'string');
    expect(access.length).toBe(sumOf(s, 'http_requests_total'));
    for (const raw of t.logs.raw) {
      expect(raw.includes('\n')).toBe(false);
      expect(typeof JSON.parse(raw)).toBe('object');
    }
    expect(t.logs.lines.some((l) => l.level === 'CRITICAL')).toBe(false);
    // nothing polluted
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // echoed trace IDs are safe header values of bounded length
    for (const v of VALUES) {
      const res = await rawRequest(`${t.url}/orgs/acme/items`, {
        // Node's client refuses control characters in a header value
        headers: {
          'x-trace-id':
            [...headerSafe(v)].filter((c) => c >= ' ' && c !== '\u007f').join('') || 'x',
        },
      });
      const echoed = String(res.headers['x-trace-id'] ?? '');
      expect(echoed.length).toBeLessThanOrEqual(128);
      expect(/^[\x21-\x7e]*$/.test(echoed)).toBe(true);
    }
  }, 120_000);
});

describe('hostile job names and organizations', () => {
  beforeAll(async () => requireRedis());

  it('counts every job under bounded labels; the exposition stays valid', async () => {
    const prefix = `fuzz-${process.pid}`;
    const app = await startBullApp({ prefix });
    try {
      for (const v of VALUES) {
        const res = await rawRequest(`${app.url}/enqueue`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: v, organization: v }),
        });
        expect(res.status).toBe(201);
      }
      tried.jobs = VALUES.length;
      let text = '';
      await eventually(async () => {
        text = (await rawRequest(`${app.url}/metrics`)).body;
        return sumOf(parseExposition(text), 'jobs_completed_total') === VALUES.length;
      }, 20_000).catch(() => undefined);
      const s = parseExposition(text);
      expect(sumOf(s, 'jobs_enqueued_total')).toBe(VALUES.length);
      expect(sumOf(s, 'jobs_completed_total')).toBe(VALUES.length);
      expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
      expect(longestLabel(text)).toBeLessThanOrEqual(128);
      for (const raw of app.logs.raw) expect(raw.includes('\n')).toBe(false);
    } finally {
      await app.close();
      await deletePrefix(prefix);
    }
  }, 60_000);
});

describe('hostile Socket.IO input', () => {
  beforeAll(async () => requireRedis());

  it('survives hostile event names and payloads; the exposition stays valid', async () => {
    const app = await startSocketIoApp({ redis: true, serverId: 'fuzz' });
    const client = ioClient(app.url, { transports: ['websocket'] });
    try {
      await new Promise<void>((r, j) => {
        client.once('connect', () => r());
        client.once('connect_error', j);
      });
      let sent = 0;
      for (const v of VALUES) {
        client.emit(v, v);
        client.emit('join', v);
        client.emit('join', { room: v, [v]: v });
        client.emit('notify', { room: v, event: v, text: v });
        client.emit('notify', v);
        sent += 5;
      }
      tried.socketio = sent;
      // the server is still there and answering
      const ack = await new Promise<boolean>((r) => {
        client.emit('join', 'after-fuzz');
        setTimeout(() => r(client.connected), 300);
      });
      expect(ack).toBe(true);
      const text = (await rawRequest(`${app.url}/metrics`)).body;
      expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
      expect(longestLabel(text)).toBeLessThanOrEqual(128);
      for (const raw of app.logs.raw) expect(raw.includes('\n')).toBe(false);
    } finally {
      client.close();
      await app.close();
    }
  }, 60_000);

  afterAll(() => {
    report('fuzz', { inputsTried: tried, values: VALUES.length });
  });
});
