import type { Field } from '../options/schema.js';
import {
  array,
  bool,
  custom,
  fail,
  map,
  num,
  object,
  optional,
  resolveWith,
  str,
  urlPath,
} from '../options/schema.js';

/** Thresholds and durations of one alert; anything left out keeps the specification's default. */
export interface AlertTuning {
  threshold?: number;
  /** How long the condition must hold, a Prometheus duration (`5m`, `30s`). */
  for?: string;
  /** Leave the alert out. */
  disabled?: boolean;
}

/** Where a channel's notifications go: production config with secrets in files, or a plain webhook. */
export type ChannelReceiver =
  | { type: 'slack'; apiUrlFile: string; channel: string }
  | { type: 'pagerduty'; routingKeyFile: string }
  | { type: 'webhook'; url: string };

export interface GenerateOptions {
  /** Name of the service: rule group names, dashboard titles and uids (default `app`). */
  service?: string;
  /** PromQL label matchers that select this service's series, e.g. `job="api"` (default: none). */
  selector?: string;
  /** Rate and quantile window of the rules (default `5m`). */
  window?: string;
  /** Ratio alerts stay silent below this many requests per second (default 0.5). */
  minRequestRate?: number;
  /** Per-alert thresholds and durations, keyed like `highErrorRate`. */
  alerts?: Record<string, AlertTuning>;
  /** Replace every `for` (a short test profile), e.g. `5s`. */
  forOverride?: string;
  /** uid of the Prometheus datasource in Grafana (default `prometheus`). */
  datasourceUid?: string;
  /** URL of the Prometheus server in the Grafana datasource file (default `http://127.0.0.1:9090`). */
  prometheusUrl?: string;
  /** Base of every `runbook_url`; the alert's anchor is appended (default `runbooks.md`). */
  runbookBaseUrl?: string;
  /** The receivers of the Alertmanager config. */
  receivers?: {
    slack?: ChannelReceiver;
    pagerduty?: ChannelReceiver;
    /** Where the always-firing Watchdog goes (a dead man's switch); default: nowhere. */
    watchdog?: ChannelReceiver;
  };
  /** Alertmanager timing. */
  alertmanager?: { groupWait?: string; groupInterval?: string; repeatInterval?: string };
  /** The example `prometheus.yml`: where the app's /metrics is. */
  scrape?: {
    job?: string;
    targets?: string[];
    metricsPath?: string;
    interval?: string;
    alertmanagers?: string[];
  };
}

export interface ResolvedGenerateOptions {
  service: string;
  selector: string;
  window: string;
  minRequestRate: number;
  alerts: Record<string, AlertTuning>;
  forOverride?: string;
  datasourceUid: string;
  prometheusUrl: string;
  runbookBaseUrl: string;
  receivers: {
    slack: ChannelReceiver;
    pagerduty: ChannelReceiver;
    watchdog?: ChannelReceiver;
  };
  alertmanager: { groupWait: string; groupInterval: string; repeatInterval: string };
  scrape: {
    job: string;
    targets: string[];
    metricsPath: string;
    interval: string;
    alertmanagers: string[];
  };
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;
const duration = (dflt: string) =>
  str(dflt, (v) => (DURATION.test(v) ? undefined : 'must be a Prometheus duration like 5m'));

const receiver = custom<ChannelReceiver>((v, path) => {
  const r = v as ChannelReceiver;
  if (r?.type === 'webhook' && typeof r.url === 'string' && /^https?:\/\//.test(r.url)) return r;
  if (r?.type === 'slack' && typeof r.apiUrlFile === 'string' && typeof r.channel === 'string')
    return r;
  if (r?.type === 'pagerduty' && typeof r.routingKeyFile === 'string') return r;
  // Not echoed: a webhook URL or an inline key is a secret.
  return fail(
    path,
    'must be { type: "slack", apiUrlFile, channel }, { type: "pagerduty", routingKeyFile } or { type: "webhook", url } (secrets only as files)',
  );
});
const hostPorts = array<string>(
  (t) => typeof t === 'string' && t !== '',
  'must be an array of host:port',
);
const withDefault = <T>(f: Field<T | undefined>, dflt: T): Field<T> => map(f, (v) => v ?? dflt);

const tuning = object<AlertTuning>()({
  threshold: optional(
    custom((v, path) =>
      typeof v === 'number' && Number.isFinite(v) ? v : fail(path, 'must be a number', v),
    ),
  ),
  for: optional(duration('0s')),
  disabled: optional(bool(false)),
});

function schema(alertKeys: readonly string[]) {
  return object<GenerateOptions>()({
    service: str('app', (v) =>
      /^[a-zA-Z0-9_-]+$/.test(v) ? undefined : 'must be letters, digits, "-" or "_"',
    ),
    selector: custom(
      (v, path) => (typeof v === 'string' ? v : fail(path, 'must be a string', v)),
      () => '',
    ),
    window: duration('5m'),
    minRequestRate: num(0.5, 0),
    alerts: custom(
      (v, path) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v))
          return fail(path, 'must be an object', v);
        for (const k of Object.keys(v)) {
          if (!alertKeys.includes(k))
            fail(`${path}.${k}`, `unknown alert; one of ${alertKeys.join(', ')}`);
        }
        return Object.fromEntries(
          Object.entries(v).map(([k, t]) => [k, tuning.parse(t, `${path}.${k}`) as AlertTuning]),
        );
      },
      () => ({}),
    ),
    forOverride: optional(duration('0s')),
    datasourceUid: str('prometheus'),
    prometheusUrl: str('http://127.0.0.1:9090'),
    runbookBaseUrl: str('runbooks.md'),
    receivers: object<NonNullable<GenerateOptions['receivers']>>()({
      slack: withDefault(optional(receiver), {
        type: 'slack',
        apiUrlFile: '/etc/alertmanager/secrets/slack-api-url',
        channel: '#alerts',
      } as ChannelReceiver),
      pagerduty: withDefault(optional(receiver), {
        type: 'pagerduty',
        routingKeyFile: '/etc/alertmanager/secrets/pagerduty-routing-key',
      } as ChannelReceiver),
      watchdog: optional(receiver),
    }),
    alertmanager: object<NonNullable<GenerateOptions['alertmanager']>>()({
      groupWait: duration('30s'),
      groupInterval: duration('5m'),
      repeatInterval: duration('4h'),
    }),
    scrape: object<NonNullable<GenerateOptions['scrape']>>()({
      job: optional(str('')),
      targets: withDefault(optional(hostPorts), ['127.0.0.1:3000']),
      metricsPath: str('/metrics', urlPath),
      interval: duration('15s'),
      alertmanagers: withDefault(optional(hostPorts), ['127.0.0.1:9093']),
    }),
  });
}

export function resolveGenerateOptions(
  o: GenerateOptions = {},
  alertKeys: readonly string[],
): ResolvedGenerateOptions {
  const r = resolveWith(schema(alertKeys), o);
  return { ...r, scrape: { ...r.scrape, job: r.scrape.job ?? r.service } };
}
