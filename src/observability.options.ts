import type { DestinationStream } from 'pino';
import type { RequestResolver } from './context/request-context.js';
import { DEFAULT_TRACE_ID_MAX_LENGTH } from './context/trace-id.js';
import { DEFAULT_LABEL_LIMITS } from './metrics/label-guard.js';
import type { LabelLimits } from './metrics/label-guard.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Credentials `/metrics` asks for. */
export type MetricsAuth =
  { type: 'bearer'; token: string } | { type: 'basic'; username: string; password: string };

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
}

export interface LoggingOptions {
  /** Minimum level written. */
  level?: LogLevel;
  /** `stdout`, `stderr`, a file path, or any pino destination stream. */
  destination?: 'stdout' | 'stderr' | string | DestinationStream;
  /** Write synchronously (slower; for short-lived processes and tests). */
  sync?: boolean;
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
  metrics: Required<Omit<MetricsOptions, 'auth' | 'port' | 'host'>> &
    Pick<MetricsOptions, 'auth' | 'port' | 'host'>;
  http: Required<HttpOptions>;
  trace: Required<TraceOptions>;
  logging: Required<Omit<LoggingOptions, 'redact'>> & { redact: string[] };
  labels: LabelLimits;
  organization: Required<Omit<OrganizationOptions, 'resolve'>> & { resolve: RequestResolver };
  resolveUser: RequestResolver;
}

/** A wrong option, named in the message; thrown while the application starts. */
export class ObservabilityOptionsError extends Error {
  constructor(path: string, problem: string, value?: unknown) {
    super(
      `nestjs-observability: invalid option "${path}": ${problem}` +
        (value === undefined ? '' : ` (got ${describe(value)})`),
    );
    this.name = 'ObservabilityOptionsError';
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (typeof v === 'function') return 'a function';
  if (v instanceof RegExp) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

// --- small schema helpers: each checks one value and names its path -------

type Obj = Record<string, unknown>;

const at = (path: string, key: string) => (path ? `${path}.${key}` : key);

function section(parent: Obj, key: string, path: string, known: readonly string[]): Obj {
  const v = parent[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ObservabilityOptionsError(path, 'must be an object', v);
  }
  rejectUnknown(v as Obj, path, known);
  return v as Obj;
}

function rejectUnknown(o: Obj, path: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      const hint = known.find((n) => n.toLowerCase().startsWith(k.toLowerCase().slice(0, 4)));
      throw new ObservabilityOptionsError(
        path ? `${path}.${k}` : k,
        `unknown option${hint ? `; did you mean "${path ? path + '.' : ''}${hint}"?` : ''}`,
      );
    }
  }
}

function bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean')
    throw new ObservabilityOptionsError(at(path, key), 'must be true or false', v);
  return v;
}

function str(
  o: Obj,
  key: string,
  path: string,
  dflt: string,
  check?: (s: string) => string | undefined,
): string {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || v.length === 0) {
    throw new ObservabilityOptionsError(at(path, key), 'must be a non-empty string', v);
  }
  const problem = check?.(v);
  if (problem) throw new ObservabilityOptionsError(at(path, key), problem, v);
  return v;
}

function int(o: Obj, key: string, path: string, dflt: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ObservabilityOptionsError(
      at(path, key),
      `must be an integer from ${min} to ${max}`,
      v,
    );
  }
  return v;
}

function fn(o: Obj, key: string, path: string): RequestResolver | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'function')
    throw new ObservabilityOptionsError(at(path, key), 'must be a function', v);
  return v as RequestResolver;
}

function stringRecord(
  o: Obj,
  key: string,
  path: string,
  valueCheck: (v: unknown) => boolean,
  what: string,
) {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ObservabilityOptionsError(at(path, key), 'must be an object', v);
  }
  for (const [k, val] of Object.entries(v)) {
    if (!valueCheck(val)) throw new ObservabilityOptionsError(`${at(path, key)}.${k}`, what, val);
  }
  return v as Record<string, never>;
}

const headerName = (s: string) =>
  HEADER_NAME.test(s) ? undefined : 'must be a valid HTTP header name';
const urlPath = (s: string) =>
  s.startsWith('/') && !/[\s?#]/.test(s)
    ? undefined
    : 'must start with "/" and contain no spaces, "?" or "#"';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// --- the options, one section at a time ------------------------------------

const TOP = [
  'serviceName',
  'site',
  'metrics',
  'http',
  'trace',
  'logging',
  'labels',
  'organization',
  'resolveUser',
] as const;

export function resolveOptions(input: unknown): ResolvedOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ObservabilityOptionsError(
      '(options)',
      'must be an object with at least serviceName',
      input,
    );
  }
  const o = input as Obj;
  rejectUnknown(o, '', TOP);
  if (typeof o.serviceName !== 'string' || o.serviceName.trim() === '') {
    throw new ObservabilityOptionsError(
      'serviceName',
      'is required: a non-empty string',
      o.serviceName,
    );
  }
  const serviceName = o.serviceName;
  const site = str(o, 'site', '', serviceName).trim();
  return {
    serviceName,
    site,
    metrics: resolveMetrics(section(o, 'metrics', 'metrics', METRICS_KEYS)),
    http: resolveHttp(section(o, 'http', 'http', HTTP_KEYS)),
    trace: resolveTrace(section(o, 'trace', 'trace', TRACE_KEYS)),
    logging: resolveLogging(section(o, 'logging', 'logging', LOGGING_KEYS)),
    labels: resolveLabels(section(o, 'labels', 'labels', LABEL_KEYS)),
    organization: resolveOrganization(section(o, 'organization', 'organization', ORG_KEYS)),
    resolveUser: fn(o, 'resolveUser', '') ?? defaultUserResolver,
  };
}

const METRICS_KEYS = [
  'enabled',
  'path',
  'auth',
  'port',
  'host',
  'defaultMetrics',
  'defaultLabels',
  'exemplars',
  'gzip',
  'collectorTimeoutMs',
] as const;

function resolveMetrics(m: Obj): ResolvedOptions['metrics'] {
  const p = 'metrics';
  return {
    enabled: bool(m, 'enabled', p, true),
    path: str(m, 'path', p, '/metrics', urlPath),
    auth: resolveAuth(m.auth),
    port: m.port === undefined ? undefined : int(m, 'port', p, 0, 0, 65535),
    host: m.host === undefined ? undefined : str(m, 'host', p, ''),
    defaultMetrics: bool(m, 'defaultMetrics', p, true),
    defaultLabels: stringRecord(
      m,
      'defaultLabels',
      p,
      (v) => typeof v === 'string',
      'must be a string',
    ),
    exemplars: bool(m, 'exemplars', p, true),
    gzip: bool(m, 'gzip', p, true),
    collectorTimeoutMs: int(m, 'collectorTimeoutMs', p, 2000, 1, 600_000),
  };
}

function resolveAuth(a: unknown): MetricsAuth | undefined {
  const p = 'metrics.auth';
  if (a === undefined) return undefined;
  // Never echo what was given here: it may be the secret itself.
  if (typeof a !== 'object' || a === null)
    throw new ObservabilityOptionsError(p, `must be an object (got ${typeof a})`);
  const o = a as Obj;
  if (o.type === 'bearer') {
    rejectUnknown(o, p, ['type', 'token']);
    return { type: 'bearer', token: secret(o, 'token', p) };
  }
  if (o.type === 'basic') {
    rejectUnknown(o, p, ['type', 'username', 'password']);
    const username = str(o, 'username', p, '') || missing(`${p}.username`);
    if (username.includes(':'))
      throw new ObservabilityOptionsError(`${p}.username`, 'must not contain ":"');
    return {
      type: 'basic',
      username,
      password: secret(o, 'password', p),
    };
  }
  throw new ObservabilityOptionsError(`${p}.type`, 'must be "bearer" or "basic"', o.type);
}

/** A required secret string; a wrong one is reported without its value. */
function secret(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (v === undefined || v === '') missing(`${path}.${key}`);
  if (typeof v !== 'string') {
    throw new ObservabilityOptionsError(
      `${path}.${key}`,
      `must be a string (got ${Array.isArray(v) ? 'an array' : typeof v})`,
    );
  }
  return v;
}

function missing(path: string): never {
  throw new ObservabilityOptionsError(path, 'is required');
}

const HTTP_KEYS = ['enabled', 'ignorePaths', 'unmatchedEndpoint', 'accessLog'] as const;

function resolveHttp(h: Obj): ResolvedOptions['http'] {
  const p = 'http';
  const ignore = h.ignorePaths ?? [];
  if (
    !Array.isArray(ignore) ||
    ignore.some((x) => !(x instanceof RegExp) && (typeof x !== 'string' || urlPath(x)))
  ) {
    throw new ObservabilityOptionsError(
      `${p}.ignorePaths`,
      'must be an array of paths starting with "/" or RegExps',
      ignore,
    );
  }
  return {
    enabled: bool(h, 'enabled', p, true),
    ignorePaths: ignore as (string | RegExp)[],
    unmatchedEndpoint: str(h, 'unmatchedEndpoint', p, 'unmatched'),
    accessLog: bool(h, 'accessLog', p, true),
  };
}

const TRACE_KEYS = [
  'enabled',
  'header',
  'acceptTraceparent',
  'maxLength',
  'responseHeader',
] as const;

function resolveTrace(t: Obj): ResolvedOptions['trace'] {
  const p = 'trace';
  return {
    enabled: bool(t, 'enabled', p, true),
    header: str(t, 'header', p, 'x-trace-id', headerName).toLowerCase(),
    acceptTraceparent: bool(t, 'acceptTraceparent', p, true),
    maxLength: int(t, 'maxLength', p, DEFAULT_TRACE_ID_MAX_LENGTH, 8, 128),
    responseHeader: bool(t, 'responseHeader', p, true),
  };
}

const LOGGING_KEYS = ['level', 'destination', 'sync', 'redact', 'replaceNestLogger'] as const;

function resolveLogging(l: Obj): ResolvedOptions['logging'] {
  const p = 'logging';
  const level = l.level ?? 'info';
  if (!LEVELS.includes(level as LogLevel)) {
    throw new ObservabilityOptionsError(`${p}.level`, `must be one of ${LEVELS.join(', ')}`, level);
  }
  const dest = l.destination ?? 'stdout';
  const isStream =
    typeof dest === 'object' &&
    dest !== null &&
    typeof (dest as DestinationStream).write === 'function';
  if (!isStream && (typeof dest !== 'string' || dest.length === 0)) {
    throw new ObservabilityOptionsError(
      `${p}.destination`,
      'must be "stdout", "stderr", a file path or a stream',
      dest,
    );
  }
  const redact = l.redact ?? [];
  if (!Array.isArray(redact) || redact.some((r) => typeof r !== 'string' || r.length === 0)) {
    throw new ObservabilityOptionsError(`${p}.redact`, 'must be an array of field names', redact);
  }
  return {
    level: level as LogLevel,
    destination: dest as string | DestinationStream,
    sync: bool(l, 'sync', p, false),
    redact: redact as string[],
    replaceNestLogger: bool(l, 'replaceNestLogger', p, true),
  };
}

const LABEL_KEYS = ['maxValues', 'maxValuesPerLabel', 'maxLength', 'overflowValue'] as const;

function resolveLabels(l: Obj): LabelLimits {
  const p = 'labels';
  const perLabel = stringRecord(
    l,
    'maxValuesPerLabel',
    p,
    (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1,
    'must be an integer of at least 1',
  );
  for (const k of Object.keys(perLabel)) {
    if (!LABEL_NAME.test(k))
      throw new ObservabilityOptionsError(`${p}.maxValuesPerLabel`, 'keys must be label names', k);
  }
  return {
    maxValues: int(l, 'maxValues', p, DEFAULT_LABEL_LIMITS.maxValues, 1, 1_000_000),
    maxValuesPerLabel: perLabel,
    maxLength: int(l, 'maxLength', p, DEFAULT_LABEL_LIMITS.maxLength, 8, 4096),
    overflowValue: str(l, 'overflowValue', p, DEFAULT_LABEL_LIMITS.overflowValue),
  };
}

const ORG_KEYS = ['header', 'queryParam', 'bodyField', 'resolve', 'fallback'] as const;

function resolveOrganization(o: Obj): ResolvedOptions['organization'] {
  const p = 'organization';
  const header = str(o, 'header', p, 'x-organization', headerName).toLowerCase();
  const queryParam = str(o, 'queryParam', p, 'organization');
  const bodyField = str(o, 'bodyField', p, 'organization');
  return {
    header,
    queryParam,
    bodyField,
    fallback: str(o, 'fallback', p, 'system'),
    resolve: fn(o, 'resolve', p) ?? organizationResolver(header, queryParam, bodyField),
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
    const h = req.headers[header];
    if (typeof h === 'string' && h !== '') return h;
    const q = req.url.indexOf('?');
    // Parse the query only when it can hold the parameter: most requests have none.
    if (q !== -1 && req.url.includes(needle, q)) {
      const v = new URLSearchParams(req.url.slice(q + 1)).get(queryParam);
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

/** `request.user.email ?? request.user.id` (passport and most auth guards). */
export const defaultUserResolver: RequestResolver = (req) => {
  const u = req.user as { email?: unknown; id?: unknown } | undefined | null;
  if (u === null || typeof u !== 'object') return undefined;
  if (typeof u.email === 'string') return u.email;
  if (typeof u.id === 'string' || typeof u.id === 'number') return String(u.id);
  return undefined;
};
