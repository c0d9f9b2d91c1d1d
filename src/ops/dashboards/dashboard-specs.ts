import { CATALOG } from '../../metrics/catalog.js';
import type { ResolvedGenerateOptions } from '../ops.options.js';
import type { DashboardSpec } from './panel-spec.js';

const m = CATALOG;
/** Every query filters on the dashboard's job and instance variables. */
const SEL = 'job=~"$job",instance=~"$instance"';
const sel = (...extra: string[]) => `{${[SEL, ...extra].join(',')}}`;
const RATE = '$__rate_interval';

/** The four dashboards of the specification, panel by panel, as plain data. */
export function dashboardSpecs(o: ResolvedGenerateOptions): DashboardSpec[] {
  const id = (name: string) => `${o.service}-${name}`.slice(0, 40);
  return [
    {
      uid: id('overview'),
      title: `${o.service} / Overview`,
      description: 'Requests, latency, errors and queues at a glance.',
      panels: [
        {
          title: 'Request rate and error rate',
          kind: 'timeseries',
          unit: 'reqps',
          description: 'All requests and those answered 5xx, per second, summed over instances.',
          queries: [
            { expr: `sum(rate(${m.httpRequestsTotal.name}${sel()}[${RATE}]))`, legend: 'requests' },
            {
              expr: `sum(rate(${m.httpRequestsTotal.name}${sel('status=~"5.."')}[${RATE}]))`,
              legend: '5xx',
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'P50/P95/P99 latency',
          kind: 'timeseries',
          unit: 's',
          description:
            'Request latency quantiles over all instances; the dots are trace-ID exemplars (open the trace in the logs).',
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le) (rate(${m.httpRequestDurationSeconds.name}_bucket${sel()}[${RATE}])))`,
            legend: `p${Math.round(q * 100)}`,
            exemplar: true,
          })),
          w: 12,
          h: 8,
        },
        {
          title: 'Active connections',
          kind: 'gauge',
          unit: 'short',
          description: 'HTTP requests in flight right now, summed over instances.',
          queries: [{ expr: `sum(${m.httpActiveRequests.name}${sel()})`, instant: true }],
          w: 6,
          h: 8,
        },
        {
          title: 'Queue depths by queue',
          kind: 'barchart',
          unit: 'short',
          description:
            'Jobs waiting per queue (read from Redis: the same on every instance, so max).',
          queries: [
            {
              expr: `max by (queue) (${m.queueDepth.name}${sel()})`,
              legend: '{{queue}}',
              instant: true,
            },
          ],
          w: 6,
          h: 8,
        },
        {
          title: 'Top endpoints by request count',
          kind: 'table',
          unit: 'short',
          description: 'Requests per route template over the selected range.',
          queries: [
            {
              expr: `topk(10, sum by (endpoint) (increase(${m.httpRequestsTotal.name}${sel()}[$__range])))`,
              instant: true,
            },
          ],
          w: 6,
          h: 8,
        },
        {
          title: 'Top errors by message',
          kind: 'table',
          unit: 'short',
          description:
            'ERROR log lines by exception class (error_type) over the selected range: Prometheus holds no log text, so the bounded error_type stands for the message; search the logs for it.',
          queries: [
            {
              expr: `topk(10, sum by (error_type) (increase(${m.loggedErrorsTotal.name}${sel()}[$__range])))`,
              instant: true,
            },
          ],
          w: 6,
          h: 8,
        },
      ],
    },
    {
      uid: id('jobs'),
      title: `${o.service} / Jobs`,
      description: 'Background job throughput, failures, queues and tenants.',
      panels: [
        {
          title: 'Job throughput by queue',
          kind: 'timeseries',
          unit: 'ops',
          description: 'Jobs finished per second (success or final failure), per queue.',
          queries: [
            {
              expr: `sum by (queue) (rate(${m.jobsCompletedTotal.name}${sel()}[${RATE}]))`,
              legend: '{{queue}}',
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'Job success/failure rate',
          kind: 'timeseries',
          unit: 'ops',
          description: 'Jobs finished per second by outcome; retries per second.',
          queries: [
            {
              expr: `sum by (status) (rate(${m.jobsCompletedTotal.name}${sel()}[${RATE}]))`,
              legend: '{{status}}',
            },
            { expr: `sum(rate(${m.jobsRetriedTotal.name}${sel()}[${RATE}]))`, legend: 'retried' },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'Queue depth trends',
          kind: 'timeseries',
          unit: 'short',
          description: 'Jobs waiting per queue over time.',
          queries: [{ expr: `max by (queue) (${m.queueDepth.name}${sel()})`, legend: '{{queue}}' }],
          w: 12,
          h: 8,
        },
        {
          title: 'DLQ depth',
          kind: 'gauge',
          unit: 'short',
          description: 'Jobs that exhausted their attempts; red from the DLQGrowing threshold.',
          queries: [{ expr: `max(${m.dlqDepth.name}${sel()})`, instant: true }],
          w: 6,
          h: 8,
          redFrom: o.alerts.dlqGrowing?.threshold ?? 50,
        },
        {
          title: 'Slowest jobs',
          kind: 'table',
          unit: 's',
          description: '95th percentile duration per queue and job over the selected range.',
          queries: [
            {
              expr: `topk(10, histogram_quantile(0.95, sum by (queue, method, le) (rate(${m.jobsDurationSeconds.name}_bucket${sel()}[$__range]))))`,
              instant: true,
            },
          ],
          w: 6,
          h: 8,
        },
        {
          title: 'Jobs by organization',
          kind: 'piechart',
          unit: 'short',
          description: 'Jobs enqueued per organization over the selected range.',
          queries: [
            {
              expr: `sum by (org) (increase(${m.jobsEnqueuedTotal.name}${sel()}[$__range]))`,
              legend: '{{org}}',
              instant: true,
            },
          ],
          w: 12,
          h: 8,
        },
      ],
    },
    {
      uid: id('integrations'),
      title: `${o.service} / Integrations`,
      description: 'Outbound calls, latency, tokens and circuit breakers.',
      panels: [
        {
          title: 'External call rate by integration',
          kind: 'timeseries',
          unit: 'reqps',
          description: 'Outbound calls per second per integration and outcome.',
          queries: [
            {
              expr: `sum by (integration, status) (rate(${m.integrationRequestsTotal.name}${sel()}[${RATE}]))`,
              legend: '{{integration}} {{status}}',
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'External call latency P95',
          kind: 'timeseries',
          unit: 's',
          description:
            '95th percentile duration of outbound calls per integration, with trace-ID exemplars.',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (integration, le) (rate(${m.integrationDurationSeconds.name}_bucket${sel()}[${RATE}])))`,
              legend: '{{integration}}',
              exemplar: true,
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'Token expiry countdown',
          kind: 'table',
          unit: 's',
          description: 'Seconds until each integration token expires (negative: expired).',
          queries: [
            {
              expr: `min by (integration, org) (${m.integrationTokenExpirySeconds.name}${sel()})`,
              instant: true,
            },
          ],
          w: 8,
          h: 8,
          redFrom: 0,
        },
        {
          title: 'Circuit breaker states',
          kind: 'statushistory',
          unit: 'short',
          description: 'Breaker state per integration over time: closed, half-open, open.',
          queries: [
            {
              expr: `max by (integration) (${m.integrationCircuitBreakerState.name}${sel()})`,
              legend: '{{integration}}',
            },
          ],
          w: 8,
          h: 8,
          valueText: {
            '0': { text: 'closed', color: 'green' },
            '1': { text: 'half-open', color: 'yellow' },
            '2': { text: 'open', color: 'red' },
          },
        },
        {
          title: 'Failed calls by integration',
          kind: 'barchart',
          unit: 'short',
          description: 'Failed outbound calls per integration over the selected range.',
          queries: [
            {
              expr: `sum by (integration) (increase(${m.integrationRequestsTotal.name}${sel('status="error"')}[$__range]))`,
              legend: '{{integration}}',
              instant: true,
            },
          ],
          w: 8,
          h: 8,
        },
      ],
    },
    {
      uid: id('sync'),
      title: `${o.service} / Sync`,
      description: 'Sync throughput, conflicts, lag per organization and live connections.',
      panels: [
        {
          title: 'Sync operations by doctype',
          kind: 'timeseries',
          unit: 'ops',
          description: 'Deltas processed per second per doctype.',
          queries: [
            {
              expr: `sum by (doctype) (rate(${m.syncDeltasTotal.name}${sel()}[${RATE}]))`,
              legend: '{{doctype}}',
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'Conflict rate by strategy',
          kind: 'timeseries',
          unit: 'ops',
          description: 'Conflicts per second per resolution strategy.',
          queries: [
            {
              expr: `sum by (strategy) (rate(${m.syncConflictsTotal.name}${sel()}[${RATE}]))`,
              legend: '{{strategy}}',
            },
          ],
          w: 12,
          h: 8,
        },
        {
          title: 'Sync lag by organization',
          kind: 'heatmap',
          unit: 's',
          description:
            'Seconds since each organization last synced on any instance (min across instances), one row per organization.',
          queries: [{ expr: `min by (org) (${m.syncLagSeconds.name}${sel()})`, legend: '{{org}}' }],
          w: 16,
          h: 8,
        },
        {
          title: 'Active sync connections',
          kind: 'gauge',
          unit: 'short',
          description:
            'Live Socket.IO connections over which sync updates reach clients, summed over servers (the sync layer pushes through Socket.IO).',
          queries: [{ expr: `sum(${m.socketioConnections.name}${sel()})`, instant: true }],
          w: 8,
          h: 8,
        },
      ],
    },
  ];
}
