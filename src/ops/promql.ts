import { CATALOG } from '../metrics/catalog.js';
import type { ResolvedGenerateOptions } from './ops.options.js';

/** `{selector,extra}` for a metric, or `` when both are empty. */
export function matchers(selector: string, ...extra: string[]): string {
  const parts = [selector, ...extra].filter((p) => p !== '');
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Names of the recording rules, built from the catalog names (never spelled twice). */
export const RECORDED = {
  requestRate: `job:${CATALOG.httpRequestsTotal.name.replace(/_total$/, '')}:rate`,
  errorRate: `job:${CATALOG.httpRequestsTotal.name.replace(/_total$/, '')}_5xx:rate`,
  errorRatio: `job:${CATALOG.httpRequestsTotal.name.replace(/_total$/, '')}_5xx:ratio`,
  latencyP95: `job:${CATALOG.httpRequestDurationSeconds.name}:p95`,
  integrationErrorRate: `job_integration:${CATALOG.integrationRequestsTotal.name.replace(/_total$/, '')}_errors:rate`,
} as const;

/**
 * Labels the recording rules keep: `job`, plus every label the selector
 * names, so the selector still applies to the recorded series.
 */
export function keptLabels(selector: string): string {
  const names = ['job'];
  for (const m of selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
    if (!names.includes(m[1]!)) names.push(m[1]!);
  }
  return names.join(', ');
}

export interface RecordingRule {
  record: string;
  expr: string;
}

/** Recording rules the alerts share (aggregated by job and the selector's labels, so services never mix). */
export function recordingRules(o: ResolvedGenerateOptions): RecordingRule[] {
  const w = o.window;
  const by = keptLabels(o.selector);
  const req = CATALOG.httpRequestsTotal.name;
  return [
    {
      record: RECORDED.requestRate,
      expr: `sum by (${by}) (rate(${req}${matchers(o.selector)}[${w}]))`,
    },
    {
      record: RECORDED.errorRate,
      expr: `sum by (${by}) (rate(${req}${matchers(o.selector, 'status=~"5.."')}[${w}]))`,
    },
    // Sum first, then divide: a ratio of sums, not an average of per-series ratios.
    { record: RECORDED.errorRatio, expr: `${RECORDED.errorRate} / ${RECORDED.requestRate}` },
    {
      record: RECORDED.latencyP95,
      expr: `histogram_quantile(0.95, sum by (${by}, le) (rate(${CATALOG.httpRequestDurationSeconds.name}_bucket${matchers(o.selector)}[${w}])))`,
    },
    {
      record: RECORDED.integrationErrorRate,
      expr: `sum by (${by}, integration) (rate(${CATALOG.integrationRequestsTotal.name}${matchers(o.selector, 'status="error"')}[${w}]))`,
    },
  ];
}
