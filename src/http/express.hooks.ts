import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpInstrumentation } from './http-instrumentation.js';
import type { HttpRequestContext } from './http-request-context.js';

type Next = (err?: unknown) => void;
type Handler = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
interface Layer {
  handle?: unknown;
  route?: { path?: unknown; methods?: Record<string, boolean> };
  match?(path: string): boolean;
}
interface ExpressLike {
  use(fn: Handler): unknown;
  router?: { stack?: Layer[] };
  _router?: { stack?: Layer[] };
}
interface ExpressRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
  originalUrl?: string;
}

/**
 * Installs the instrumentation as the first layer of an Express app, ahead of
 * body parsers and every middleware, so each request is seen — 404s,
 * malformed bodies and requests rejected by middleware included — and
 * `/metrics` is answered before any app-wide middleware (compression,
 * response wrappers, auth) can touch it.
 */
export function installExpress(app: ExpressLike, http: HttpInstrumentation): void {
  const trace = http.context.storage;
  const traced = http.traceEnabled;
  const router = app.router ?? app._router;
  // A route served the request when Express matched a route layer at the top
  // level; Nest mounts every controller route there with its full path
  // (global prefix and version included). Routes inside mounted routers
  // (Nest's prefixed 404 handler among them) count as unmatched.
  const shared = http.shared((ctx: HttpRequestContext) => {
    const req = ctx.raw as ExpressRequest;
    const route = req.route;
    if (route !== undefined) return req.baseUrl ? undefined : String(route.path);
    // Rejected before routing (malformed body, middleware): find the route it
    // was meant for. Only on that rare path; a 404 had none.
    return ctx.res.statusCode === 404 ? undefined : routeFor(router?.stack, req);
  });

  const first: Handler = (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const raw = http.rawRoute(path);
    if (raw !== undefined) {
      raw(req, res);
      return;
    }
    const ctx = http.begin(req, res, req, shared, path);
    // enterWith, not run(): the context then also survives body parsing, whose
    // callbacks come from the connection's parser, not from this call.
    if (ctx !== undefined && traced) trace.enterWith(ctx);
    next();
  };
  app.use(first);
  const stack = router?.stack;
  if (Array.isArray(stack) && stack[stack.length - 1]?.handle === first) {
    stack.unshift(stack.pop()!);
  }
}

/** The template of the top-level route whose path and method match `req`, if any. */
function routeFor(stack: Layer[] | undefined, req: ExpressRequest): string | undefined {
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
