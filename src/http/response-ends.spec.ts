import { EventEmitter } from 'node:events';
import { createServer, request, Agent } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as h2connect, createServer as h2createServer } from 'node:http2';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpRequestContext } from './http-request-context.js';
import { ResponseEnds } from './response-ends.js';

/** The fields ResponseEnds reads and writes; `end` marks it done, as the instrumentation does. */
interface Ctx {
  socket: Socket | null;
  res: ServerResponse;
  done: boolean;
  earlier: Ctx | undefined;
  path: string;
}

let server: Server;
let port: number;
let ends: ResponseEnds;
let calls: [string, boolean][];
let handle: (req: IncomingMessage, res: ServerResponse, ctx: Ctx) => void;
let watched: Ctx[];

beforeEach(async () => {
  calls = [];
  watched = [];
  ends = new ResponseEnds(
    (ctx, finished) => {
      const c = ctx as unknown as Ctx;
      // Exactly once is the caller's contract (HttpInstrumentation.end); count repeats here.
      calls.push([c.path, finished]);
      c.done = true;
    },
    (err) => {
      throw err;
    },
  );
  ends.subscribe();
  handle = (_req, res) => res.end('ok');
  server = createServer((req, res) => {
    const ctx: Ctx = { socket: req.socket, res, done: false, earlier: undefined, path: req.url! };
    if (!req.url!.startsWith('/unwatched')) {
      ends.watch(ctx as unknown as HttpRequestContext, req, res);
      watched.push(ctx);
    }
    handle(req, res, ctx);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  ends.unsubscribe();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(path: string, agent: Agent | false = false): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });
}

/** Sends a request the server never answers and cuts it off once the server has watched it. */
async function cut(path: string): Promise<void> {
  handle = () => undefined;
  const seen = watched.length;
  const req = request({ host: '127.0.0.1', port, path, agent: false });
  req.on('error', () => undefined);
  req.end();
  await until(() => watched.length === seen + 1);
  req.destroy();
}

const tick = () => new Promise((r) => setImmediate(r));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

/** What the connection keeps for this instance (see ResponseEnds). */
function keptOn(socket: Socket): unknown[] {
  return Object.getOwnPropertySymbols(socket)
    .filter((s) => s.description === 'nestjs-observability:latest-request')
    .map((s) => (socket as unknown as Record<symbol, unknown>)[s]);
}

describe('ResponseEnds on Node’s HTTP/1 server', () => {
  it('ends a finished response once, with no listener added to the response', async () => {
    let before = -1;
    let after = -1;
    handle = (_req, res) => {
      after = res.listenerCount('close');
      res.end('ok');
    };
    const probe = createServer((_req, res) => {
      before = res.listenerCount('close');
      res.end();
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    await new Promise<void>((resolve) =>
      request({ port: (probe.address() as AddressInfo).port, host: '127.0.0.1' }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).end(),
    );
    await new Promise((r) => probe.close(r));

    expect(await get('/a')).toBe('ok');
    await until(() => calls.length === 1);
    await tick();
    expect(calls).toEqual([['/a', true]]);
    expect(after).toBe(before);
  });

  it('puts one close listener on a connection, however many requests it carries', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let socket: Socket | undefined;
    let base = -1;
    handle = (req, res) => {
      socket ??= req.socket;
      res.end('ok');
    };
    try {
      await get('/unwatched', agent);
      base = socket!.listenerCount('close');
      for (let i = 0; i < 5; i++) await get(`/r${i}`, agent);
      await until(() => calls.length === 5);
      expect(socket!.listenerCount('close')).toBe(base + 1);
      expect(calls).toEqual([0, 1, 2, 3, 4].map((i) => [`/r${i}`, true]));
      // Nothing of a finished request stays on the connection, which lives on.
      expect(keptOn(socket!)).toEqual([null]);
      expect(watched.every((c) => c.earlier === undefined)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('ends a response cut off by its client as not finished, once', async () => {
    await cut('/cut');
    await until(() => calls.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([['/cut', false]]);
  });

  it('ends pipelined requests still queued behind another when their connection closes', async () => {
    const pending: ServerResponse[] = [];
    handle = (req, res) => {
      if (req.url === '/p0') res.end('first');
      else pending.push(res); // /p1 and /p2 wait; /p2's response is queued behind /p1's
    };
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    client.write(['/p0', '/p1', '/p2'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    await until(() => watched.length === 3 && calls.length === 1);
    client.destroy();
    await until(() => calls.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([
      ['/p0', true],
      ['/p2', false],
      ['/p1', false],
    ]);
    // An answer after the connection went is not a second end.
    for (const res of pending) res.end('late');
    await tick();
    expect(calls).toHaveLength(3);
  });

  it('passes over finished responses it does not watch, on a connection it does', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await get('/w1', agent);
      await get('/unwatched', agent);
      await get('/w2', agent);
      await until(() => calls.length === 2);
      await tick();
      expect(calls).toEqual([
        ['/w1', true],
        ['/w2', true],
      ]);
    } finally {
      agent.destroy();
    }
  });

  it('falls back to a listener on each response once unsubscribed', async () => {
    ends.unsubscribe();
    expect(await get('/after')).toBe('ok');
    await until(() => calls.length === 1);
    await cut('/after-cut');
    await until(() => calls.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([
      ['/after', true],
      ['/after-cut', false],
    ]);
  });
});

describe('ResponseEnds elsewhere', () => {
  it("ends HTTP/2's compatibility response once, from its own close; a reset stream as not finished", async () => {
    const h2 = h2createServer((req, res) => {
      const ctx: Ctx = {
        socket: req.socket as unknown as Socket,
        res: res as unknown as ServerResponse,
        done: false,
        earlier: undefined,
        path: req.url,
      };
      ends.watch(
        ctx as unknown as HttpRequestContext,
        req as unknown as IncomingMessage,
        res as unknown as ServerResponse,
      );
      // '/reset' is never answered: its client resets the stream.
      if (req.url !== '/reset') res.end('h2');
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    const session = h2connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
    try {
      await new Promise<void>((resolve, reject) => {
        const s = session.request({ ':path': '/h2' });
        s.on('error', reject);
        s.resume();
        s.on('end', resolve);
        s.end();
      });
      await until(() => calls.length === 1);
      // Node's compatibility response emits finish, then close, for a reset stream too.
      const reset = session.request({ ':path': '/reset' });
      reset.on('error', () => undefined);
      reset.end();
      await new Promise((r) => setTimeout(r, 30));
      reset.close(0x8); // CANCEL
      await until(() => calls.length === 2);
      await new Promise((r) => setTimeout(r, 50));
      expect(calls).toEqual([
        ['/h2', true],
        ['/reset', false],
      ]);
    } finally {
      session.close();
      await new Promise((r) => h2.close(r));
    }
  });

  it('ends a response on a mock socket (fastify.inject) from its own close', () => {
    const socket = new EventEmitter();
    const res = Object.assign(new EventEmitter(), { writableFinished: true });
    const ctx = { socket, res, done: false, earlier: undefined, path: '/inject' };
    ends.watch(
      ctx as unknown as HttpRequestContext,
      { httpVersionMajor: 1, socket } as unknown as IncomingMessage,
      res as unknown as ServerResponse,
    );
    expect(socket.listenerCount('close')).toBe(0);
    res.emit('close');
    expect(calls).toEqual([['/inject', true]]);
  });
});
