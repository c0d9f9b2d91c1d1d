import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MethodSeries } from './http-instrumentation.js';
import type { ObservedRequest, RequestResolver } from '../context/request-context.js';
import { RequestContext } from '../context/request-context.js';
import { rawHeader } from './raw-headers.js';

/** Resolved org/user values are cut to this length before they reach logs. */
const MAX_RESOLVED_LENGTH = 256;

const ORG = 1;
const USER = 2;

/** How the adapter tells which route template served a request. */
export type EndpointOf = (ctx: HttpRequestContext) => string | undefined;

/**
 * How an adapter sets and reads response headers. Fastify keeps a reply's
 * headers on the reply and hands them to Node in one `writeHead`, so Node's
 * `getHeader` does not see them afterwards.
 */
export interface ResponseHeaders {
  set(ctx: HttpRequestContext, name: string, value: string): void;
  get(ctx: HttpRequestContext, name: string): string | number | string[] | undefined;
}

/** Headers set and read on Node's response (Express sets every header there). */
export const NODE_RESPONSE_HEADERS: ResponseHeaders = {
  set: (ctx, name, value) => ctx.res.setHeader(name, value),
  get: (ctx, name) => ctx.res.getHeader(name),
};

/** The adapter-specific parts of HTTP instrumentation. */
export interface AdapterKnowledge {
  endpointOf: EndpointOf;
  headers: ResponseHeaders;
}

/** The resolvers and per-adapter knowledge shared by every request of one app. */
export interface HttpContextShared extends AdapterKnowledge {
  resolveOrganization: RequestResolver;
  resolveUser: RequestResolver;
  onResolverError: (which: 'organization' | 'user', error: unknown) => void;
}

/** What resolvers see: the same shape on Express and Fastify. */
class RequestView implements ObservedRequest {
  constructor(private readonly ctx: HttpRequestContext) {}
  get method(): string {
    return this.ctx.req.method ?? 'GET';
  }
  get url(): string {
    return this.ctx.req.url ?? '/';
  }
  get query(): string {
    // The path is the target up to its '?': of the same length, there is none.
    const url = this.url;
    const n = this.ctx.path.length;
    return url.length === n ? '' : url.slice(n + 1);
  }
  get headers(): IncomingMessage['headers'] {
    return this.ctx.req.headers;
  }
  header(name: string): string | undefined {
    return rawHeader(this.ctx.req.rawHeaders, name);
  }
  get body(): unknown {
    return (this.ctx.raw as { body?: unknown }).body;
  }
  get user(): unknown {
    return (this.ctx.raw as { user?: unknown }).user;
  }
  get raw(): unknown {
    return this.ctx.raw;
  }
}

/**
 * The context of one HTTP request: trace ID, timing, and lazily resolved
 * organization and user (resolved on first use, as authentication and body
 * parsing happen after the request starts).
 */
export class HttpRequestContext extends RequestContext {
  readonly start = performance.now();
  /** Set once the request has been recorded, so that no second end counts it again. */
  done = false;
  /** Its method's series, whose in-flight gauge was raised for it (lowered when it ends). */
  series: MethodSeries | undefined = undefined;
  readonly socket: Socket | null;
  /** The socket's bytes written when the request began. */
  socketBytesWritten = 0;
  /** The request body's declared size; undefined for a chunked upload (see RequestHeaders). */
  declaredRequestBytes: number | undefined = 0;
  /** The socket's bytes read when the request began: read only for a chunked upload. */
  socketBytesRead = 0;
  /** The route template, where the adapter names it as the route starts (see fastify-route-hooks.ts). */
  route: string | undefined = undefined;
  /** The request before this one on its connection, while both are in flight (see ResponseEnds). */
  earlier: HttpRequestContext | undefined = undefined;
  /** What ends this request where its connection tracks it (see ResponseEnds). */
  watcher: object | undefined = undefined;

  constructor(
    traceId: string,
    /** Normalised method (a known HTTP method or OTHER). */
    readonly method: string,
    /** The request target's path as it arrived (query string cut off). */
    readonly path: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The adapter's request object (Express `Request` / Fastify `FastifyRequest`). */
    readonly raw: unknown,
    /** The adapter's response object (Express `Response` / Fastify `FastifyReply`). */
    readonly reply: unknown,
    readonly shared: HttpContextShared,
  ) {
    // Field stores only, small enough for V8 to inline where it is built; the
    // socket's counters are read apart (see startSizes in body-sizes.ts).
    super(traceId);
    this.socket = req.socket ?? null;
  }

  private view: RequestView | undefined;
  /** Resolvers that threw (or are running) are not called again for this request. */
  private blocked = 0;

  override get user(): string | undefined {
    if (this.usr === undefined && (this.blocked & USER) === 0) {
      this.usr = this.resolve(USER, this.shared.resolveUser);
    }
    return this.usr;
  }

  override set user(value: string | undefined) {
    this.usr = value;
  }

  override get organization(): string | undefined {
    // Not cached while unknown: the body that names it may not be parsed yet.
    if (this.org === undefined && (this.blocked & ORG) === 0) {
      this.org = this.resolve(ORG, this.shared.resolveOrganization);
    }
    return this.org;
  }

  override set organization(value: string | undefined) {
    this.org = value;
  }

  /** The route template that served the request, or undefined when none matched. */
  endpoint(): string | undefined {
    return this.shared.endpointOf(this);
  }

  private resolve(which: number, resolver: RequestResolver): string | undefined {
    // Blocked while running: a resolver that logs would otherwise re-enter
    // itself through the log line's context fields.
    this.blocked |= which;
    try {
      const v = resolver((this.view ??= new RequestView(this)));
      this.blocked &= ~which;
      if (v === undefined || v === null || v === '') return undefined;
      const s = typeof v === 'string' ? v : String(v);
      return s.length > MAX_RESOLVED_LENGTH ? s.slice(0, MAX_RESOLVED_LENGTH) : s;
    } catch (err) {
      this.shared.onResolverError(which === ORG ? 'organization' : 'user', err);
      return undefined;
    }
  }
}
