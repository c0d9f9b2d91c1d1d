import type { IncomingMessage } from 'node:http';
import type { HttpInstrumentation } from './http-instrumentation.js';

type RouteHook = (request: { raw: IncomingMessage }, reply: unknown, done: () => void) => void;

/** The part of Fastify's route options an `onRoute` hook reads and extends. */
interface RouteOptionsLike {
  url?: unknown;
  onRequest?: unknown;
}

/** The part of a Fastify instance this file uses. */
export interface FastifyRoutes {
  addHook(name: 'onRoute', hook: (options: RouteOptionsLike) => void): unknown;
}

/** The route hooks added here (a GET's HEAD twin is registered from its own copy of the options). */
const added = new WeakSet<object>();

/**
 * Gives every route registered from now on an `onRequest` hook of its own
 * that tells the instrumentation the route's template as the route starts,
 * through Fastify's `onRoute` hook, the seam Fastify publishes for plugins to
 * extend routes. The only way to the matched route at a request's end is
 * `request.routeOptions`, a getter that builds a 13-field object on each
 * access (~550 instructions a request on Node 24); the route's hook costs a
 * third of that.
 *
 * The template is the URL Fastify registers the route under, prefix
 * included: what `routeOptions.url` answers. A route's hook runs after the
 * instance's own `onRequest` hooks (Nest's middleware among them); a request
 * answered before it, or a route registered before this call, is named by
 * `routeOptions` at its end, as before.
 *
 * Fastify takes no routes once started; a hook it refuses is no loss.
 */
export function nameFastifyRoutes(fastify: FastifyRoutes, http: HttpInstrumentation): void {
  try {
    fastify.addHook('onRoute', (options) => {
      const template = options.url;
      if (typeof template !== 'string') return;
      const own = options.onRequest;
      const hooks = own === undefined || own === null ? [] : Array.isArray(own) ? own : [own];
      if (hooks.some((h) => added.has(h as object))) return;
      const hook: RouteHook = (request, _reply, done) => {
        http.routeMatched(request.raw, template);
        done();
      };
      added.add(hook);
      // First among the route's own hooks: one of them may answer the request.
      options.onRequest = [hook, ...hooks];
    });
  } catch {
    // routes keep being named by routeOptions at their end
  }
}
