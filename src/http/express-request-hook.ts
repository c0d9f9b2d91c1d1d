import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHook } from './adapter-hooks.js';
import type { HttpInstrumentation } from './http-instrumentation.js';
import type { HttpRequestContext } from './http-request-context.js';
import { NODE_RESPONSE_HEADERS } from './http-request-context.js';

interface Layer {
  route?: { path?: unknown; methods?: Record<string, boolean> };
  match?(path: string): boolean;
}
interface ExpressLike {
  router?: { stack?: Layer[] };
  _router?: { stack?: Layer[] };
}
interface ExpressRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
  originalUrl?: string;
}

/**
 * The request hook for Nest's Express adapter. The adapter runs it as the
 * first middleware of the app, ahead of body parsers and every app
 * middleware, so each request is seen — 404s, malformed bodies and requests
 * rejected by middleware included — and `/metrics` is answered before any
 * app-wide middleware (compression, response wrappers, auth) can touch it.
 */
export function expressRequestHook(app: ExpressLike, http: HttpInstrumentation): RequestHook {
  const trace = http.context.storage;
  const traced = http.traceEnabled;
  // A route served the request when Express matched a route layer at the top
  // level; Nest mounts every controller route there with its full path
  // (global prefix and version included). Routes inside mounted routers
  // (Nest's prefixed 404 handler among them) count as unmatched.
  const shared = http.shared({
    endpointOf: (ctx: HttpRequestContext) => {
      const req = ctx.raw as ExpressRequest;
      const route = req.route;
      if (route !== undefined) {
        if (req.baseUrl) return undefined;
        const path = route.path;
        return typeof path === 'string' ? path : String(path);
      }
      // Rejected before routing (malformed body, middleware): find the route it
      // was meant for. Only on that rare path; a 404 had none.
      return ctx.res.statusCode === 404 ? undefined : routeFor(app, req);
    },
    headers: NODE_RESPONSE_HEADERS,
  });

  return (req: IncomingMessage, res: ServerResponse, done: (err?: Error) => void) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const raw = http.rawRoute(path);
    if (raw !== undefined) {
      raw(req, res);
      return;
    }
    const ctx = http.begin(req, res, req, res, shared, path);
    // enterWith, not run(): the context then also survives body parsing, whose
    // callbacks come from the connection's parser, not from this call.
    if (ctx !== undefined && traced) trace.enterWith(ctx);
    done();
  };
}

/**
 * The template of the top-level route whose path and method match `req`, if
 * any. Reads the router's layers (Express exposes them; nothing is changed),
 * and only for requests rejected before routing.
 */
function routeFor(app: ExpressLike, req: ExpressRequest): string | undefined {
  const stack = (app.router ?? app._router)?.stack;
  if (!Array.isArray(stack)) return undefined;
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const method = (req.method ?? 'GET').toLowerCase();
  for (const layer of stack) {
    const route = layer.route;
    if (route === undefined || typeof layer.match !== 'function') continue;
    const methods = route.methods ?? {};
    if (
      (methods[method] || methods._all || (method === 'head' && methods.get)) &&
      layer.match(path)
    ) {
      return String(route.path);
    }
  }
  return undefined;
}
