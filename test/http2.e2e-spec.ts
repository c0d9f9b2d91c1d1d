import { Controller, Get, Module, StreamableFile } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { connect } from 'node:http2';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { INestApplication } from '@nestjs/common';
import { CATALOG, ObservabilityModule, TraceContext } from '../src/index.js';
import { abortedRequest, eventually, rawRequest } from './support/http-client.js';
import { LogCapture } from './support/log-capture.js';
import { parseExposition, sumOf } from './support/prom-text.js';

const REQ = CATALOG.httpRequestsTotal.name;
const REQ_SIZE = CATALOG.httpRequestSizeBytes.name;
const RES_SIZE = CATALOG.httpResponseSizeBytes.name;

const CHUNKS = ['a'.repeat(1000), 'b'.repeat(2000), 'c'.repeat(3000)];

@Controller()
class H2Controller {
  constructor(private readonly trace: TraceContext) {}

  @Get('orgs/:orgId/items')
  list() {
    return { items: [1, 2, 3], trace: this.trace.traceId };
  }

  @Get('stream')
  stream(): StreamableFile {
    // No length: the body goes out in DATA frames without a content-length.
    return new StreamableFile(Readable.from(CHUNKS.map((c) => Buffer.from(c))));
  }

  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 300));
    return 'slow';
  }
}

interface H2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function h2request(
  session: ClientHttp2Session,
  path: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders; body?: string } = {},
): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': opts.method ?? 'GET',
      ':path': path,
      ...opts.headers,
    });
    let headers: IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
    stream.on('error', reject);
    stream.end(opts.body);
  });
}

/** `/metrics` read over an HTTP/2 session, parsed. */
async function scrapeOver(session: ClientHttp2Session) {
  const res = await h2request(session, '/metrics');
  expect(res.status).toBe(200);
  return parseExposition(res.body);
}

/** A Nest app on Fastify's HTTP/2 server (cleartext, or TLS with `https`). */
async function startH2App(
  logs: LogCapture,
  https?: { key: string; cert: string; allowHTTP1: boolean },
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'h2-api',
        logging: { destination: logs, level: 'debug' },
      }),
    ],
    controllers: [H2Controller],
  })
  class H2Module {}
  const adapter = https
    ? new FastifyAdapter({ http2: true, https })
    : new FastifyAdapter({ http2: true });
  const app = await NestFactory.create(H2Module, adapter, { abortOnError: false, logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { app, url };
}

describe('HTTP/2 (Fastify, cleartext)', () => {
  let app: INestApplication;
  let url: string;
  let session: ClientHttp2Session;
  const logs = new LogCapture();

  beforeAll(async () => {
    ({ app, url } = await startH2App(logs));
    session = connect(url);
  });

  afterAll(async () => {
    session?.close();
    await app?.close();
  });

  const scrape = () => scrapeOver(session);

  it('counts concurrent streams on one session once each, with the route template', async () => {
    const before = sumOf(await scrape(), REQ, { endpoint: '/orgs/:orgId/items' });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h2request(session, `/orgs/${i}/items`)),
    );
    for (const a of answers) expect(a.status).toBe(200);
    const samples = await scrape();
    expect(
      sumOf(samples, REQ, { method: 'GET', endpoint: '/orgs/:orgId/items', status: '200' }) -
        before,
    ).toBe(8);
    expect(samples.some((s) => s.name === REQ && /\/\d/.test(s.labels.endpoint ?? ''))).toBe(false);
  });

  it('echoes the trace ID and carries it into the handler and the access line', async () => {
    const res = await h2request(session, '/orgs/1/items', {
      headers: { 'x-trace-id': 'h2-trace-1' },
    });
    expect(res.headers['x-trace-id']).toBe('h2-trace-1');
    expect(JSON.parse(res.body).trace).toBe('h2-trace-1');
    await eventually(() => logs.lines.some((l) => l.trace_id === 'h2-trace-1'));
    const line = logs.lines.find((l) => l.trace_id === 'h2-trace-1')!;
    expect(line).toMatchObject({ method: 'GET', status: 200, endpoint: '/orgs/:orgId/items' });
  });

  it('records the declared sizes of a request body and a response', async () => {
    const body = JSON.stringify({ filler: 'x'.repeat(123) });
    const res = await h2request(session, '/orgs/2/items', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    });
    // No POST route: a 404 whose request body was still declared.
    expect(res.status).toBe(404);
    const samples = await scrape();
    expect(sumOf(samples, `${REQ_SIZE}_sum`, { endpoint: 'unmatched' })).toBe(body.length);
    expect(sumOf(samples, `${RES_SIZE}_sum`, { endpoint: 'unmatched' })).toBe(
      Buffer.byteLength(res.body),
    );
  });

  it('leaves bodies without a declared length out of the size histograms, never NaN', async () => {
    // Node counts no bytes per HTTP/2 stream and the session's socket carries
    // every stream: other streams run beside these two on purpose.
    const upload = 'u'.repeat(4321);
    const [streamed, uploaded] = await Promise.all([
      h2request(session, '/stream'),
      h2request(session, '/orgs/3/items', {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: upload,
      }),
      ...Array.from({ length: 4 }, (_, i) => h2request(session, `/orgs/${i}/items`)),
    ]);
    expect(streamed.body).toBe(CHUNKS.join(''));
    expect(uploaded.status).toBe(404);
    const samples = await scrape();
    expect(sumOf(samples, REQ, { endpoint: '/stream', status: '200' })).toBe(1);
    expect(sumOf(samples, `${RES_SIZE}_count`, { endpoint: '/stream' })).toBe(0);
    // The unmatched PUT's own request size is unknown; the earlier POST declared its length.
    expect(sumOf(samples, REQ, { method: 'PUT', endpoint: 'unmatched' })).toBe(1);
    expect(sumOf(samples, `${REQ_SIZE}_count`, { endpoint: 'unmatched' })).toBe(1);
    // The HTTP families only: prom-client's event-loop lag mean reads NaN
    // between two scrapes closer than its sampling interval.
    const bad = samples.filter((s) => s.name.startsWith('http_') && !Number.isFinite(s.value));
    expect(bad).toEqual([]);
  });

  it('counts a stream the client resets as 499 and returns the in-flight gauge to 0', async () => {
    await new Promise<void>((resolve) => {
      const stream = session.request({ ':method': 'GET', ':path': '/slow' });
      stream.on('error', () => undefined);
      stream.on('close', () => resolve());
      setTimeout(() => stream.close(0x8 /* CANCEL */), 60);
    });
    await eventually(
      async () => sumOf(await scrape(), REQ, { endpoint: '/slow', status: '499' }) === 1,
    );
    await new Promise((r) => setTimeout(r, 400));
    const samples = await scrape();
    expect(sumOf(samples, REQ, { endpoint: '/slow' })).toBe(1);
    expect(sumOf(samples, CATALOG.httpActiveRequests.name)).toBe(0);
  });
});

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'h2-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(
      `openssl could not make a test certificate (apt-get install -y openssl): ${String(err)}`,
    );
  }
  const pair = {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  };
  rmSync(dir, { recursive: true, force: true });
  return pair;
}

describe('HTTP/2 over TLS with HTTP/1.1 allowed (Fastify)', () => {
  let app: INestApplication;
  let url: string;
  let session: ClientHttp2Session;
  let cert: string;
  const logs = new LogCapture();

  beforeAll(async () => {
    const pair = selfSignedCert();
    cert = pair.cert;
    ({ app, url } = await startH2App(logs, { ...pair, allowHTTP1: true }));
    session = connect(url, { ca: cert });
  });

  afterAll(async () => {
    session?.close();
    await app?.close();
  });

  const scrape = () => scrapeOver(session);

  it('counts HTTP/2 and HTTP/1.1 requests on one server once each, both echoing the trace ID', async () => {
    const [h2, h1] = await Promise.all([
      h2request(session, '/orgs/1/items', { headers: { 'x-trace-id': 'tls-h2' } }),
      rawRequest(`${url}/orgs/2/items`, { ca: cert, headers: { 'x-trace-id': 'tls-h1' } }),
    ]);
    expect([h2.status, h1.status]).toEqual([200, 200]);
    expect(h2.headers['x-trace-id']).toBe('tls-h2');
    expect(h1.headers['x-trace-id']).toBe('tls-h1');
    let bytes = Buffer.byteLength(h2.body) + Buffer.byteLength(h1.body);
    for (let i = 0; i < 5; i++)
      bytes += Buffer.byteLength((await rawRequest(`${url}/orgs/${i}/items`, { ca: cert })).body);
    const samples = await scrape();
    expect(
      sumOf(samples, REQ, { method: 'GET', endpoint: '/orgs/:orgId/items', status: '200' }),
    ).toBe(7);
    expect(sumOf(samples, `${RES_SIZE}_count`, { endpoint: '/orgs/:orgId/items' })).toBe(7);
    expect(sumOf(samples, `${RES_SIZE}_sum`, { endpoint: '/orgs/:orgId/items' })).toBe(bytes);
    expect(sumOf(samples, CATALOG.httpActiveRequests.name)).toBe(0);
  });

  it('counts an HTTP/1.1 request cut off over TLS as 499, once', async () => {
    await abortedRequest(`${url}/slow`, 60, cert);
    await eventually(
      async () => sumOf(await scrape(), REQ, { endpoint: '/slow', status: '499' }) === 1,
    );
    await new Promise((r) => setTimeout(r, 400));
    const samples = await scrape();
    expect(sumOf(samples, REQ, { endpoint: '/slow' })).toBe(1);
    expect(sumOf(samples, CATALOG.httpActiveRequests.name)).toBe(0);
  });
});
