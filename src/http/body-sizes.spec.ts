import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { declaredResponseBytes, requestBytes, responseBytes } from './body-sizes.js';
import type { HttpRequestContext } from './http-request-context.js';

/** A context stub: the response's noted length, the adapter's header, the socket's counts. */
function ctxWith(
  noted: unknown,
  adapterHeader?: string | number,
  socket?: { written?: number; header: string },
  httpVersionMajor = 1,
): HttpRequestContext {
  const res: Record<string, unknown> = { _header: socket?.header ?? null };
  if (noted !== 'absent') res._contentLength = noted;
  const asked: string[] = [];
  return {
    res,
    req: { httpVersionMajor },
    asked,
    socket: socket ? { bytesWritten: socket.written, bytesRead: 0 } : null,
    socketBytesWritten: 0,
    shared: {
      headers: {
        get: (_ctx: unknown, name: string) => {
          asked.push(name);
          return adapterHeader;
        },
      },
    },
  } as unknown as HttpRequestContext;
}

describe('declaredResponseBytes', () => {
  it('takes the length Node noted, without asking the adapter', () => {
    const ctx = ctxWith(42, 7);
    expect(declaredResponseBytes(ctx)).toBe(42);
    expect((ctx as unknown as { asked: string[] }).asked).toEqual([]);
  });

  it('has none for a body sent without a length (chunked), or a length that is not one', () => {
    expect(declaredResponseBytes(ctxWith(null, 7))).toBeUndefined();
    expect(declaredResponseBytes(ctxWith(Number.NaN, 7))).toBeUndefined();
    expect(declaredResponseBytes(ctxWith(-1, 7))).toBeUndefined();
  });

  it("asks the adapter where the response has no such field (HTTP/2's compatibility response)", () => {
    const ctx = ctxWith('absent', '9');
    expect(declaredResponseBytes(ctx)).toBe(9);
    expect((ctx as unknown as { asked: string[] }).asked).toEqual(['content-length']);
    expect(declaredResponseBytes(ctxWith('absent', 'nine'))).toBeUndefined();
  });
});

describe('responseBytes', () => {
  it('counts the bytes written past the header block when no length was declared', () => {
    const header = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    expect(responseBytes(ctxWith(null, undefined, { written: header.length + 12, header }))).toBe(
      12,
    );
    expect(responseBytes(ctxWith(5, undefined, { written: 999, header }))).toBe(5);
  });

  it("has no size for an undeclared body whose socket is not the exchange's own, never NaN", () => {
    const header = 'HTTP/1.1 200 OK\r\n\r\n';
    // HTTP/2: the session's socket carries every stream.
    expect(
      responseBytes(ctxWith('absent', undefined, { written: 999, header }, 2)),
    ).toBeUndefined();
    // A socket without counters (a closed HTTP/2 stream's stand-in, a mock).
    expect(responseBytes(ctxWith(null, undefined, { header }))).toBeUndefined();
    expect(responseBytes(ctxWith(null, undefined))).toBeUndefined();
    // Declared, it is known whatever the socket.
    expect(responseBytes(ctxWith('absent', '9', { written: 999, header }, 2))).toBe(9);
  });
});

describe('requestBytes', () => {
  const stub = (declared: number | undefined, read: unknown, httpVersionMajor = 1) =>
    ({
      declaredRequestBytes: declared,
      socketBytesRead: 10,
      req: { httpVersionMajor },
      socket: { bytesRead: read },
    }) as unknown as HttpRequestContext;

  it('takes the declared size, else the bytes read since the request began', () => {
    expect(requestBytes(stub(42, 999))).toBe(42);
    expect(requestBytes(stub(undefined, 110))).toBe(100);
  });

  it('has none for an undeclared HTTP/2 body or a socket without counters', () => {
    expect(requestBytes(stub(undefined, 110, 2))).toBeUndefined();
    expect(requestBytes(stub(undefined, undefined))).toBeUndefined();
    expect(requestBytes(stub(7, undefined, 2))).toBe(7);
  });
});

// The field is Node's, not a documented API: this fails, and says so, on a
// Node that stops noting it (the adapter's header is then read instead).
describe("Node's ServerResponse notes the length it sends", () => {
  it.each([
    [
      'a Content-Length header',
      (res: ServerResponse) => res.setHeader('Content-Length', '5').end('hello'),
      5,
    ],
    ["end's body (Node declares it)", (res: ServerResponse) => res.end('héllo'), 6],
    [
      "writeHead's argument",
      (res: ServerResponse) => res.writeHead(200, { 'content-length': 3 }).end('abc'),
      3,
    ],
    [
      "writeHead's argument after a header set on the response",
      (res: ServerResponse) => {
        res.setHeader('x-trace-id', 't');
        res.writeHead(200, { 'Content-Length': '4' }).end('abcd');
      },
      4,
    ],
    [
      'a chunked body',
      (res: ServerResponse) => {
        res.write('x');
        res.end('y');
      },
      null,
    ],
  ])('from %s', async (_how, answer, expected) => {
    let noted: unknown = 'never answered';
    const server = createServer((_req, res) => {
      res.on(
        'finish',
        () => (noted = (res as unknown as { _contentLength?: unknown })._contentLength),
      );
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await (await fetch(`http://127.0.0.1:${port}/`)).text();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(noted).toBe(expected);
  });
});
