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
  ctx.declaredRequestBytes = declared;
  if (declared === undefined) ctx.socketBytesRead = socket?.bytesRead ?? 0;
}

/** As declared, or for a chunked upload the bytes read from the socket since the request began. */
export function requestBytes(ctx: HttpRequestContext): number {
  const declared = ctx.declaredRequestBytes;
  if (declared !== undefined) return declared;
  if (ctx.socket === null) return 0;
  return Math.max(0, ctx.socket.bytesRead - ctx.socketBytesRead);
}

/**
 * Content-Length when the response declares it; otherwise (streamed, chunked
 * or compressed on the fly) the bytes written to the socket for this response
 * minus its header block.
 */
export function responseBytes(ctx: HttpRequestContext): number {
  const declared = declaredResponseBytes(ctx);
  if (declared !== undefined) return declared;
  if (ctx.socket === null) return 0;
  const header = (ctx.res as unknown as { _header?: string | null })._header;
  const written = ctx.socket.bytesWritten - ctx.socketBytesWritten;
  // Its length, not Buffer.byteLength: the header block is a rope that
  // byteLength flattens (~1,900 instructions). Node writes it as latin1 (one
  // byte a character) ahead of a Buffer body; only a header value with
  // characters past 0x7f ahead of a string body (sent as UTF-8) is off, by
  // one byte per such character.
  return Math.max(0, written - (typeof header === 'string' ? header.length : 0));
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
