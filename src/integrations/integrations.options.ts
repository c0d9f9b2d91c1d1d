import { ObservabilityOptionsError } from '../observability.options.js';
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

const TOP = ['integrations', 'otherHosts', 'automatic', 'logFailures'];
const KEYS = ['baseUrl', 'hosts', 'routes', 'clientErrorsAreSuccess', 'propagateTrace', 'breaker'];
const HOST = /^(\*\.)?[a-z0-9.-]+$/i;

const fail = (path: string, problem: string, value?: unknown): never => {
  throw new ObservabilityOptionsError(path, problem, value);
};

function unknownKeys(o: object, known: string[], path: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) fail(`${path}.${k}`, 'unknown option');
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return typeof v === 'boolean' ? v : fail(path, 'must be true or false', v);
}

function strings(v: unknown, path: string, check: (s: string) => boolean, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !check(s))) fail(path, what, v);
  return v as string[];
}

function isBreakerInstance(v: object): v is ObservableBreaker {
  return 'execute' in v || 'fire' in v || 'onStateChange' in v;
}

function resolveBreaker(v: unknown, path: string): ResolvedIntegration['breaker'] {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) return fail(path, 'must be an object', v);
  if (isBreakerInstance(v)) return v;
  unknownKeys(v, ['consecutiveFailures', 'halfOpenAfterMs'], path);
  const o = v as BreakerOptions;
  const int = (x: unknown, key: string, dflt: number, min: number) => {
    if (x === undefined) return dflt;
    return typeof x === 'number' && Number.isInteger(x) && x >= min
      ? x
      : fail(`${path}.${key}`, `must be an integer of at least ${min}`, x);
  };
  return {
    consecutiveFailures: int(o.consecutiveFailures, 'consecutiveFailures', 5, 1),
    halfOpenAfterMs: int(o.halfOpenAfterMs, 'halfOpenAfterMs', 30_000, 1),
  };
}

function resolveIntegration(name: string, v: unknown): ResolvedIntegration {
  const path = `integrations.${name}`;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return fail(path, 'must be an object', v);
  unknownKeys(v, KEYS, path);
  const c = v as IntegrationConfig;
  let origin: string | undefined;
  let pathPrefix = '';
  if (c.baseUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof c.baseUrl === 'string' ? new URL(c.baseUrl) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) {
      fail(`${path}.baseUrl`, 'must be an http(s) URL without credentials', c.baseUrl);
    }
    origin = url!.origin;
    pathPrefix = url!.pathname.replace(/\/+$/, '');
  }
  const hosts = strings(
    c.hosts,
    `${path}.hosts`,
    (s) => HOST.test(s),
    'must be an array of host names',
  );
  if (origin === undefined && hosts.length === 0) {
    fail(path, 'needs baseUrl or hosts, so that its calls can be recognised');
  }
  const routes = strings(
    c.routes,
    `${path}.routes`,
    (s) => s.startsWith('/'),
    'must be an array of paths starting with "/"',
  );
  return {
    name,
    origin,
    pathPrefix,
    baseUrl: c.baseUrl,
    hosts: hosts.map((h) => h.toLowerCase()),
    routes,
    clientErrorsAreSuccess: bool(c.clientErrorsAreSuccess, `${path}.clientErrorsAreSuccess`, false),
    propagateTrace: bool(c.propagateTrace, `${path}.propagateTrace`, true),
    breaker: resolveBreaker(c.breaker, `${path}.breaker`),
  };
}

export function resolveIntegrationsOptions(
  input: IntegrationsObservabilityOptions = {},
): ResolvedIntegrationsOptions {
  if (typeof input !== 'object' || input === null) fail('integrations', 'must be an object', input);
  unknownKeys(input, TOP, 'integrations');
  const list = input.integrations ?? {};
  if (typeof list !== 'object' || list === null || Array.isArray(list)) {
    fail('integrations.integrations', 'must be an object keyed by integration name', list);
  }
  const otherHosts = input.otherHosts ?? false;
  if (otherHosts !== false && (typeof otherHosts !== 'string' || otherHosts === '')) {
    fail('integrations.otherHosts', 'must be false or a non-empty name', otherHosts);
  }
  return {
    integrations: Object.entries(list).map(([name, v]) => resolveIntegration(name, v)),
    otherHosts,
    automatic: bool(input.automatic, 'integrations.automatic', true),
    logFailures: bool(input.logFailures, 'integrations.logFailures', true),
  };
}
