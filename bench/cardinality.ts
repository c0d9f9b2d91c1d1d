import type { IncomingMessage, ServerResponse } from 'node:http';
import { CATALOG, TraceContext } from '../src/index.js';
import { HttpInstrumentation } from '../src/http/http-instrumentation.js';
import { NODE_RESPONSE_HEADERS } from '../src/http/http-request-context.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { httpSettings, resolveOptions } from '../src/observability.options.js';
import type { Writable } from 'node:stream';
import pino from 'pino';

export interface CardinalityResult {
  requests: number;
  distinctOrgs: number;
  distinctPaths: number;
  seriesByMetric: Record<string, number>;
  totalSeries: number;
  overflowObservations: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  heapAfterGcMiB: number;
  heapBeforeMiB: number;
}

const nullStream = { write: () => true } as unknown as Writable;
const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * A cardinality attack on the HTTP instrumentation core: `requests` requests,
 * every one with a new path and a new organization, through the same
 * begin/end code the adapter hooks call (fake request objects, no sockets, so
 * a million requests take seconds). Reports series per metric and memory.
 */
export function runCardinalityAttack(requests: number): CardinalityResult {
  const options = resolveOptions({
    serviceName: 'attack',
    logging: { destination: nullStream as never },
  });
  const registry = new MetricsRegistry({ labels: options.labels });
  const trace = new TraceContext();
  const http = new HttpInstrumentation(
    httpSettings(options),
    registry,
    trace,
    pino({ level: 'silent' }),
    undefined,
    undefined,
  );
  // As in Nest: a distinct path either matches the parameterised route (its
  // template) or no route at all (the one unmatched value).
  const shared = http.shared({
    endpointOf: (ctx) => (ctx.req.url!.startsWith('/orgs/') ? '/orgs/:orgId/items' : undefined),
    headers: NODE_RESPONSE_HEADERS,
  });
  const res = {
    statusCode: 200,
    writableFinished: true,
    headersSent: false,
    setHeader: () => undefined,
    getHeader: () => '12',
    on: () => undefined,
  } as unknown as ServerResponse;

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < requests; i++) {
    const url = i % 2 === 0 ? `/orgs/o${i}/items` : `/probe/${i}/${Math.random()}`;
    const req = {
      url,
      method: 'GET',
      headers: { 'x-organization': `attacker-org-${i}` },
      socket: null,
    } as unknown as IncomingMessage;
    const ctx = http.begin(req, res, req, res, shared, url);
    if (ctx) http.end(ctx, true);
  }
  gc();
  const mem = process.memoryUsage();
  const seriesByMetric: Record<string, number> = {};
  let total = 0;
  for (const f of registry.allFamilies()) {
    if (f.series.size === 0) continue;
    seriesByMetric[f.def.name] = f.series.size;
    total += f.series.size;
  }
  const overflow = registry.counter(CATALOG.labelOverflowTotal);
  let overflowObservations = 0;
  for (const s of overflow.series.values()) overflowObservations += s.value;
  return {
    requests,
    distinctOrgs: requests,
    distinctPaths: requests,
    seriesByMetric,
    totalSeries: total,
    overflowObservations,
    rssBeforeMiB: mib(rssBefore),
    rssAfterMiB: mib(mem.rss),
    heapBeforeMiB: mib(heapBefore),
    heapAfterGcMiB: mib(mem.heapUsed),
  };
}
