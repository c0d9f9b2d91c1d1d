import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpInstrumentation } from './http-instrumentation.js';
import type { HttpRequestContext } from './http-request-context.js';

interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
}
interface FastifyReplyLike {
  raw: ServerResponse;
  hijack(): void;
}
type OnRequest = (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void;
interface FastifyLike {
  addHook(name: 'onRequest', fn: OnRequest): unknown;
}

/**
 * Installs the instrumentation as the first `onRequest` hook of a Fastify
 * instance — ahead of Nest's own hooks and middleware (middie) — so every
 * request is seen, 404s included, and `/metrics` is answered raw, before any
 * onSend hook (compression, response wrapping) or Nest guard.
 */
export function installFastify(app: FastifyLike, http: HttpInstrumentation): void {
  const trace = http.context.storage;
  const traced = http.traceEnabled;
  const shared = http.shared(
    (ctx: HttpRequestContext) => (ctx.raw as FastifyRequestLike).routeOptions?.url,
  );

  const first: OnRequest = (request, reply, done) => {
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
    const ctx = http.begin(req, reply.raw, request, shared, path);
    // enterWith: the context survives body parsing (see express.hooks.ts).
    if (ctx !== undefined && traced) trace.enterWith(ctx);
    done();
  };
  app.addHook('onRequest', first);
  moveHookFirst(app, first);
}

/**
 * Fastify runs hooks in registration order and Nest registers several (and
 * middie) before modules are configured. Moving ours to the front of the root
 * hook list, before routes are built from it, makes it run first.
 */
function moveHookFirst(app: FastifyLike, fn: OnRequest): void {
  const sym = Object.getOwnPropertySymbols(app).find((s) => s.description === 'fastify.hooks');
  const hooks = sym
    ? (app as unknown as Record<symbol, { onRequest?: unknown[] }>)[sym]
    : undefined;
  const list = hooks?.onRequest;
  if (Array.isArray(list) && list[list.length - 1] === fn) list.unshift(list.pop());
}
