// Imported: the global `performance` is an accessor, a getter call on every use.
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METHODS } from 'node:http';
import type { Logger as Pino } from 'pino';
import type { TraceContext } from '../context/trace-context.js';
import { NO_TRACE } from '../context/trace-context.js';
import { activeOtelSpan } from '../context/otel.js';
import { acceptTraceId, newTraceId, traceIdFromTraceparent } from '../context/trace-id.js';
import { CATALOG } from '../metrics/catalog.js';
import type {
  CounterFamily,
  CounterSeries,
  GaugeSeries,
  HistogramFamily,
  HistogramSeries,
} from '../metrics/families.js';
import type { MetricsEndpoint } from '../metrics/metrics-endpoint.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { AccessLog, RouteText } from '../logging/access-log.js';
import type { RequestResolver } from '../context/request-context.js';
import type { AdapterKnowledge, HttpContextShared } from './http-request-context.js';
import { HttpRequestContext } from './http-request-context.js';
import { RequestHeaders } from './raw-headers.js';
import { requestBytes, responseBytes, startSizes } from './body-sizes.js';
import { WallClock } from './wall-clock.js';
import { ResponseEnds } from './response-ends.js';
import { StatusTable } from './status-table.js';

/** Status recorded for requests the client aborted before the response was complete (nginx's). */
export const CLIENT_CLOSED_REQUEST = 499;

const KNOWN_METHODS = new Set(METHODS);
const MAX_LOGGED_PATH = 512;
const ERROR_LOG_INTERVAL_MS = 60_000;
/** Path-length flags (see lengthFlags); paths this long or longer are always looked up. */
const FLAGGED_LENGTHS = 256;
const RAW = 1;
const IGNORED = 2;

/** Answers a request on raw Node objects (see `addRawRoute`). */
export type RawRouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What the HTTP instrumentation needs from the module's options, and nothing more. */
export interface HttpSettings {
  /** Record HTTP metrics and access lines. */
  enabled: boolean;
  ignorePaths: readonly (string | RegExp)[];
  unmatchedEndpoint: string;
  /** Give requests a trace ID and context. */
  traceEnabled: boolean;
  /** Lower-case trace header. */
  traceHeader: string;
  acceptTraceparent: boolean;
  /** Take the active OpenTelemetry span's trace ID (see context/otel.ts). */
  followOpenTelemetry: boolean;
  traceMaxLength: number;
  /** Echo the trace ID in the response. */
  responseHeader: boolean;
  /** Trace-ID exemplars on the latency histogram. */
  exemplars: boolean;
  /** Where the scrape is answered (when the metrics share the app's port). */
  metricsPath: string;
  resolveOrganization: RequestResolver;
  resolveUser: RequestResolver;
  fallbackOrganization: string;
}

/** The series one route's requests touch, resolved once and reused. */
interface RouteSeries {
  duration: HistogramSeries;
  requestSize: HistogramSeries;
  responseSize: HistogramSeries;
  /**
   * By status, then organization. Nested rather than one map keyed by a
   * concatenated string: a fresh string has to be built and hashed on every
   * request, the parts arrive hashed already.
   */
  requests: StatusTable<Map<string, CounterSeries>>;
  /** The route's part of its access lines, rendered at its first line. */
  text: RouteText | undefined;
}

/** What one method's requests touch: its in-flight gauge and its routes' series. */
export interface MethodSeries {
  active: GaugeSeries;
  /** By endpoint. */
  routes: Map<string, RouteSeries>;
}

/**
 * The adapter-independent core of HTTP instrumentation. Adapter hooks call
 * `begin` as the very first thing a request meets and `end` when its
 * response closes; everything per request happens here, with no Nest
 * interceptor involved (registering one costs ~50 µs per request on Node 20).
 */
export class HttpInstrumentation {
  /** By method: its in-flight gauge and its routes (see RouteSeries.requests for why nested). */
  private readonly methods = new Map<string, MethodSeries>();
  private readonly lastErrorLog = new Map<string, number>();
  private readonly rawRoutes = new Map<string, RawRouteHandler>();
  /**
   * By path length, whether a raw route (RAW) or an ignored path (IGNORED)
   * has that length: a path of another length skips the lookup, which would
   * hash the path (a fresh string per request). An array, not a Set of
   * lengths: indexing it is a load, a Set's has() a hashed lookup.
   */
  private readonly lengthFlags = new Uint8Array(FLAGGED_LENGTHS);
  private readonly clock = new WallClock();
  private readonly ends = new ResponseEnds(
    (ctx, finished) => this.end(ctx, finished),
    (err) => this.internalError('http', err),
  );
  private readonly ignoredExact: Set<string>;
  private readonly ignoredPatterns: RegExp[];
  private readonly requests: CounterFamily<'method' | 'endpoint' | 'status' | 'org'>;
  private readonly duration: HistogramFamily<'method' | 'endpoint'>;
  private readonly requestSize: HistogramFamily<'endpoint'>;
  private readonly responseSize: HistogramFamily<'endpoint'>;
  private readonly traceHeader: string;
  /** Filled by each request's header scan and read at once (begin is synchronous). */
  private readonly startHeaders: RequestHeaders;
  private readonly exemplars: boolean;
  /** Whether the trace ID is echoed on each response (set on Node's response as it starts). */
  private readonly echoTrace: boolean;
  private readonly followOtel: boolean;
  /** Whether requests get a trace ID and a context to enter. */
  readonly traceEnabled: boolean;

  constructor(
    private readonly settings: HttpSettings,
    private readonly registry: MetricsRegistry,
    private readonly trace: TraceContext,
    private readonly log: Pino,
    /** Serves the scrape when the metrics share the app's port. */
    metrics: MetricsEndpoint | undefined,
    /** Writes access lines; undefined when they are off. */
    private readonly access: AccessLog | undefined,
  ) {
    this.requests = registry.counter(CATALOG.httpRequestsTotal);
    this.duration = registry.histogram(CATALOG.httpRequestDurationSeconds);
    this.requestSize = registry.histogram(CATALOG.httpRequestSizeBytes);
    this.responseSize = registry.histogram(CATALOG.httpResponseSizeBytes);
    this.ignoredExact = new Set(
      settings.ignorePaths.filter((p): p is string => typeof p === 'string'),
    );
    for (const p of this.ignoredExact) this.flagLength(p.length, IGNORED);
    this.ignoredPatterns = settings.ignorePaths.filter((p): p is RegExp => p instanceof RegExp);
    this.traceHeader = settings.traceHeader;
    if (metrics !== undefined) {
      this.addRawRoute(settings.metricsPath, (req, res) => void metrics.handle(req, res));
    }
    this.traceEnabled = settings.traceEnabled;
    this.startHeaders = new RequestHeaders(this.traceEnabled ? settings.traceHeader : '');
    this.exemplars = settings.exemplars && this.traceEnabled;
    this.echoTrace = this.traceEnabled && settings.responseHeader;
    this.followOtel = this.traceEnabled && settings.followOpenTelemetry;
  }

  /**
   * Answers a path from the first hook, before any framework layer (global
   * prefix, guards, interceptors, body parsing), and never counts it as
   * traffic: `/metrics`, health endpoints.
   */
  addRawRoute(path: string, handler: RawRouteHandler): void {
    this.rawRoutes.set(path, handler);
    this.flagLength(path.length, RAW);
  }

  private flagLength(n: number, flag: number): void {
    if (n < FLAGGED_LENGTHS) this.lengthFlags[n]! |= flag;
  }

  /** Whether a path of length `n` may be a raw route or an ignored path. */
  private mayBe(n: number, flag: number): boolean {
    return n >= FLAGGED_LENGTHS || (this.lengthFlags[n]! & flag) !== 0;
  }

  /** The raw handler for a path, if one is registered. */
  rawRoute(path: string): RawRouteHandler | undefined {
    return this.mayBe(path.length, RAW) ? this.rawRoutes.get(path) : undefined;
  }

  /**
   * Called by a route's own hook as the route starts: names the template of
   * the route serving `req`, so that the end need not ask the adapter.
   */
  routeMatched(req: IncomingMessage, template: string): void {
    const ctx = this.ends.contextOf(req);
    if (ctx !== undefined) ctx.route = template;
  }

  /** Paths that are neither counted nor logged (they still get a trace context). */
  isIgnored(path: string): boolean {
    // Small enough for V8 to inline into the request hook; the patterns apart.
    return (
      (this.mayBe(path.length, IGNORED) && this.ignoredExact.has(path)) ||
      (this.ignoredPatterns.length !== 0 && this.matchesPattern(path))
    );
  }

  private matchesPattern(path: string): boolean {
    for (const re of this.ignoredPatterns) if (re.test(path)) return true;
    return false;
  }

  /** Builds the state shared by every request of one adapter. */
  shared(adapter: AdapterKnowledge): HttpContextShared {
    return {
      resolveOrganization: this.settings.resolveOrganization,
      resolveUser: this.settings.resolveUser,
      endpointOf: adapter.endpointOf,
      headers: adapter.headers,
      onResolverError: (which, err) => this.internalError(`resolver:${which}`, err),
    };
  }

  /**
   * Starts observing a request: trace ID, context, active gauge, and the
   * listener that records it when the response closes. The caller enters the
   * returned context. Returns undefined only if the instrumentation itself
   * failed (the request goes on unobserved).
   */
  begin(
    req: IncomingMessage,
    res: ServerResponse,
    raw: unknown,
    reply: unknown,
    shared: HttpContextShared,
    path: string,
  ): HttpRequestContext | undefined {
    try {
      // The OpenTelemetry server span, when the SDK runs: its IDs win, so
      // logs, exemplars and exported traces join on one trace ID.
      const otel = this.followOtel ? activeOtelSpan() : undefined;
      const headers = this.startHeaders.read(req.rawHeaders);
      const traceId = otel?.traceId ?? (this.traceEnabled ? this.traceIdOf(headers) : NO_TRACE);
      const m = req.method ?? 'GET';
      // GET first: Node's method strings are interned, so this is one pointer compare.
      const method = m === 'GET' || KNOWN_METHODS.has(m) ? m : 'OTHER';
      const counted = this.settings.enabled && !this.isIgnored(path);
      const ctx = new HttpRequestContext(traceId, method, path, req, res, raw, reply, shared);
      if (otel !== undefined) ctx.spanId = otel.spanId;
      if (this.echoTrace && !res.headersSent) shared.headers.set(ctx, this.traceHeader, traceId);
      if (!counted) {
        // Neither counted nor logged: it starts done.
        ctx.done = true;
        return ctx;
      }
      startSizes(ctx, headers.declaredBytes);
      // One lookup for the gauge now and the route's series at the end.
      const series = this.methodSeries(method);
      series.active.value++;
      ctx.series = series;
      this.ends.watch(ctx, req, res);
      return ctx;
    } catch (err) {
      this.internalError('http', err);
      return undefined;
    }
  }

  private traceIdOf(headers: RequestHeaders): string {
    return (
      acceptTraceId(headers.trace, this.settings.traceMaxLength) ??
      (this.settings.acceptTraceparent ? traceIdFromTraceparent(headers.traceparent) : undefined) ??
      newTraceId()
    );
  }

  private methodSeries(method: string): MethodSeries {
    // Small enough for V8 to inline into the request hook; a first sighting apart.
    return this.methods.get(method) ?? this.newMethodSeries(method);
  }

  private newMethodSeries(method: string): MethodSeries {
    const s: MethodSeries = {
      active: this.registry.gauge(CATALOG.httpActiveRequests).seriesOf([method]),
      routes: new Map(),
    };
    this.methods.set(method, s);
    return s;
  }

  /**
   * Listens for finished responses on Node's diagnostics channel (see
   * ResponseEnds); called as the adapter's hooks are installed.
   */
  open(): void {
    this.ends.subscribe();
  }

  /** Stops listening (the app shuts down). */
  close(): void {
    this.ends.unsubscribe();
  }

  /**
   * Records a finished or aborted request exactly once; `finished` says
   * whether its response was sent in full.
   */
  end(ctx: HttpRequestContext, finished: boolean): void {
    if (ctx.done) return;
    ctx.done = true;
    let status = CLIENT_CLOSED_REQUEST;
    let seconds = 0;
    let time = 0;
    let endpoint = this.settings.unmatchedEndpoint;
    let known: string | undefined;
    let route: RouteSeries | undefined;
    try {
      const res = ctx.res;
      const t = performance.now();
      seconds = (t - ctx.start) / 1000;
      // Epoch milliseconds, for an exemplar or an access line only.
      if (this.exemplars || this.access !== undefined) time = this.clock.at(t);
      status = finished ? res.statusCode : CLIENT_CLOSED_REQUEST;
      endpoint = ctx.endpoint() ?? endpoint;
      // resolved once: an unknown organization stays unknown now the request is over
      known = ctx.organization;
      const org = known ?? this.settings.fallbackOrganization;
      const series = ctx.series;
      if (series !== undefined) series.active.value--;

      // The lookups inline; a first sighting builds its series apart.
      const bySeries = series ?? this.methodSeries(ctx.method);
      route = bySeries.routes.get(endpoint) ?? this.newRoute(bySeries, ctx.method, endpoint);
      const counter =
        route.requests.get(status)?.get(org) ??
        this.newRequestCounter(route, ctx.method, endpoint, status, org);
      counter.value++;
      route.duration.observe(seconds, this.exemplars ? ctx.traceId : undefined, time);
      // A body sent without a length over HTTP/2 has no size to observe (see body-sizes.ts).
      const received = requestBytes(ctx);
      if (received !== undefined) route.requestSize.observe(received);
      const sent = responseBytes(ctx);
      if (sent !== undefined) route.responseSize.observe(sent);
    } catch (err) {
      this.internalError('http', err);
    }
    // apart: a failure in the metrics above must not cost the request its line
    if (this.access === undefined) return;
    try {
      this.accessLog(ctx, route, known, endpoint, status, seconds, time || Date.now());
    } catch (err) {
      this.internalError('http:access-log', err);
    }
  }

  private newRoute(series: MethodSeries, method: string, endpoint: string): RouteSeries {
    const ep = [endpoint];
    const route: RouteSeries = {
      duration: this.duration.seriesOf([method, endpoint]),
      requestSize: this.requestSize.seriesOf(ep),
      responseSize: this.responseSize.seriesOf([endpoint]),
      requests: new StatusTable(),
      text: undefined,
    };
    // Cache only routes whose endpoint was admitted under its cap, so a flood of
    // distinct values cannot grow this map.
    if (ep[0] === endpoint) series.routes.set(endpoint, route);
    return route;
  }

  private newRequestCounter(
    route: RouteSeries,
    method: string,
    endpoint: string,
    status: number,
    org: string,
  ): CounterSeries {
    let byOrg = route.requests.get(status);
    const values = [method, endpoint, String(status), org];
    const s = this.requests.seriesOf(values);
    if (values[1] === endpoint && values[3] === org) {
      if (byOrg === undefined) route.requests.set(status, (byOrg = new Map()));
      byOrg.set(org, s);
    }
    return s;
  }

  private accessLog(
    ctx: HttpRequestContext,
    route: RouteSeries | undefined,
    organization: string | undefined,
    endpoint: string,
    status: number,
    seconds: number,
    time: number,
  ): void {
    const access = this.access!;
    const method = ctx.req.method ?? 'GET';
    let path = ctx.path;
    if (path.length > MAX_LOGGED_PATH) path = path.slice(0, MAX_LOGGED_PATH);
    // Rendered once per route; not for OTHER, whose raw methods vary.
    let text: RouteText | undefined;
    if (route !== undefined && method === ctx.method) {
      text = route.text ??= access.routeText(method, endpoint);
    }
    access.write(status >= 500 ? 'error' : status === CLIENT_CLOSED_REQUEST ? 'warn' : 'info', {
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      user: ctx.user,
      organization,
      fields: ctx.fields,
      method,
      path,
      endpoint,
      status,
      seconds,
      time,
      text,
    });
  }

  /**
   * Counts and logs a failure inside the instrumentation; the request goes on.
   * Logged at most once a minute per component, so a broken resolver cannot
   * flood the logs; the counter sees every occurrence.
   */
  internalError(component: string, err: unknown): void {
    try {
      this.registry.countInternalError(component);
      const now = Date.now();
      if (now - (this.lastErrorLog.get(component) ?? -Infinity) < ERROR_LOG_INTERVAL_MS) return;
      this.lastErrorLog.set(component, now);
      this.log.error(
        { err, component },
        'nestjs-observability: instrumentation error (logged once a minute)',
      );
    } catch {
      // Never let reporting an error become one.
    }
  }

  /** The trace context service, for adapter hooks. */
  get context(): TraceContext {
    return this.trace;
  }
}
