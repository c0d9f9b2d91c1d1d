import { RouteTemplates, templatePath } from './endpoint-template.js';
import type { ResolvedIntegration } from './integrations.options.js';

/** Where an outbound call goes, as the HTTP client channels describe it. */
export interface CallTarget {
  /** `https://api.example.com:8443` (default ports omitted). */
  origin: string;
  hostname: string;
  /** Path and query as sent. */
  path: string;
  method: string;
}

/** The integration a call belongs to, and its `endpoint` label. */
export interface MatchedCall {
  integration: ResolvedIntegration;
  endpoint: string;
}

const MAX_CACHED_ORIGINS = 256;

/**
 * Maps an outbound call to its integration (by baseUrl prefix, then by host)
 * and its endpoint label (a configured route template, else the path with
 * identifiers replaced). Calls no integration claims go to `otherHosts` when
 * the app asked for a catch-all.
 */
export class IntegrationMatcher {
  private readonly routes = new Map<string, RouteTemplates>();
  private readonly other: ResolvedIntegration | undefined;
  private readonly hostnames = new Map<string, string>();

  constructor(
    readonly integrations: readonly ResolvedIntegration[],
    otherHosts: string | false,
  ) {
    for (const i of integrations) this.routes.set(i.name, new RouteTemplates(i.routes));
    this.other =
      otherHosts === false
        ? undefined
        : {
            name: otherHosts,
            pathPrefix: '',
            hosts: [],
            routes: [],
            clientErrorsAreSuccess: false,
            propagateTrace: false,
          };
  }

  byName(name: string): ResolvedIntegration | undefined {
    return this.integrations.find((i) => i.name === name);
  }

  match(t: CallTarget): MatchedCall | undefined {
    for (const i of this.integrations) {
      if (i.origin !== undefined && i.origin === t.origin && underPrefix(t.path, i.pathPrefix)) {
        return {
          integration: i,
          endpoint: this.endpoint(i, t.method, t.path.slice(i.pathPrefix.length)),
        };
      }
    }
    const host = t.hostname.toLowerCase();
    for (const i of this.integrations) {
      if (i.hosts.some((h) => hostMatches(h, host))) {
        return { integration: i, endpoint: this.endpoint(i, t.method, t.path) };
      }
    }
    if (this.other === undefined) return undefined;
    return { integration: this.other, endpoint: `${t.method} ${host}${templatePath(t.path)}` };
  }

  /** `METHOD /template` for a path relative to the integration's base path. */
  endpoint(i: ResolvedIntegration, method: string, relPath: string): string {
    const path = relPath === '' || relPath.startsWith('?') ? '/' + relPath : relPath;
    return `${method} ${this.routes.get(i.name)?.match(path) ?? templatePath(path)}`;
  }

  /** The endpoint label of an explicit call to `url` under integration `i` (or an unconfigured name). */
  endpointOfUrl(i: ResolvedIntegration | undefined, method: string, url: URL): string {
    const path = url.pathname + url.search;
    if (i === undefined) return `${method} ${templatePath(path)}`;
    const underBase = i.origin === url.origin && underPrefix(path, i.pathPrefix);
    return this.endpoint(i, method, underBase ? path.slice(i.pathPrefix.length) : path);
  }

  /** Host name and origin of a URL origin string, cached (a handful of hosts see every call). */
  parseOrigin(origin: string): { origin: string; hostname: string } | undefined {
    let host = this.hostnames.get(origin);
    if (host === undefined) {
      try {
        host = new URL(origin).hostname;
      } catch {
        return undefined;
      }
      if (this.hostnames.size >= MAX_CACHED_ORIGINS) this.hostnames.clear();
      this.hostnames.set(origin, host);
    }
    return { origin, hostname: host };
  }
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  const next = path[prefix.length];
  return next === undefined || next === '/' || next === '?';
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.'))
    return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}
