/**
 * What an organization or user resolver sees of a request, the same on
 * Express and Fastify.
 */
export interface ObservedRequest {
  readonly method: string;
  /** The raw request target, query string included. */
  readonly url: string;
  /**
   * The query string (after `?`; '' when there is none), where the adapter
   * knows it without searching `url` again.
   */
  readonly query?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * One header's value (`name` in lower case; repeats joined with ", "), read
   * without building `headers`: cheaper, for a resolver that needs one header.
   */
  header?(name: string): string | undefined;
  /** The parsed body once a body parser ran, else undefined. */
  readonly body: unknown;
  /** Whatever authentication put on `request.user`. */
  readonly user: unknown;
  /** The adapter's own request object (Express `Request` or Fastify `FastifyRequest`). */
  readonly raw: unknown;
}

export type RequestResolver = (request: ObservedRequest) => string | undefined | null;

/** Extra structured fields for every later log line of the same context. */
export type ContextFields = Record<string, unknown>;

/**
 * The observability context of one request or job: its trace ID, and the
 * organization and user it acts for. Lives in AsyncLocalStorage, so it is
 * reachable anywhere in the request's async call chain.
 */
export class RequestContext {
  protected org: string | undefined;
  protected usr: string | undefined;
  /** Fields added by app code (`doctype`, `docname`, ...) for later log lines. */
  fields: ContextFields | undefined;
  /** The OpenTelemetry span this work started in, when the SDK runs. */
  spanId: string | undefined;

  constructor(
    readonly traceId: string,
    organization?: string,
    user?: string,
  ) {
    this.org = organization;
    this.usr = user;
  }

  /** The organization this work acts for, if known. */
  get organization(): string | undefined {
    return this.org;
  }

  set organization(value: string | undefined) {
    this.org = value;
  }

  /** The authenticated user (email or id), if known. */
  get user(): string | undefined {
    return this.usr;
  }

  set user(value: string | undefined) {
    this.usr = value;
  }

  /** Adds fields to every later log line of this context. */
  assign(fields: ContextFields): void {
    this.fields = { ...this.fields, ...fields };
  }
}
