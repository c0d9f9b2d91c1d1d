import dc from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { HttpRequestContext } from './http-request-context.js';

/** Published by Node's HTTP/1 server as each response finishes (Node 16.17+). */
const FINISH = 'http.server.response.finish';

interface FinishMessage {
  response: ServerResponse;
  socket: Socket;
}

/**
 * The key a connection keeps its latest observed request under. One for the
 * module, so that V8 sees a constant key (a named property access, not a
 * keyed one); each instance ends only the requests it watches (`watcher`).
 */
const LATEST = Symbol('nestjs-observability:latest-request');

/**
 * Whether a closed response was sent in full. HTTP/2's compatibility
 * response reports itself finished (`finish`, `writableFinished`) whenever
 * its stream closes, a stream the client reset included; there the app must
 * have ended it and the stream closed without an error code.
 */
function sentInFull(res: ServerResponse): boolean {
  const stream = (res as { stream?: { rstCode?: number } }).stream;
  if (stream === undefined) return res.writableFinished;
  return res.writableEnded && !stream.rstCode;
}

/** What each tracked socket carries. */
interface Tracked {
  [LATEST]?: HttpRequestContext | null;
}

/**
 * Tells the instrumentation, exactly once per observed request, that its
 * response has finished or has been cut off.
 *
 * On Node's HTTP/1 server this needs no listener per request: a finished
 * response is announced on the `http.server.response.finish` diagnostics
 * channel (Node publishes it from the `finish` listener it puts on every
 * response anyway), and one cut off is one whose connection closed, which
 * one `close` listener per connection sees. A `close` listener on each
 * response cost ~630 instructions a request on Node 24
 * (docs/benchmarks-instructions.md). The connection's listener also ends the
 * responses of pipelined requests still queued behind others when it
 * closes, which Node 20 never closes.
 *
 * The connection keeps its latest observed request under a symbol private to
 * this module (a data property; nothing of Node's is replaced or read). A
 * WeakMap from connection to request would cost a hashed lookup at each
 * start and finish. Requests pipelined on one connection are chained, newest
 * first; they finish in order, so the chain is as long as the requests
 * in flight on it.
 *
 * Anything else (HTTP/2's compatibility response, a request injected with a
 * mock socket as `fastify.inject()` does, a connection already closed, or an
 * instance that was never opened) gets a `close` listener on its response,
 * which fires once, after `finish` or on abort, everywhere.
 */
export class ResponseEnds {
  private readonly onFinish = (message: unknown): void => {
    const m = message as FinishMessage;
    try {
      this.finished(m.socket as unknown as Tracked, m.response);
    } catch (err) {
      // A subscriber's exception would be rethrown on the next tick as uncaught.
      this.onError(err);
    }
  };
  private readonly onSocketClose: (this: Socket) => void;
  private open = false;

  constructor(
    /** Records the request; `finished` says whether its response was sent in full. */
    private readonly end: (ctx: HttpRequestContext, finished: boolean) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    // One function for every connection; the connection arrives as `this`.
    const closed = (socket: Tracked): void => this.closed(socket);
    this.onSocketClose = function (this: Socket) {
      closed(this as unknown as Tracked);
    };
  }

  /** Starts listening for finished responses; until then each response gets its own listener. */
  subscribe(): void {
    if (this.open) return;
    dc.subscribe(FINISH, this.onFinish);
    this.open = true;
  }

  /** Stops listening (the app shuts down); requests still in flight end when their connection closes. */
  unsubscribe(): void {
    if (!this.open) return;
    dc.unsubscribe(FINISH, this.onFinish);
    this.open = false;
  }

  /** Arranges for `end` to be called once when the response of `ctx` finishes or is cut off. */
  watch(ctx: HttpRequestContext, req: IncomingMessage, res: ServerResponse): void {
    const socket = ctx.socket as (Socket & Tracked) | null;
    if (this.open && socket !== null) {
      const latest = socket[LATEST];
      if (latest !== undefined) {
        // A connection seen before has its listener; a closed one brings no requests.
        if (latest !== null && !latest.done) ctx.earlier = latest;
        ctx.watcher = this;
        socket[LATEST] = ctx;
        return;
      }
      if (this.first(ctx, req, socket)) return;
    }
    this.alone(ctx, res);
  }

  /** A connection seen for the first time: tracked when Node's HTTP/1 server's, and open. */
  private first(ctx: HttpRequestContext, req: IncomingMessage, socket: Socket & Tracked): boolean {
    if (req.httpVersionMajor !== 1 || !(socket instanceof Socket) || socket.destroyed) return false;
    socket.on('close', this.onSocketClose);
    ctx.watcher = this;
    socket[LATEST] = ctx;
    return true;
  }

  /** Anything else ends from its own response's `close`. */
  private alone(ctx: HttpRequestContext, res: ServerResponse): void {
    res.on('close', () => this.end(ctx, sentInFull(res)));
  }

  /** The watched context of `req`, found on its connection; undefined where none is kept there. */
  contextOf(req: IncomingMessage): HttpRequestContext | undefined {
    const socket = req.socket as unknown as Tracked | null | undefined;
    if (socket == null) return undefined;
    let ctx = socket[LATEST];
    while (ctx != null && ctx.req !== req) ctx = ctx.earlier;
    return ctx ?? undefined;
  }

  private finished(socket: Tracked, response: ServerResponse): void {
    if (socket === null || typeof socket !== 'object') return;
    let ctx = socket[LATEST];
    // Usually the first; a pipelined request's is further down the chain.
    while (ctx != null && ctx.res !== response) ctx = ctx.earlier;
    // A response not observed, or another app's (each subscribes its own handler).
    if (ctx == null || ctx.watcher !== this) return;
    if (socket[LATEST] === ctx) socket[LATEST] = null;
    ctx.earlier = undefined;
    this.end(ctx, true);
  }

  private closed(socket: Tracked): void {
    let ctx = socket[LATEST];
    socket[LATEST] = null;
    while (ctx != null) {
      const earlier: HttpRequestContext | undefined = ctx.earlier;
      ctx.earlier = undefined;
      // Finished in full if Node had flushed it before the connection went.
      if (!ctx.done && ctx.watcher === this) this.end(ctx, ctx.res.writableFinished);
      ctx = earlier;
    }
  }
}
