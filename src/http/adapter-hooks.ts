import type { HttpInstrumentation } from './http-instrumentation.js';
import { expressRequestHook } from './express-request-hook.js';
import { fastifyRequestHook } from './fastify-request-hook.js';
import type { FastifyRoutes } from './fastify-route-hooks.js';
import { nameFastifyRoutes } from './fastify-route-hooks.js';

/** A request hook as Nest's Express and Fastify adapters call it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- adapter-specific request/reply
export type RequestHook = (req: any, res: any, done: (err?: Error) => void) => unknown;

/** The part of Nest's HTTP adapter this module relies on (public API since Nest 10). */
export interface HookableAdapter {
  getType(): string;
  getInstance(): unknown;
  setOnRequestHook?(hook: RequestHook): void;
}

/**
 * Puts the instrumentation on the adapter's request hook, the seam Nest
 * provides for instrumentation: the adapter runs it first on every request
 * (Express: its first middleware; Fastify: its first root `onRequest` hook).
 *
 * The adapter holds one hook. If the app set one already, ours runs first
 * and then calls it, so its semantics (done, returned promise, errors) stay
 * the adapter's. A hook set after start-up replaces ours; `/metrics` then
 * answers 404, which says so at the first scrape.
 *
 * Returns false when the adapter cannot take a hook (another adapter type,
 * or one whose `setOnRequestHook` is Nest's no-op base method).
 */
export function installHttpHooks(adapter: HookableAdapter, http: HttpInstrumentation): boolean {
  const type = adapter.getType();
  if (typeof adapter.setOnRequestHook !== 'function') return false;
  let ours: RequestHook;
  if (type === 'express') ours = expressRequestHook(adapter.getInstance() as object, http);
  else if (type === 'fastify') {
    ours = fastifyRequestHook(http);
    nameFastifyRoutes(adapter.getInstance() as FastifyRoutes, http);
  } else return false;
  // The hook the app set before us, read from the adapter's field (the
  // adapter has no getter); chained so that setting ours loses nothing.
  const previous = (adapter as { onRequestHook?: unknown }).onRequestHook;
  adapter.setOnRequestHook(
    typeof previous === 'function' ? chain(ours, previous as RequestHook) : ours,
  );
  http.open();
  return true;
}

/**
 * Runs `first`, then — if it let the request go on — `then`, whose return
 * value (a promise the adapter awaits, on Fastify) goes back to the adapter.
 * `first` completes synchronously: it calls done or answers the request.
 */
export function chain(first: RequestHook, then: RequestHook): RequestHook {
  return function (this: unknown, req, res, done) {
    let go = false;
    let failure: Error | undefined;
    first.call(this, req, res, (err) => {
      if (err) failure = err;
      else go = true;
    });
    if (failure !== undefined) return done(failure);
    if (!go) return undefined;
    return then.call(this, req, res, done);
  };
}
