import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHook } from './adapter-hooks.js';
import type { HttpInstrumentation } from './http-instrumentation.js';
import type { HttpRequestContext, ResponseHeaders } from './http-request-context.js';
import { NODE_RESPONSE_HEADERS } from './http-request-context.js';

interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
  is404?: boolean;
}
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
  getHeader(name: string): string | number | string[] | undefined;
}

/**
 * A response header from the reply, which hands its headers to Node in one
 * writeHead: Node's getHeader does not see them then. The reply falls back to
 * Node's response. Asked only where Node's response has not noted the size
 * (see declaredResponseBytes).
 */
const fromReply: ResponseHeaders['get'] = (ctx, name) =>
  (ctx.reply as FastifyReplyLike).getHeader(name);

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
    endpointOf: (ctx: HttpRequestContext) => {
      const request = ctx.raw as FastifyRequestLike;
      // A cheap getter; true also for a request sent on to the not-found
      // handler after its route's hook ran (reply.callNotFound()).
      if (request.is404 === true) return undefined;
      // Named by the route's own hook (fastify-route-hooks.ts), or else asked.
      return ctx.route ?? request.routeOptions?.url;
    },
    headers: {
      // On Node's response, not the reply: a response written raw (a middleware
      // answering with res.end(), a hijacked reply, Nest's SSE) never sends the
      // reply's headers. It sends Node down its slow writeHead, which sets each
      // of the reply's headers on its own (~6k instructions a request on Node
      // 24; docs/benchmarks-instructions.md); wrapping each response's writeHead to
      // add it late would avoid that, but would replace a method on an object
      // the module does not own (shared/DESIGN.md, "Public seams first").
      set: NODE_RESPONSE_HEADERS.set,
      get: fromReply,
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
    // enterWith: the context survives body parsing (see express-request-hook.ts).
    if (ctx !== undefined && traced) trace.enterWith(ctx);
    done();
  };
}
