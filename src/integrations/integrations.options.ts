import {
  array,
  bool,
  custom,
  fail,
  int,
  object,
  optional,
  recordOf,
  resolveWith,
} from '../options/schema.js';
import type { ObservableBreaker } from './breakers.js';

/** A circuit breaker the module builds (with cockatiel) for one integration. */
export interface BreakerOptions {
  /** Consecutive failed calls that open the breaker (default 5). */
  consecutiveFailures?: number;
  /** How long it stays open before one trial call is let through, in ms (default 30000). */
  halfOpenAfterMs?: number;
}

/** One external API the app calls. */
export interface IntegrationConfig {
  /** Calls whose URL starts with this belong to the integration; `Integrations.fetch()` resolves relative paths against it. */
  baseUrl?: string;
  /** Host names whose calls belong to the integration: exact, or `*.example.com`. */
  hosts?: string[];
  /** Route templates for the `endpoint` label, relative to the path of `baseUrl`: `/v1/customers/:id`, `/files/*`. */
  routes?: string[];
  /** Count 4xx responses as `success` (default false: any 4xx or 5xx is an error). */
  clientErrorsAreSuccess?: boolean;
  /** Send the current trace ID as `X-Trace-ID` (the core's trace header) and W3C `traceparent` (default true). */
  propagateTrace?: boolean;
  /** A breaker for calls made through `Integrations.call()` / `fetch()`: options for one the module builds, or your own cockatiel or opossum breaker to observe. */
  breaker?: BreakerOptions | ObservableBreaker;
}

export interface IntegrationsObservabilityOptions {
  /** The integrations, by name (the `integration` label). */
  integrations?: Record<string, IntegrationConfig>;
  /** Record calls to hosts no integration claims under this name (off by default; their endpoint label carries the host). */
  otherHosts?: string | false;
  /** Record outbound calls seen on Node's HTTP client diagnostics channels (fetch, node:http, axios) without code changes (default true). */
  automatic?: boolean;
  /** One WARN line per failed call, with integration, endpoint, duration_ms and error_type (default true). */
  logFailures?: boolean;
}

export interface ResolvedIntegration {
  readonly name: string;
  /** `https://api.example.com` (no trailing slash), when configured by baseUrl. */
  readonly origin?: string;
  /** Path prefix of baseUrl without trailing slash ('' for none). */
  readonly pathPrefix: string;
  readonly baseUrl?: string;
  readonly hosts: readonly string[];
  readonly routes: readonly string[];
  readonly clientErrorsAreSuccess: boolean;
  readonly propagateTrace: boolean;
  readonly breaker?: Required<BreakerOptions> | ObservableBreaker;
}

export interface ResolvedIntegrationsOptions {
  integrations: ResolvedIntegration[];
  otherHosts: string | false;
  automatic: boolean;
  logFailures: boolean;
}

const HOST = /^(\*\.)?[a-z0-9.-]+$/i;

function isBreakerInstance(v: object): v is ObservableBreaker {
  return 'execute' in v || 'fire' in v || 'onStateChange' in v;
}

const breakerOptions = object<BreakerOptions>()({
  consecutiveFailures: int(5, 1),
  halfOpenAfterMs: int(30_000, 1),
});

const integration = object<IntegrationConfig>()({
  baseUrl: optional(
    custom((v, path) => {
      let url: URL | undefined;
      try {
        url = typeof v === 'string' ? new URL(v) : undefined;
      } catch {
        url = undefined;
      }
      // Never echo a URL with credentials in it.
      if (url && (url.username || url.password)) return fail(path, 'must not carry credentials');
      if (!url || !/^https?:$/.test(url.protocol)) return fail(path, 'must be an http(s) URL', v);
      return url;
    }),
  ),
  hosts: array<string>(
    (s) => typeof s === 'string' && HOST.test(s),
    'must be an array of host names',
  ),
  routes: array<string>(
    (s) => typeof s === 'string' && s.startsWith('/'),
    'must be an array of paths starting with "/"',
  ),
  clientErrorsAreSuccess: bool(false),
  propagateTrace: bool(true),
  breaker: optional(
    custom((v, path): Required<BreakerOptions> | ObservableBreaker =>
      typeof v === 'object' && v !== null && isBreakerInstance(v)
        ? v
        : breakerOptions.parse(v, path),
    ),
  ),
});

const schema = object<IntegrationsObservabilityOptions>()({
  integrations: recordOf((v, path, name): ResolvedIntegration => {
    const c = integration.parse(v, path);
    if (c.baseUrl === undefined && c.hosts.length === 0) {
      fail(path, 'needs baseUrl or hosts, so that its calls can be recognised');
    }
    return {
      name,
      origin: c.baseUrl?.origin,
      pathPrefix: c.baseUrl?.pathname.replace(/\/+$/, '') ?? '',
      baseUrl: (v as IntegrationConfig).baseUrl,
      hosts: c.hosts.map((h) => h.toLowerCase()),
      routes: c.routes,
      clientErrorsAreSuccess: c.clientErrorsAreSuccess,
      propagateTrace: c.propagateTrace,
      breaker: c.breaker,
    };
  }),
  otherHosts: custom<string | false>(
    (v, path) =>
      v === false || (typeof v === 'string' && v !== '')
        ? (v as string | false)
        : fail(path, 'must be false or a non-empty name', v),
    () => false,
  ),
  automatic: bool(true),
  logFailures: bool(true),
});

export function resolveIntegrationsOptions(
  input: IntegrationsObservabilityOptions = {},
): ResolvedIntegrationsOptions {
  return resolveWith(schema, input, 'integrations');
}
