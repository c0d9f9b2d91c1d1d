import { performance } from 'node:perf_hooks';
import dc from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from '../context/request-context.js';
import type { TraceContext } from '../context/trace-context.js';
import { newTraceId } from '../context/trace-id.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { CallOutcome, CallRecorder } from './call-recorder.js';
import type { IntegrationMatcher, MatchedCall } from './integration-matcher.js';
import type { ResolvedIntegration } from './integrations.options.js';

/** What an explicit `Integrations.call()` puts in scope: its calls are recorded once, by it. */
export interface ExplicitCallScope {
  integration: ResolvedIntegration | undefined;
}

interface Pending {
  match: MatchedCall | undefined;
  start: number;
  ctx: RequestContext | undefined;
  statusCode?: number;
}

// Shapes of the channel messages (Node's `undici` and `http` client channels).
interface UndiciRequest {
  origin: string | URL;
  path: string;
  method: string;
  headers: string | string[] | undefined;
  addHeader(name: string, value: string): unknown;
}
interface HttpClientRequest {
  protocol: string;
  host: string;
  path: string;
  method: string;
  headersSent: boolean;
  getHeader(name: string): unknown;
  setHeader(name: string, value: string): unknown;
}

const W3C_TRACE_ID = /^[0-9a-f]{32}$/;
/** Marks requests that already got trace headers (two apps in one process, or the app set them). */
const withTraceHeaders = new WeakSet<object>();

/**
 * Records outbound HTTP calls from Node's diagnostics channels, the seam
 * Node publishes for this: `undici:request:*` for the built-in `fetch` (and
 * the undici package), `http.client.*` for `node:http`/`node:https` (axios,
 * `@nestjs/axios`, got, ...). Adds the trace headers before the request is
 * sent where the channel allows it (`http.client.request.created` exists
 * from Node 22.12; on Node 20 node:http calls are recorded but not tagged).
 */
export class OutboundChannels {
  private readonly pending = new WeakMap<object, Pending>();
  private readonly subscriptions: [string, (message: unknown) => void][] = [];
  private warnedNoCreated = false;

  constructor(
    private readonly matcher: IntegrationMatcher,
    private readonly recorder: CallRecorder,
    private readonly trace: TraceContext,
    private readonly scope: AsyncLocalStorage<ExplicitCallScope>,
    private readonly registry: MetricsRegistry,
    private readonly traceHeader: string,
    private readonly onNoHttpHeaderHook: () => void,
  ) {}

  subscribe(): void {
    this.on('undici:request:create', (m: { request: UndiciRequest }) =>
      this.undiciCreate(m.request),
    );
    this.on(
      'undici:request:headers',
      (m: { request: object; response: { statusCode: number } }) => {
        const p = this.pending.get(m.request);
        if (p) p.statusCode = m.response.statusCode;
      },
    );
    this.on('undici:request:trailers', (m: { request: object }) => this.finish(m.request, {}));
    this.on('undici:request:error', (m: { request: object; error: unknown }) =>
      this.finish(m.request, { error: m.error }),
    );
    this.on('http.client.request.created', (m: { request: HttpClientRequest }) =>
      this.httpStart(m.request, true),
    );
    this.on('http.client.request.start', (m: { request: HttpClientRequest }) => {
      if (!this.pending.has(m.request)) this.httpStart(m.request, false);
    });
    this.on(
      'http.client.response.finish',
      (m: { request: object; response: { statusCode?: number } }) =>
        this.finish(m.request, { statusCode: m.response.statusCode }),
    );
    this.on('http.client.request.error', (m: { request: object; error: unknown }) =>
      this.finish(m.request, { error: m.error }),
    );
  }

  unsubscribe(): void {
    for (const [name, fn] of this.subscriptions) dc.unsubscribe(name, fn);
    this.subscriptions.length = 0;
  }

  private on<M>(name: string, handler: (message: M) => void): void {
    const fn = (message: unknown) => {
      try {
        handler(message as M);
      } catch {
        // Never let instrumentation break the app's call.
        this.registry.countInternalError('integrations');
      }
    };
    dc.subscribe(name, fn);
    this.subscriptions.push([name, fn]);
  }

  private undiciCreate(request: UndiciRequest): void {
    const o = this.matcher.parseOrigin(String(request.origin));
    if (o === undefined) return;
    const match = this.matcher.match({ ...o, path: request.path, method: request.method });
    const explicit = this.scope.getStore();
    if (this.shouldTag(match, explicit) && !withTraceHeaders.has(request)) {
      const headers = traceHeaders(this.trace.current(), this.traceHeader);
      if (headers !== undefined && !undiciHasHeader(request.headers, this.traceHeader)) {
        for (const [k, v] of headers) request.addHeader(k, v);
        withTraceHeaders.add(request);
      }
    }
    this.track(request, explicit === undefined ? match : undefined);
  }

  private httpStart(request: HttpClientRequest, canTag: boolean): void {
    const host = request.getHeader('host');
    const hostPort = typeof host === 'string' && host !== '' ? host : request.host;
    const origin = `${request.protocol}//${hostPort}`;
    const match = this.matcher.match({
      origin,
      hostname: request.host,
      path: request.path,
      method: request.method,
    });
    const explicit = this.scope.getStore();
    if (this.shouldTag(match, explicit)) {
      if (!canTag || request.headersSent) {
        if (!this.warnedNoCreated) {
          this.warnedNoCreated = true;
          this.onNoHttpHeaderHook();
        }
      } else if (
        !withTraceHeaders.has(request) &&
        request.getHeader(this.traceHeader) === undefined
      ) {
        const headers = traceHeaders(this.trace.current(), this.traceHeader);
        if (headers !== undefined) {
          for (const [k, v] of headers) request.setHeader(k, v);
          withTraceHeaders.add(request);
        }
      }
    }
    this.track(request, explicit === undefined ? match : undefined);
  }

  private shouldTag(
    match: MatchedCall | undefined,
    explicit: ExplicitCallScope | undefined,
  ): boolean {
    if (match !== undefined) return match.integration.propagateTrace;
    return explicit?.integration?.propagateTrace ?? false;
  }

  /** Starts timing a call this module records (not one an explicit call records itself). */
  private track(request: object, match: MatchedCall | undefined): void {
    if (match === undefined) return;
    this.pending.set(request, { match, start: performance.now(), ctx: this.trace.current() });
  }

  private finish(request: object, outcome: CallOutcome): void {
    const p = this.pending.get(request);
    if (p === undefined || p.match === undefined) return;
    this.pending.delete(request);
    const { integration, endpoint } = p.match;
    this.recorder.record(
      integration.name,
      endpoint,
      (performance.now() - p.start) / 1000,
      outcome.error === undefined ? { statusCode: outcome.statusCode ?? p.statusCode } : outcome,
      integration.clientErrorsAreSuccess,
      p.ctx,
    );
  }
}

/** `[header, value]` pairs that carry the current trace, or undefined outside any context. */
export function traceHeaders(
  ctx: RequestContext | undefined,
  traceHeader: string,
): [string, string][] | undefined {
  if (ctx === undefined) return undefined;
  const out: [string, string][] = [[traceHeader, ctx.traceId]];
  // traceparent needs a W3C trace ID; IDs in other formats travel in the trace header only.
  if (W3C_TRACE_ID.test(ctx.traceId)) {
    out.push(['traceparent', `00-${ctx.traceId}-${newTraceId().slice(0, 16)}-01`]);
  }
  return out;
}

function undiciHasHeader(headers: string | string[] | undefined, name: string): boolean {
  if (headers === undefined) return false;
  if (typeof headers === 'string')
    return (
      headers.toLowerCase().includes(`\r\n${name}:`) || headers.toLowerCase().startsWith(`${name}:`)
    );
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === name) return true;
  return false;
}
