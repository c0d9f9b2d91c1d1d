import type { Socket } from 'node:net';
import type { HttpRequestContext } from './http-request-context.js';
import { contentLength } from './raw-headers.js';

/**
 * Notes what the request's and response's sizes are measured from as the
 * request starts: the body's declared size (see RequestHeaders.declaredBytes)
 * and the socket's counters. Not for a request that is not counted.
 */
export function startSizes(ctx: HttpRequestContext, declared: number | undefined): void {
  const socket = ctx.socket;
  ctx.socketBytesWritten = socket?.bytesWritten ?? 0;
  // Without a length, HTTP/1 has no body; an HTTP/2 request has one unless
  // its stream ended with its headers.
  if (declared === 0 && ctx.req.httpVersionMajor === 2 && !endsWithHeaders(ctx.req)) {
    declared = undefined;
  }
  ctx.declaredRequestBytes = declared;
  if (declared === undefined) ctx.socketBytesRead = socket?.bytesRead ?? 0;
}

/** Whether an HTTP/2 request's stream ended with its headers (`endAfterHeaders`): no body. */
function endsWithHeaders(req: HttpRequestContext['req']): boolean {
  return (req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === true;
}

/**
 * As declared, or for a chunked upload the bytes read from the socket since
 * the request began; undefined where no count is the request's own (see
 * ownSocket).
 */
export function requestBytes(ctx: HttpRequestContext): number | undefined {
  const declared = ctx.declaredRequestBytes;
  if (declared !== undefined) return declared;
  const read = ownSocket(ctx)?.bytesRead;
  return typeof read === 'number' ? Math.max(0, read - ctx.socketBytesRead) : undefined;
}

/**
 * Content-Length when the response declares it; otherwise (streamed, chunked
 * or compressed on the fly) the bytes written to the socket for this response
 * minus its header block; undefined where no count is the response's own
 * (see ownSocket).
 */
export function responseBytes(ctx: HttpRequestContext): number | undefined {
  const declared = declaredResponseBytes(ctx);
  if (declared !== undefined) return declared;
  const total = ownSocket(ctx)?.bytesWritten;
  if (typeof total !== 'number') return undefined;
  const header = (ctx.res as unknown as { _header?: string | null })._header;
  const written = total - ctx.socketBytesWritten;
  // Its length, not Buffer.byteLength: the header block is a rope that
  // byteLength flattens (~1,900 instructions). Node writes it as latin1 (one
  // byte a character) ahead of a Buffer body; only a header value with
  // characters past 0x7f ahead of a string body (sent as UTF-8) is off, by
  // one byte per such character.
  return Math.max(0, written - (typeof header === 'string' ? header.length : 0));
}

/**
 * The socket whose byte counters measure this request's body: on HTTP/1 a
 * connection carries one exchange at a time. An HTTP/2 request's socket is a
 * stand-in for the session's, shared by every stream on it (and, once the
 * stream has closed, without counters at all: they read undefined, which
 * would make the histogram's sum NaN); Node counts no bytes per stream. Only
 * asked for a body sent without a length; a mock socket's counters may be
 * missing too, hence the callers' type checks.
 */
function ownSocket(ctx: HttpRequestContext): Socket | undefined {
  return ctx.socket !== null && ctx.req.httpVersionMajor === 1 ? ctx.socket : undefined;
}

/**
 * The Content-Length the response was sent with. Node notes it as it writes
 * the header block, whoever set it (a header, `writeHead`'s argument, or its
 * own from `end`'s body), as `_contentLength`: a number, or null when the
 * body went out without one (chunked). Reading it costs one property load;
 * asking the adapter costs a lower-cased lookup, and on Fastify it turns the
 * keyed load in the reply's getHeader megamorphic for Fastify's and Nest's
 * own calls (~1,000 instructions a request on Node 24). Every HTTP/1
 * response has the field (null until the header block is written); the
 * adapter is asked only where there is none: HTTP/2's compatibility
 * response, or a future Node.
 */
export function declaredResponseBytes(ctx: HttpRequestContext): number | undefined {
  const noted = (ctx.res as unknown as { _contentLength?: unknown })._contentLength;
  if (typeof noted === 'number') return Number.isFinite(noted) && noted >= 0 ? noted : undefined;
  if (noted === null) return undefined;
  return contentLength(ctx.shared.headers.get(ctx, 'content-length'));
}
