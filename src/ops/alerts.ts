import { CATALOG } from '../metrics/catalog.js';
import type { ResolvedGenerateOptions } from './ops.options.js';
import { matchers, RECORDED } from './promql.js';

/** The notification channels of the specification's alert table. */
export type Channel = 'pagerduty' | 'slack';

export interface AlertDefinition {
  /** Option key (`alerts.<key>`) and runbook anchor. */
  key: string;
  alertname: string;
  severity: 'critical' | 'warning' | 'none';
  /** Where it is routed: the specification's Channel column. */
  channels: readonly Channel[];
  threshold: number;
  for: string;
  expr: (o: ResolvedGenerateOptions, threshold: number) => string;
  summary: string;
  /** Go template over `$labels` and `$value`. */
  description: string;
  /** Extra static labels (e.g. `queue`). */
  labels?: Record<string, string>;
  runbook: { meaning: string; firstLook: string; action: string };
  /** Not in the specification's table: why it is here. */
  beyondSpec?: string;
}

const m = CATALOG;

/** Every alert, in the specification's order, then the ones added beyond it. */
export const ALERTS: readonly AlertDefinition[] = [
  {
    key: 'highErrorRate',
    alertname: 'HighErrorRate',
    severity: 'critical',
    channels: ['pagerduty', 'slack'],
    threshold: 0.05,
    for: '5m',
    // The traffic guard: a handful of requests at night with one error is not an incident.
    expr: (o, t) =>
      `${RECORDED.errorRatio}${matchers(o.selector)} > ${t} and ${RECORDED.requestRate}${matchers(o.selector)} > ${o.minRequestRate}`,
    summary: 'High HTTP error rate',
    description: '{{ $labels.job }}: {{ $value | humanizePercentage }} of requests answered 5xx.',
    runbook: {
      meaning: 'More than 5% of HTTP requests end in a 5xx status, with real traffic flowing.',
      firstLook:
        'Overview dashboard: which endpoints fail (Top endpoints, Top errors by type); the ERROR log lines of the last minutes and their `error_type`; a recent deploy.',
      action:
        'Roll back a bad deploy; fail over or shed load from a failing dependency (database, Redis, an integration); check `/health`.',
    },
  },
  {
    key: 'slowRequests',
    alertname: 'SlowRequests',
    severity: 'warning',
    channels: ['slack'],
    threshold: 5,
    for: '10m',
    expr: (o, t) =>
      `${RECORDED.latencyP95}${matchers(o.selector)} > ${t} and ${RECORDED.requestRate}${matchers(o.selector)} > ${o.minRequestRate}`,
    summary: 'Slow HTTP requests',
    description: '{{ $labels.job }}: 95th percentile latency is {{ $value | humanizeDuration }}.',
    runbook: {
      meaning: 'The 95th percentile of request latency has been above 5 s for 10 minutes.',
      firstLook:
        'Overview latency panel and its exemplars (open the trace ID in the logs); database slow queries (`db_slow_queries_total`); integration latency.',
      action: 'Fix or index the slow query, add capacity, or put a timeout on the slow dependency.',
    },
  },
  {
    key: 'criticalQueueBacklog',
    alertname: 'QueueBacklog',
    severity: 'critical',
    channels: ['pagerduty'],
    threshold: 100,
    for: '5m',
    labels: { queue: 'critical' },
    // Every instance reads the same depth from Redis: max, not sum.
    expr: (o, t) =>
      `max by (job, queue) (${m.queueDepth.name}${matchers(o.selector, 'queue="critical"')}) > ${t}`,
    summary: 'Critical queue backlog',
    description: '{{ $value }} jobs pending in queue {{ $labels.queue }} ({{ $labels.job }}).',
    runbook: {
      meaning: 'More than 100 jobs wait in the `critical` queue for 5 minutes.',
      firstLook:
        'Jobs dashboard: throughput vs depth; are workers running (`/health` workers check)? Is the queue paused? Failure rate and retries.',
      action:
        'Start or scale workers, resume the queue, or fix the failing job that keeps retrying.',
    },
  },
  {
    key: 'defaultQueueBacklog',
    alertname: 'QueueBacklog',
    severity: 'warning',
    channels: ['slack'],
    threshold: 1000,
    for: '15m',
    labels: { queue: 'default' },
    expr: (o, t) =>
      `max by (job, queue) (${m.queueDepth.name}${matchers(o.selector, 'queue="default"')}) > ${t}`,
    summary: 'Default queue backlog',
    description: '{{ $value }} jobs pending in queue {{ $labels.queue }} ({{ $labels.job }}).',
    runbook: {
      meaning: 'More than 1000 jobs wait in the `default` queue for 15 minutes.',
      firstLook:
        'Jobs dashboard: depth trend, throughput, jobs by organization (one tenant flooding the queue?).',
      action:
        'Scale workers or throttle the producer; a critical backlog alert, if firing, is handled first.',
    },
  },
  {
    key: 'dlqGrowing',
    alertname: 'DLQGrowing',
    severity: 'warning',
    channels: ['slack'],
    threshold: 50,
    for: '0s',
    expr: (o, t) => `max by (job) (${m.dlqDepth.name}${matchers(o.selector)}) > ${t}`,
    summary: 'Dead letter queue growing',
    description: '{{ $value }} jobs exhausted their attempts ({{ $labels.job }}).',
    runbook: {
      meaning: 'More than 50 jobs failed all their attempts and sit in the dead letter queue.',
      firstLook:
        'Jobs dashboard failure rate; the `job failed` ERROR lines: their `error_type`, `stack_trace` and `trace_id`.',
      action: 'Fix the cause, then retry the failed jobs (BullMQ `retryJobs`) or discard them.',
    },
  },
  {
    key: 'integrationFailing',
    alertname: 'IntegrationFailing',
    severity: 'warning',
    channels: ['slack'],
    threshold: 10,
    for: '0s',
    expr: (o, t) => `${RECORDED.integrationErrorRate}${matchers(o.selector)} > ${t}`,
    summary: 'Integration calls failing',
    description:
      '{{ $labels.integration }}: {{ $value | humanize }} failed calls per second ({{ $labels.job }}).',
    runbook: {
      meaning:
        'More than 10 calls per second to one integration fail (errors, timeouts, 4xx/5xx, open breaker).',
      firstLook:
        'Integrations dashboard: failed calls, breaker state, latency; the `integration call failed` lines and their `error_type`.',
      action:
        'Check the partner status page; back off (the breaker opens on its own); rotate credentials on 401/403.',
    },
  },
  {
    key: 'tokenExpiringSoon',
    alertname: 'TokenExpiringSoon',
    severity: 'warning',
    channels: ['slack'],
    threshold: 3600,
    for: '0s',
    expr: (o, t) =>
      `min by (job, integration, org) (${m.integrationTokenExpirySeconds.name}${matchers(o.selector)}) < ${t}`,
    summary: 'Integration token expiring',
    description:
      'Token for {{ $labels.integration }}:{{ $labels.org }} expires in {{ $value | humanizeDuration }}.',
    runbook: {
      meaning: 'An integration token expires within the hour and has not been refreshed.',
      firstLook:
        '`integration_token_refresh_total{status="error"}` and the refresh WARN lines for this integration and organization.',
      action:
        'Fix the refresh (revoked refresh token, changed credentials) or ask the organization to reconnect.',
    },
  },
  {
    key: 'tokenExpired',
    alertname: 'TokenExpired',
    severity: 'critical',
    channels: ['pagerduty'],
    threshold: 0,
    for: '0s',
    expr: (o, t) =>
      `min by (job, integration, org) (${m.integrationTokenExpirySeconds.name}${matchers(o.selector)}) <= ${t}`,
    summary: 'Integration token expired',
    description: 'Token for {{ $labels.integration }}:{{ $labels.org }} has expired.',
    runbook: {
      meaning: 'An integration token has expired: every call for this organization fails.',
      firstLook:
        'The refresh failures for this integration and organization; the partner’s OAuth status.',
      action:
        'Refresh by hand or have the organization reconnect; then find why the automatic refresh failed.',
    },
  },
  {
    key: 'dbConnectionPool',
    alertname: 'DBConnectionPoolExhausted',
    severity: 'warning',
    channels: ['slack'],
    threshold: 0.9,
    for: '5m',
    // Per instance: each process has its own pool, and one exhausted pool is the problem.
    expr: (o, t) =>
      `(${m.dbConnectionsActive.name}${matchers(o.selector)} / ${m.dbConnectionsPoolSize.name}${matchers(o.selector)}) > ${t} and ${m.dbConnectionsPoolSize.name}${matchers(o.selector)} > 0`,
    summary: 'Database connection pool nearly exhausted',
    description: '{{ $labels.instance }}: {{ $value | humanizePercentage }} of the pool in use.',
    runbook: {
      meaning: 'An instance has more than 90% of its database pool checked out for 5 minutes.',
      firstLook:
        'Slow queries and long transactions (`db_query_duration_seconds`, slow-query WARN lines); a leak (connections never released).',
      action:
        'Fix the long transaction or leak; raise the pool size only if the database has room.',
    },
  },
  {
    key: 'syncLag',
    alertname: 'SyncLag',
    severity: 'warning',
    channels: ['slack'],
    threshold: 300,
    for: '10m',
    // min across instances: the time since the org last synced anywhere (with or without Redis).
    expr: (o, t) => `min by (job, org) (${m.syncLagSeconds.name}${matchers(o.selector)}) > ${t}`,
    summary: 'Sync lagging',
    description: '{{ $labels.org }} last synced {{ $value | humanizeDuration }} ago.',
    runbook: {
      meaning:
        'An organization has not synced successfully for more than 5 minutes, for 10 minutes.',
      firstLook:
        'Sync dashboard: lag heatmap, pending queue (`sync_queue_depth`), conflicts; the sync error lines for that org.',
      action:
        'Fix the failing sync (credentials, conflicts needing a decision), then let the queue drain.',
    },
  },
  {
    key: 'socketioDisconnects',
    alertname: 'SocketIODisconnects',
    severity: 'warning',
    channels: ['slack'],
    threshold: 100,
    for: '0s',
    // Summed over servers: a fleet-wide wave of (re)connections.
    expr: (o, t) =>
      `sum by (job) (changes(${m.socketioConnections.name}${matchers(o.selector)}[${o.window}])) > ${t}`,
    summary: 'Socket.IO connection churn',
    description:
      '{{ $labels.job }}: the connection count changed {{ $value }} times in the window.',
    runbook: {
      meaning:
        'Socket.IO connection counts are flapping: clients disconnect and reconnect en masse.',
      firstLook:
        'Load balancer and proxy timeouts, server restarts, Redis adapter health (`socketio_redis_latency_seconds`).',
      action: 'Fix the proxy idle timeout or sticky sessions; check Redis; stagger restarts.',
    },
  },
  {
    key: 'targetDown',
    alertname: 'TargetDown',
    severity: 'critical',
    channels: ['pagerduty', 'slack'],
    threshold: 0,
    for: '2m',
    expr: (o) => `up${matchers(o.selector)} == 0`,
    summary: 'Service not scraped',
    description: '{{ $labels.instance }} of {{ $labels.job }} has not answered a scrape.',
    beyondSpec: 'Every other alert is blind while the app cannot be scraped.',
    runbook: {
      meaning:
        'Prometheus cannot scrape an instance: it is down, hung, or /metrics is unreachable.',
      firstLook:
        'The Prometheus targets page (the scrape error); the instance’s process and logs; /metrics auth.',
      action: 'Restart or replace the instance; fix the network path or the metrics credentials.',
    },
  },
  {
    key: 'metricsAbsent',
    alertname: 'MetricsAbsent',
    severity: 'critical',
    channels: ['pagerduty', 'slack'],
    threshold: 0,
    for: '5m',
    expr: (o) => `absent(up${matchers(o.selector)})`,
    summary: 'No scrape target at all',
    description: 'Prometheus has no target matching the service selector.',
    beyondSpec: 'TargetDown cannot fire for a target that service discovery lost.',
    runbook: {
      meaning:
        'No instance of the service is known to Prometheus (service discovery or scrape config lost it).',
      firstLook:
        'Prometheus configuration and service discovery; was the service renamed or scaled to zero?',
      action:
        'Restore the scrape configuration; the selector in the generated rules must match the job.',
    },
  },
  {
    key: 'watchdog',
    alertname: 'Watchdog',
    severity: 'none',
    channels: [],
    threshold: 0,
    for: '0s',
    expr: () => 'vector(1)',
    summary: 'Alerting pipeline heartbeat',
    description: 'Always firing: if this stops arriving, Prometheus or Alertmanager is broken.',
    beyondSpec: 'A dead man’s switch: the one alert whose absence is the incident.',
    runbook: {
      meaning:
        'Always fires. Its receiver (a dead man’s switch service) raises an incident when it stops arriving.',
      firstLook:
        'Prometheus and Alertmanager processes, their connectivity and configuration reloads.',
      action: 'Restore the alerting pipeline; nothing is wrong with the app itself.',
    },
  },
];

export const ALERT_KEYS: readonly string[] = ALERTS.map((a) => a.key);

/** The `notify` label value that routes an alert (`pagerduty_slack`, `pagerduty`, `slack`, `none`). */
export function notifyLabel(a: AlertDefinition): string {
  return a.channels.length ? a.channels.join('_') : 'none';
}
