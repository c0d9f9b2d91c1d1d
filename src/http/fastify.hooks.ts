import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RequestHook } from './adapter-hooks.js';
import type { HttpInstrumentation } from './http-instrumentation.js';
import type { HttpRequestContext } from './http-request-context.js';

interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
}
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
  header(name: string, value: string): unknown;
  getHeader(name: string): string | number | string[] | undefined;
}

/**
 * The request hook for Nest's Fastify adapter, which runs it as the root
 * instance's first `onRequest` hook — ahead of Nest's other hooks and
 * middleware (middie) — so every request is seen, 404s included, and
 * `/metrics` is answered raw, before any onSend hook (compression, response
 * wrapping) or Nest guard.
 */
export function fastifyRequestHook(http: HttpInstrumentation): RequestHook {
  const trace = http.context.storage;
  const traced = http.traceEnabled;
  const shared = http.shared({
    endpointOf: (ctx: HttpRequestContext) => (ctx.raw as FastifyRequestLike).routeOptions?.url,
    headers: {
      set: (ctx, name, value) => {
        (ctx.reply as FastifyReplyLike).header(name, value);
        sendOnRawWrites(ctx.res, name, value);
      },
      // From the reply, which hands its headers to Node in one writeHead (Node's
      // getHeader does not see them); it falls back to Node's response.
      get: (ctx, name) => (ctx.reply as FastifyReplyLike).getHeader(name),
    },
  });

  return (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => {
    const req = request.raw;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const raw = http.rawRoute(path);
    if (raw !== undefined) {
      reply.hijack();
      raw(req, reply.raw);
      return;
    }
    const ctx = http.begin(req, reply.raw, request, reply, shared, path);
    // enterWith: the context survives body parsing (see express.hooks.ts).
    if (ctx !== undefined && traced) trace.enterWith(ctx);
    done();
  };
}

type WriteHead = ServerResponse['writeHead'];

/**
 * A header set on a Fastify reply travels in the headers object Fastify
 * passes to `writeHead`. A response written raw — a middleware answering
 * with `res.end()`, a hijacked reply, Nest's SSE — never sends the reply's
 * headers; for those, the header goes on Node's response as its head is
 * written. (Setting it on Node's response up front would do for both, but
 * Node then re-validates every reply header one by one in `writeHead`: some
 * 4,000 instructions per request.)
 *
 * A header of the same name that the app set on Node's response or passed
 * to `writeHead` itself wins, as it does on Express.
 */
function sendOnRawWrites(res: ServerResponse, name: string, value: string): void {
  const writeHead = res.writeHead as (this: ServerResponse, ...a: unknown[]) => ServerResponse;
  res.writeHead = function (
    this: ServerResponse,
    status: unknown,
    reason?: unknown,
    obj?: unknown,
  ) {
    const headers = typeof reason === 'string' ? obj : reason;
    // The reply's headers (a plain object, lower-case names) carry it already.
    const carried =
      typeof headers === 'object' &&
      headers !== null &&
      !Array.isArray(headers) &&
      (headers as OutgoingHttpHeaders)[name] !== undefined;
    // (Once the head is out, Node's own writeHead reports the second call.)
    if (!carried && !this.headersSent && !this.hasHeader(name)) this.setHeader(name, value);
    return writeHead.call(this, status, reason, obj);
  } as WriteHead;
}
