import type { MessageEvent } from '@nestjs/common';
import { Controller, Get, Res, Sse, StreamableFile } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Agent, request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { of } from 'rxjs';
import { CATALOG, TraceContext } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import {
  abortedRequest,
  eventually,
  pipelinedRequests,
  rawRequest,
} from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import type { AdapterKind, TestApp } from './support/test-app.js';
import { ADAPTERS, startTestApp } from './support/test-app.js';

const N = 5;
const REQ = CATALOG.httpRequestsTotal.name;
const DUR = CATALOG.httpRequestDurationSeconds.name;

interface Kind {
  name: string;
  send: (url: string, i: number) => Promise<unknown>;
  method: string;
  endpoint: (adapter: AdapterKind) => string;
  status: string;
}

const json = { 'content-type': 'application/json' };

const KINDS: Kind[] = [
  {
    name: 'matched route',
    send: (u, i) => rawRequest(`${u}/api/orgs/${i}/items`),
    method: 'GET',
    endpoint: () => '/api/orgs/:orgId/items',
    status: '200',
  },
  {
    name: 'created',
    send: (u, i) =>
      rawRequest(`${u}/api/orgs/${i}/items`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: `n${i}`, quantity: 1 }),
      }),
    method: 'POST',
    endpoint: () => '/api/orgs/:orgId/items',
    status: '201',
  },
  {
    name: 'validation error',
    send: (u, i) =>
      rawRequest(`${u}/api/orgs/${i}/items`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 1, quantity: -1 }),
      }),
    method: 'POST',
    endpoint: () => '/api/orgs/:orgId/items',
    status: '400',
  },
  {
    name: 'malformed JSON body',
    send: (u, i) =>
      rawRequest(`${u}/api/orgs/${i}/items`, { method: 'PUT', headers: json, body: '{"a":' }),
    method: 'PUT',
    endpoint: () => '/api/orgs/:orgId/items',
    status: '400',
  },
  {
    name: 'unmatched path under the prefix',
    send: (u, i) => rawRequest(`${u}/api/nope/${i}`),
    method: 'GET',
    endpoint: () => 'unmatched',
    status: '404',
  },
  {
    name: 'unmatched path outside the prefix',
    send: (u, i) => rawRequest(`${u}/random-${i}`, { method: 'DELETE' }),
    method: 'DELETE',
    endpoint: () => 'unmatched',
    status: '404',
  },
  {
    name: 'guard rejection (403)',
    send: (u) => rawRequest(`${u}/api/denied`),
    method: 'GET',
    endpoint: () => '/api/denied',
    status: '403',
  },
  {
    name: 'authentication failure (401)',
    send: (u) => rawRequest(`${u}/api/me`),
    method: 'GET',
    endpoint: () => '/api/me',
    status: '401',
  },
  {
    name: 'thrown error (500)',
    send: (u) => rawRequest(`${u}/api/boom`),
    method: 'GET',
    endpoint: () => '/api/boom',
    status: '500',
  },
  {
    name: 'HttpException (status from the exception)',
    send: (u) => rawRequest(`${u}/api/bad`),
    method: 'GET',
    endpoint: () => '/api/bad',
    status: '400',
  },
  {
    name: 'client abort (499)',
    send: (u) => abortedRequest(`${u}/api/slow`, 60),
    method: 'GET',
    endpoint: () => '/api/slow',
    status: '499',
  },
];

describe.each(ADAPTERS)('HTTP metrics on %s', (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(adapter, { setup: (app) => void app.setGlobalPrefix('api') });
    for (const kind of KINDS) {
      for (let i = 0; i < N; i++) await kind.send(t.url, i);
    }
    // Aborted handlers finish later; let them, so nothing is recorded after we look.
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(() => t.close());

  async function scrape() {
    const res = await rawRequest(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    return parseExposition(res.body);
  }

  it.each(KINDS.map((k) => [k.name, k] as const))(
    'counts each %s exactly once',
    async (_n, kind) => {
      const samples = await scrape();
      expect(
        sumOf(samples, REQ, {
          method: kind.method,
          endpoint: kind.endpoint(adapter),
          status: kind.status,
        }),
      ).toBe(N);
    },
  );

  it('counts every request once in every HTTP family', async () => {
    const samples = await scrape();
    const total = KINDS.length * N;
    expect(sumOf(samples, REQ)).toBe(total);
    expect(sumOf(samples, `${DUR}_count`)).toBe(total);
    expect(sumOf(samples, `${CATALOG.httpRequestSizeBytes.name}_count`)).toBe(total);
    expect(sumOf(samples, `${CATALOG.httpResponseSizeBytes.name}_count`)).toBe(total);
    // The +Inf bucket of each duration series equals its count.
    expect(sumOf(samples, `${DUR}_bucket`, { le: '+Inf' })).toBe(total);
  });

  it('returns http_active_requests to 0, aborted requests included', async () => {
    await eventually(async () => sumOf(await scrape(), CATALOG.httpActiveRequests.name) === 0);
    const registry = t.app.get(MetricsRegistry);
    for (const s of registry.gauge(CATALOG.httpActiveRequests).series.values())
      expect(s.value).toBe(0);
  });

  it('uses the route template with the global prefix, never the raw path', async () => {
    const samples = await scrape();
    const endpoints = new Set(samples.filter((s) => s.name === REQ).map((s) => s.labels.endpoint));
    for (const e of endpoints) expect(e === 'unmatched' || e!.startsWith('/api/')).toBe(true);
    expect([...endpoints].some((e) => /\/\d/.test(e!))).toBe(false);
  });

  it('records request and response sizes from the payloads', async () => {
    const samples = await scrape();
    const body = JSON.stringify({ name: 'n0', quantity: 1 }).length;
    // N created, N invalid and N malformed bodies of known sizes went to this endpoint.
    const sizeSum = sumOf(samples, `${CATALOG.httpRequestSizeBytes.name}_sum`, {
      endpoint: '/api/orgs/:orgId/items',
    });
    expect(sizeSum).toBe(
      N * body + N * JSON.stringify({ name: 1, quantity: -1 }).length + N * '{"a":'.length,
    );
    expect(
      sumOf(samples, `${CATALOG.httpResponseSizeBytes.name}_sum`, { endpoint: '/api/bad' }),
    ).toBeGreaterThan(0);
  });

  it('labels requests with the organization, "system" when none is given', async () => {
    await rawRequest(`${t.url}/api/orgs/1/items`, { headers: { 'x-organization': 'acme' } });
    await rawRequest(`${t.url}/api/orgs/1/items?organization=globex`);
    const samples = await scrape();
    expect(sumOf(samples, REQ, { endpoint: '/api/orgs/:orgId/items', org: 'acme' })).toBe(1);
    expect(sumOf(samples, REQ, { endpoint: '/api/orgs/:orgId/items', org: 'globex' })).toBe(1);
    expect(
      sumOf(samples, REQ, { endpoint: '/api/orgs/:orgId/items', org: 'system', status: '200' }),
    ).toBe(N);
  });
});

describe.each(ADAPTERS)('organization cap on %s', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(adapter, { options: { labels: { maxValues: 3 } } });
  });
  afterAll(() => t.close());

  it('collapses organizations past the cap into one overflow value and counts the overflow', async () => {
    for (let i = 0; i < 8; i++) {
      await rawRequest(`${t.url}/orgs/1/items`, { headers: { 'x-organization': `org-${i}` } });
    }
    const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
    const orgs = samples.filter((s) => s.name === REQ).map((s) => s.labels.org);
    expect(new Set(orgs)).toEqual(new Set(['org-0', 'org-1', 'org-2', '__overflow__']));
    expect(sumOf(samples, REQ, { org: '__overflow__' })).toBe(5);
    expect(sumOf(samples, REQ)).toBe(8);
    expect(sumOf(samples, CATALOG.labelOverflowTotal.name, { metric: REQ, label: 'org' })).toBe(5);
  });
});

describe.each(ADAPTERS)('requests sharing a connection on %s', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(adapter);
  });
  afterAll(() => t.close());

  async function samples() {
    return parseExposition((await rawRequest(`${t.url}/metrics`)).body);
  }

  it('counts requests pipelined on one connection once each, those cut off when it closes as 499', async () => {
    // The first is answered; /slow takes 400 ms, so the connection closes
    // while one handler runs and another's response waits queued behind it.
    await pipelinedRequests(t.url, ['/orgs/1/items', '/slow', '/slow'], 150);
    await eventually(async () => sumOf(await samples(), REQ, { endpoint: '/slow' }) === 2);
    // The handlers finish after the connection went: nothing more is recorded.
    await new Promise((r) => setTimeout(r, 500));
    const s = await samples();
    expect(sumOf(s, REQ, { endpoint: '/orgs/:orgId/items', status: '200' })).toBe(1);
    expect(sumOf(s, REQ, { endpoint: '/slow', status: '499' })).toBe(2);
    expect(sumOf(s, REQ)).toBe(3);
    expect(sumOf(s, CATALOG.httpActiveRequests.name)).toBe(0);
  });

  it('counts requests that reuse a keep-alive connection once each', async () => {
    const before = sumOf(await samples(), REQ, { endpoint: '/orgs/:orgId/items' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) =>
          httpRequest(`${t.url}/orgs/${i}/items`, { agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
            .on('error', reject)
            .end(),
        );
      }
    } finally {
      agent.destroy();
    }
    await eventually(
      async () =>
        sumOf(await samples(), REQ, { endpoint: '/orgs/:orgId/items', status: '200' }) ===
        before + 5,
    );
    expect(sumOf(await samples(), CATALOG.httpActiveRequests.name)).toBe(0);
  });
});

describe.each(ADAPTERS)("the adapter's request hook on %s", (adapter) => {
  let t: TestApp;
  const seen: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(adapter, {
      setup: (app) => {
        // The app's own hook, set before the module installs its own (at init).
        const trace = app.get(TraceContext);
        (app.getHttpAdapter() as unknown as AbstractHttpAdapter).setOnRequestHook(
          (req: unknown, res: unknown, done: () => void) => {
            const raw = (adapter === 'express' ? res : (res as { raw: unknown }).raw) as {
              setHeader(n: string, v: string): void;
            };
            raw.setHeader('x-app-hook', 'ran');
            seen.push(trace.traceId);
            const url = adapter === 'express' ? (req as { url: string }).url : '';
            if (url.startsWith('/reject'))
              return void (done as (e: Error) => void)(new Error('no'));
            // On Fastify a hook may complete by its promise instead of done().
            if (adapter === 'fastify') return Promise.resolve();
            done();
          },
        );
      },
    });
  });

  afterAll(() => t.close());

  it('keeps a hook the app set, running it after the instrumentation', async () => {
    const res = await rawRequest(`${t.url}/trace`, { headers: { 'x-trace-id': 'chain-test-1' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-app-hook']).toBe('ran');
    // The app's hook ran inside the request's trace context: ours ran first.
    expect(seen).toContain('chain-test-1');
    const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
    expect(sumOf(samples, REQ, { endpoint: '/trace', status: '200' })).toBe(1);
  });

  it('answers /metrics before the app hook and counts what the app hook rejects', async () => {
    const before = seen.length;
    const scrape = await rawRequest(`${t.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers['x-app-hook']).toBeUndefined();
    expect(seen.length).toBe(before);
    if (adapter === 'express') {
      expect((await rawRequest(`${t.url}/reject`)).status).toBe(500);
      const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
      expect(sumOf(samples, REQ, { endpoint: 'unmatched', status: '500' })).toBe(1);
    }
  });
});

/** Responses written every way an app can write one, for the trace header echo. */
@Controller('echo')
class EchoController {
  @Get('json')
  json() {
    return { ok: true };
  }

  @Get('stream')
  stream() {
    return new StreamableFile(Readable.from([Buffer.from('a'), Buffer.from('b')]));
  }

  /** The app sets the header itself (Express response and Fastify reply both have header()). */
  @Get('own')
  own(@Res({ passthrough: true }) res: { header(name: string, value: string): unknown }) {
    res.header('x-trace-id', 'set-by-the-app');
    return 'own';
  }

  @Sse('events')
  events() {
    return of<MessageEvent>({ data: 'one' });
  }
}

/** A headers object an app reuses for every raw response: it must not be changed. */
const SHARED_HEADERS: OutgoingHttpHeaders = Object.freeze({ 'content-type': 'text/plain' });

describe.each(ADAPTERS)('the trace header echo on %s', (adapter) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(adapter, {
      controllers: [EchoController],
      // Middleware that answers on the raw response: the reply's headers
      // (Fastify) are never sent then.
      setup: (app) =>
        void app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
          if (req.url?.startsWith('/raw-answer')) {
            res.statusCode = 204;
            res.end();
          } else if (req.url?.startsWith('/raw-head-shared')) {
            res.writeHead(200, SHARED_HEADERS).end('shared');
          } else if (req.url?.startsWith('/raw-head-own')) {
            // Mixed case, as a raw writer may spell it: still one header, the app's.
            res.writeHead(200, { 'X-Trace-ID': 'raw-by-the-app' }).end('own');
          } else if (req.url?.startsWith('/raw-head-array')) {
            res.writeHead(200, ['Content-Type', 'text/plain']).end('array');
          } else next();
        }),
    });
  });

  afterAll(() => t.close());

  it.each([
    ['/raw-answer', 204],
    ['/no-such-route', 404],
    ['/echo/json', 200],
    ['/echo/stream', 200],
    ['/echo/events', 200],
    ['/raw-head-shared', 200],
    ['/raw-head-array', 200],
  ])('is on the response to %s, once', async (path, status) => {
    const id = `echo${path.replace(/[^a-z]/g, '-')}`;
    const res = await rawRequest(`${t.url}${path}`, { headers: { 'x-trace-id': id } });
    expect(res.status).toBe(status);
    // Node's client joins a repeated header with ", ": toBe catches a second one.
    expect(res.headers['x-trace-id']).toBe(id);
  });

  it('leaves a headers object the app passes to writeHead as it was', async () => {
    const a = await rawRequest(`${t.url}/raw-head-shared`, { headers: { 'x-trace-id': 'first' } });
    const b = await rawRequest(`${t.url}/raw-head-shared`, { headers: { 'x-trace-id': 'second' } });
    expect([a.headers['x-trace-id'], b.headers['x-trace-id']]).toEqual(['first', 'second']);
    expect(SHARED_HEADERS).toEqual({ 'content-type': 'text/plain' });
  });

  it.each([
    ['/echo/own', 'set-by-the-app'],
    ['/raw-head-own', 'raw-by-the-app'],
  ])('gives way to the header the app set on %s', async (path, value) => {
    const res = await rawRequest(`${t.url}${path}`, { headers: { 'x-trace-id': 'incoming' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-trace-id']).toBe(value);
  });
});

@Controller('sized')
class SizedController {
  /** Answered by the framework: Fastify declares the length on its reply. */
  @Get()
  sized() {
    return 'seven!!';
  }
}

// With the trace header echoed, Node's response holds a header before the
// framework writes its own, and Node merges Fastify's reply headers into it;
// without, Fastify hands them to Node in one writeHead and the reply is read.
describe.each(
  ADAPTERS.flatMap((adapter) => [
    [adapter, 'echoed'],
    [adapter, 'not echoed'],
  ]),
)('response sizes on %s, trace header %s', (adapter, echo) => {
  let t: TestApp;
  const SIZE = `${CATALOG.httpResponseSizeBytes.name}_sum`;

  beforeAll(async () => {
    t = await startTestApp(adapter as AdapterKind, {
      options: { trace: { responseHeader: echo === 'echoed' } },
      controllers: [SizedController],
      setup: (app) =>
        void app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
          if (req.url === '/chunked-text') {
            res.setHeader('x-note', 'a header block of some length');
            res.write('x'.repeat(1000));
            res.end();
          } else if (req.url === '/chunked-buffer') {
            // A tick apart: Node 24 sends buffers written in one tick as one chunk.
            res.write(Buffer.alloc(300, 1));
            setImmediate(() => res.end(Buffer.alloc(20, 2)));
          } else if (req.url === '/declared') {
            res.setHeader('content-length', '5');
            res.end('12345');
          } else next();
        }),
    });
  });

  afterAll(() => t.close());

  it.each([
    // chunk framing included: "3e8\r\n" + body + "\r\n", then "0\r\n\r\n"
    ['/chunked-text', 'x'.repeat(1000), 5 + 1000 + 2 + 5],
    // "12c\r\n" + 300 + "\r\n", "14\r\n" + 20 + "\r\n", "0\r\n\r\n"
    ['/chunked-buffer', null, 5 + 300 + 2 + 4 + 20 + 2 + 5],
    ['/declared', '12345', 5],
    ['/sized', 'seven!!', 7],
  ])(
    'counts the body bytes written for %s, without its header block',
    async (path, body, bytes) => {
      const before = sumOf(parseExposition((await rawRequest(`${t.url}/metrics`)).body), SIZE);
      const res = await rawRequest(`${t.url}${path}`);
      expect(res.status).toBe(200);
      if (body !== null) expect(res.body).toBe(body);
      expect(res.headers['x-trace-id'] !== undefined).toBe(echo === 'echoed');
      // recorded when the response closes, just after the client has it
      let added = 0;
      await eventually(async () => {
        const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
        added = sumOf(samples, SIZE) - before;
        return added === bytes;
      }).catch(() => undefined);
      expect(added).toBe(bytes);
    },
  );
});
