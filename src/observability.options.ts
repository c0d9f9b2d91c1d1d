import type { DestinationStream } from 'pino';
import type { Registry as PromRegistry } from 'prom-client';
import type { RequestResolver } from './context/request-context.js';
import { DEFAULT_TRACE_ID_MAX_LENGTH } from './context/trace-id.js';
import { DEFAULT_LABEL_LIMITS } from './metrics/label-guard.js';
import type { HttpSettings } from './http/http-instrumentation.js';
import type { LabelLimits } from './metrics/label-guard.js';
import type { MetricsAuth } from './metrics/metrics-endpoint.js';
import {
  array,
  bool,
  custom,
  fail,
  fn,
  headerName,
  int,
  map,
  object,
  oneOf,
  optional,
  record,
  resolveWith,
  secret,
  str,
  urlPath,
} from './options/schema.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export type { MetricsAuth };

export interface MetricsOptions {
  /** Serve and collect metrics at all. */
  enabled?: boolean;
  /** Path of the scrape endpoint; never changed by a global prefix. */
  path?: string;
  /** Require a bearer token or basic credentials (401 otherwise). */
  auth?: MetricsAuth;
  /** Serve metrics on this separate port instead of the app's own. */
  port?: number;
  /** Interface for the separate port (default: all). */
  host?: string;
  /** Include prom-client's default process and Node.js metrics. */
  defaultMetrics?: boolean;
  /** Labels added to every exposed sample. */
  defaultLabels?: Record<string, string>;
  /** Trace-ID exemplars on the request latency histogram (OpenMetrics scrapes only). */
  exemplars?: boolean;
  /** Gzip the exposition when the scraper accepts it. */
  gzip?: boolean;
  /** Time limit for each scrape-time collector (queue depths, pool gauges), in ms. */
  collectorTimeoutMs?: number;
  /**
   * Expose every catalog family, also those of integrations that are not
   * installed (as empty `# TYPE` blocks). Default false: a family shows once
   * its recorder is installed or it has a sample.
   */
  exposeAllFamilies?: boolean;
  /**
   * prom-client registries the app already has, served on this module's
   * endpoint next to the catalog: `'global'` is prom-client's global registry
   * (where `@willsoto/nestjs-prometheus` and most libraries register). A
   * metric whose name is the module's own stops start-up.
   */
  registries?: (PromRegistry | 'global')[];
  /**
   * Run under Node's cluster module or PM2 in cluster mode: whichever
   * process gets a scrape answers for all of them, counters and histograms
   * summed, gauges by their cluster rule (docs/scale-out.md).
   */
  cluster?: boolean | ClusterOptions;
}

export interface ClusterOptions {
  /**
   * Directory the processes share, one Unix socket each (default: one per
   * service name and parent process under the OS temp directory).
   */
  dir?: string;
  /** How long a scrape waits for each other process, in ms (default 2000). */
  timeoutMs?: number;
}

export interface HttpOptions {
  /** Record HTTP metrics and access logs. */
  enabled?: boolean;
  /** Raw paths (exact strings or patterns) that are neither counted nor logged. */
  ignorePaths?: (string | RegExp)[];
  /** The `endpoint` value of every request that matched no route. */
  unmatchedEndpoint?: string;
  /** One JSON access log line per request. */
  accessLog?: boolean;
}

export interface TraceOptions {
  /** Trace IDs and the request context at all (off: metrics only, no ID, no header). */
  enabled?: boolean;
  /** Request and response header that carries the trace ID. */
  header?: string;
  /** Take the trace ID from a W3C `traceparent` header when the trace header is absent. */
  acceptTraceparent?: boolean;
  /** Longest incoming trace ID accepted; longer or unsafe ones are replaced. */
  maxLength?: number;
  /** Echo the trace ID in the response header. */
  responseHeader?: boolean;
  /**
   * When the OpenTelemetry SDK runs in the app, take the trace ID of the
   * active span (the HTTP server span) and add `span_id` to log lines, so
   * logs, exemplars and traces join on one ID. Nothing of OpenTelemetry is
   * loaded; without it this does nothing.
   */
  openTelemetry?: boolean;
}

export interface LoggingOptions {
  /** Minimum level written. */
  level?: LogLevel;
  /** `stdout`, `stderr`, a file path, or any pino destination stream. */
  destination?: 'stdout' | 'stderr' | string | DestinationStream;
  /** Write synchronously (slower; for short-lived processes and tests). */
  sync?: boolean;
  /**
   * Most characters held in memory while the destination is slow or failing
   * (a full disk, a stuck pipe); further lines are dropped and counted in
   * `observability_log_lines_dropped_total{reason="buffer_full"}`.
   */
  bufferLimit?: number;
  /** Extra field names to redact, in addition to authorization, cookie, password, token, secret... */
  redact?: string[];
  /** Install the JSON logger as Nest's application logger. */
  replaceNestLogger?: boolean;
}

export interface LabelOptions {
  /** Distinct values per label per metric before new values collapse. */
  maxValues?: number;
  /** Per-label overrides of `maxValues`, e.g. `{ endpoint: 2000 }`. */
  maxValuesPerLabel?: Record<string, number>;
  /** Longer label values are cut to this many characters. */
  maxLength?: number;
  /** The value that every value past a cap collapses into. */
  overflowValue?: string;
}

export interface OrganizationOptions {
  /** Request header that names the organization. */
  header?: string;
  /** Query parameter that names the organization. */
  queryParam?: string;
  /** Body field that names the organization. */
  bodyField?: string;
  /** Your own resolver; replaces header/query/body lookup. */
  resolve?: RequestResolver;
  /** `org` label value when no organization is known (the spec's "system"). */
  fallback?: string;
}

export interface ObservabilityModuleOptions {
  /** Name of this service: the `service` field of every log line. */
  serviceName: string;
  /** The spec's `site` log field. */
  site?: string;
  metrics?: MetricsOptions;
  http?: HttpOptions;
  trace?: TraceOptions;
  logging?: LoggingOptions;
  labels?: LabelOptions;
  organization?: OrganizationOptions;
  /** Resolves the `user` log field; default `request.user.email ?? request.user.id`. */
  resolveUser?: RequestResolver;
}

/** Options after defaults, as the rest of the library reads them. */
export interface ResolvedOptions {
  serviceName: string;
  site: string;
  metrics: Required<Omit<MetricsOptions, 'auth' | 'port' | 'host' | 'cluster'>> &
    Pick<MetricsOptions, 'auth' | 'port' | 'host'> & {
      cluster: false | { dir?: string; timeoutMs: number };
    };
  http: Required<HttpOptions>;
  trace: Required<TraceOptions>;
  logging: Required<Omit<LoggingOptions, 'redact'>> & { redact: string[] };
  labels: LabelLimits;
  organization: Required<Omit<OrganizationOptions, 'resolve'>> & { resolve: RequestResolver };
  resolveUser: RequestResolver;
}

export { ObservabilityOptionsError } from './options/schema.js';

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const clusterOptions = object<ClusterOptions>()({
  dir: optional(str('')),
  timeoutMs: int(2000, 1, 60_000),
});

const metrics = object<MetricsOptions>()({
  enabled: bool(true),
  path: str('/metrics', urlPath),
  auth: optional(custom(resolveAuth)),
  port: optional(int(0, 0, 65535)),
  host: optional(str('')),
  defaultMetrics: bool(true),
  defaultLabels: record<string>((v) => typeof v === 'string', 'must be a string'),
  exemplars: bool(true),
  gzip: bool(true),
  collectorTimeoutMs: int(2000, 1, 600_000),
  exposeAllFamilies: bool(false),
  registries: array<PromRegistry | 'global'>(
    (r) =>
      r === 'global' ||
      (typeof r === 'object' &&
        r !== null &&
        typeof (r as PromRegistry).getMetricsAsJSON === 'function'),
    "must be an array of prom-client registries or 'global'",
  ),
  cluster: custom(
    (v, path) => (v === false ? false : clusterOptions.parse(v === true ? {} : v, path)),
    () => false as const,
  ),
});

/** Never echoes what was given here: it may be the secret itself. */
function resolveAuth(a: unknown, path: string): MetricsAuth {
  if (typeof a !== 'object' || a === null) return fail(path, `must be an object (got ${typeof a})`);
  const type = (a as { type?: unknown }).type;
  if (type === 'bearer') return bearer.parse(a, path);
  if (type === 'basic') return basic.parse(a, path);
  return fail(`${path}.type`, 'must be "bearer" or "basic"', type);
}
const bearer = object<Extract<MetricsAuth, { type: 'bearer' }>>()({
  type: custom(() => 'bearer' as const),
  token: secret(),
});
const basic = object<Extract<MetricsAuth, { type: 'basic' }>>()({
  type: custom(() => 'basic' as const),
  username: custom((v, path) => {
    if (typeof v !== 'string' || v === '') return fail(path, 'is required');
    return v.includes(':') ? fail(path, 'must not contain ":"') : v;
  }),
  password: secret(),
});

const http = object<HttpOptions>()({
  enabled: bool(true),
  ignorePaths: array<string | RegExp>(
    (x) => x instanceof RegExp || (typeof x === 'string' && urlPath(x) === undefined),
    'must be an array of paths starting with "/" or RegExps',
  ),
  unmatchedEndpoint: str('unmatched'),
  accessLog: bool(true),
});

const trace = object<TraceOptions>()({
  enabled: bool(true),
  header: map(str('x-trace-id', headerName), (h) => h.toLowerCase()),
  acceptTraceparent: bool(true),
  maxLength: int(DEFAULT_TRACE_ID_MAX_LENGTH, 8, 128),
  responseHeader: bool(true),
  openTelemetry: bool(true),
});

const logging = object<LoggingOptions>()({
  level: oneOf(LEVELS, 'info'),
  destination: custom(
    (d, path) => {
      const isStream =
        typeof d === 'object' && d !== null && typeof (d as DestinationStream).write === 'function';
      if (isStream || (typeof d === 'string' && d.length > 0))
        return d as string | DestinationStream;
      return fail(path, 'must be "stdout", "stderr", a file path or a stream', d);
    },
    () => 'stdout',
  ),
  sync: bool(false),
  bufferLimit: int(8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  redact: array<string>(
    (r) => typeof r === 'string' && r.length > 0,
    'must be an array of field names',
  ),
  replaceNestLogger: bool(true),
});

const labels = object<LabelOptions>()({
  maxValues: int(DEFAULT_LABEL_LIMITS.maxValues, 1, 1_000_000),
  maxValuesPerLabel: record<number>(
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1,
    'must be an integer of at least 1',
    { ok: (k) => LABEL_NAME.test(k), what: 'keys must be label names' },
  ),
  maxLength: int(DEFAULT_LABEL_LIMITS.maxLength, 8, 4096),
  overflowValue: str(DEFAULT_LABEL_LIMITS.overflowValue),
});

const organization = map(
  object<OrganizationOptions>()({
    header: map(str('x-organization', headerName), (h) => h.toLowerCase()),
    queryParam: str('organization'),
    bodyField: str('organization'),
    resolve: fn<RequestResolver>(),
    fallback: str('system'),
  }),
  (o) => ({
    ...o,
    resolve: o.resolve ?? organizationResolver(o.header, o.queryParam, o.bodyField),
  }),
);

const root = object<ObservabilityModuleOptions>()({
  serviceName: custom((v, path) =>
    typeof v === 'string' && v.trim() !== '' ? v : fail(path, 'is required: a non-empty string', v),
  ),
  site: optional(str('')),
  metrics,
  http,
  trace,
  logging,
  labels,
  organization,
  resolveUser: fn<RequestResolver>(),
});

export function resolveOptions(input: unknown): ResolvedOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('(options)', 'must be an object with at least serviceName', input);
  }
  const o = resolveWith(root, input);
  return {
    ...o,
    site: (o.site ?? o.serviceName).trim(),
    resolveUser: o.resolveUser ?? defaultUserResolver,
  };
}

/** Header first, then query parameter, then body field. */
export function organizationResolver(
  header: string,
  queryParam: string,
  bodyField: string,
): RequestResolver {
  const needle = queryParam + '=';
  return (req) => {
    const h = req.header !== undefined ? req.header(header) : req.headers[header];
    if (typeof h === 'string' && h !== '') return h;
    const query = req.query ?? queryOf(req.url);
    // Parse the query only when it can hold the parameter: most requests have none.
    if (query !== '' && query.includes(needle)) {
      const v = new URLSearchParams(query).get(queryParam);
      if (v) return v;
    }
    const body = req.body as Record<string, unknown> | undefined;
    if (body !== null && typeof body === 'object') {
      const v = body[bodyField];
      if (typeof v === 'string' && v !== '') return v;
    }
    return undefined;
  };
}

/** The part of a request target after its `?`; '' when there is none. */
function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/** `request.user.email ?? request.user.id` (passport and most auth guards). */
export const defaultUserResolver: RequestResolver = (req) => {
  const u = req.user as { email?: unknown; id?: unknown } | undefined | null;
  if (u === null || typeof u !== 'object') return undefined;
  if (typeof u.email === 'string') return u.email;
  if (typeof u.id === 'string' || typeof u.id === 'number') return String(u.id);
  return undefined;
};

/** The part of the options the HTTP instrumentation reads. @internal */
export function httpSettings(o: ResolvedOptions): HttpSettings {
  return {
    enabled: o.http.enabled,
    ignorePaths: o.http.ignorePaths,
    unmatchedEndpoint: o.http.unmatchedEndpoint,
    traceEnabled: o.trace.enabled,
    traceHeader: o.trace.header,
    acceptTraceparent: o.trace.acceptTraceparent,
    followOpenTelemetry: o.trace.openTelemetry,
    traceMaxLength: o.trace.maxLength,
    responseHeader: o.trace.responseHeader,
    exemplars: o.metrics.exemplars,
    metricsPath: o.metrics.path,
    resolveOrganization: o.organization.resolve,
    resolveUser: o.resolveUser,
    fallbackOrganization: o.organization.fallback,
  };
}
