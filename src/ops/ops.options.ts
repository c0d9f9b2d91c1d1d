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

function fail(path: string, problem: string, value?: unknown): never {
  throw new Error(
    `nestjs-observability generate: invalid option "${path}": ${problem}` +
      (value === undefined ? '' : ` (got ${JSON.stringify(value)})`),
  );
}

function duration(v: unknown, path: string, dflt: string): string {
  if (v === undefined) return dflt;
  return typeof v === 'string' && DURATION.test(v)
    ? v
    : fail(path, 'must be a Prometheus duration like 5m', v);
}

function receiver(
  v: unknown,
  path: string,
  dflt: ChannelReceiver | undefined,
): ChannelReceiver | undefined {
  if (v === undefined) return dflt;
  const r = v as ChannelReceiver;
  if (r?.type === 'webhook' && typeof r.url === 'string' && /^https?:\/\//.test(r.url)) return r;
  if (r?.type === 'slack' && typeof r.apiUrlFile === 'string' && typeof r.channel === 'string')
    return r;
  if (r?.type === 'pagerduty' && typeof r.routingKeyFile === 'string') return r;
  return fail(
    path,
    'must be { type: "slack", apiUrlFile, channel }, { type: "pagerduty", routingKeyFile } or { type: "webhook", url } (secrets only as files)',
    v,
  );
}

export function resolveGenerateOptions(
  o: GenerateOptions = {},
  alertKeys: readonly string[],
): ResolvedGenerateOptions {
  const service = o.service ?? 'app';
  if (!/^[a-zA-Z0-9_-]+$/.test(service))
    fail('service', 'must be letters, digits, "-" or "_"', service);
  const alerts = o.alerts ?? {};
  for (const [k, t] of Object.entries(alerts)) {
    if (!alertKeys.includes(k))
      fail(`alerts.${k}`, `unknown alert; one of ${alertKeys.join(', ')}`);
    if (t.threshold !== undefined && !Number.isFinite(t.threshold))
      fail(`alerts.${k}.threshold`, 'must be a number', t.threshold);
    duration(t.for, `alerts.${k}.for`, '0s');
  }
  const min = o.minRequestRate ?? 0.5;
  if (!Number.isFinite(min) || min < 0) fail('minRequestRate', 'must be a number, 0 or more', min);
  return {
    service,
    selector: o.selector ?? '',
    window: duration(o.window, 'window', '5m'),
    minRequestRate: min,
    alerts,
    forOverride:
      o.forOverride === undefined ? undefined : duration(o.forOverride, 'forOverride', '0s'),
    datasourceUid: o.datasourceUid ?? 'prometheus',
    prometheusUrl: o.prometheusUrl ?? 'http://127.0.0.1:9090',
    runbookBaseUrl: o.runbookBaseUrl ?? 'runbooks.md',
    receivers: {
      slack: receiver(o.receivers?.slack, 'receivers.slack', {
        type: 'slack',
        apiUrlFile: '/etc/alertmanager/secrets/slack-api-url',
        channel: '#alerts',
      })!,
      pagerduty: receiver(o.receivers?.pagerduty, 'receivers.pagerduty', {
        type: 'pagerduty',
        routingKeyFile: '/etc/alertmanager/secrets/pagerduty-routing-key',
      })!,
      watchdog: receiver(o.receivers?.watchdog, 'receivers.watchdog', undefined),
    },
    alertmanager: {
      groupWait: duration(o.alertmanager?.groupWait, 'alertmanager.groupWait', '30s'),
      groupInterval: duration(o.alertmanager?.groupInterval, 'alertmanager.groupInterval', '5m'),
      repeatInterval: duration(o.alertmanager?.repeatInterval, 'alertmanager.repeatInterval', '4h'),
    },
    scrape: {
      job: o.scrape?.job ?? service,
      targets: o.scrape?.targets ?? ['127.0.0.1:3000'],
      metricsPath: o.scrape?.metricsPath ?? '/metrics',
      interval: duration(o.scrape?.interval, 'scrape.interval', '15s'),
      alertmanagers: o.scrape?.alertmanagers ?? ['127.0.0.1:9093'],
    },
  };
}
