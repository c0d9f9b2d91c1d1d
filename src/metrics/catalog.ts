import type {
  CounterDefinition,
  GaugeDefinition,
  HistogramDefinition,
  MetricDefinition,
} from './metric-definition.js';

/*
 * THE metric catalog. Every metric this library exposes is defined here and
 * nowhere else: the registry creates them from this table, the alert-rule and
 * dashboard generators read it, the README metric reference is generated from
 * it, and tests check the exposition against it. Names, types, labels and
 * buckets follow the specification, except where `promtool check metrics`
 * rejects them (then `specName` records the original).
 */

const counter = <const L extends string>(
  d: Omit<CounterDefinition<L>, 'type'>,
): CounterDefinition<L> => ({
  ...d,
  type: 'counter',
});
const gauge = <const L extends string>(
  d: Omit<GaugeDefinition<L>, 'type'>,
): GaugeDefinition<L> => ({
  ...d,
  type: 'gauge',
});
const histogram = <const L extends string>(
  d: Omit<HistogramDefinition<L>, 'type'>,
): HistogramDefinition<L> => ({ ...d, type: 'histogram' });

/** Request latency buckets of the specification (seconds). */
const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Payload sizes: 100 B to 10 MB, a decade apart. */
const SIZE_BUCKETS = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];
/** Jobs run from milliseconds to many minutes. */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];
/** Query latency buckets of the specification (seconds). */
const QUERY_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** Redis pub/sub round trips are sub-millisecond when healthy. */
const PUBSUB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export const CATALOG = {
  // --- HTTP ---------------------------------------------------------------
  httpRequestsTotal: counter({
    name: 'http_requests_total',
    help: 'Total HTTP requests',
    group: 'http',
    labelNames: ['method', 'endpoint', 'status', 'org'],
    boundedLabels: ['method', 'status'],
  }),
  httpRequestDurationSeconds: histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    group: 'http',
    labelNames: ['method', 'endpoint'],
    boundedLabels: ['method'],
    buckets: LATENCY_BUCKETS,
  }),
  httpRequestSizeBytes: histogram({
    name: 'http_request_size_bytes',
    help: 'HTTP request payload size',
    group: 'http',
    labelNames: ['endpoint'],
    buckets: SIZE_BUCKETS,
  }),
  httpResponseSizeBytes: histogram({
    name: 'http_response_size_bytes',
    help: 'HTTP response payload size',
    group: 'http',
    labelNames: ['endpoint'],
    buckets: SIZE_BUCKETS,
  }),
  httpActiveRequests: gauge({
    name: 'http_active_requests',
    help: 'HTTP requests currently being processed',
    group: 'http',
    labelNames: ['method'],
    boundedLabels: ['method'],
  }),

  // --- Background jobs ----------------------------------------------------
  jobsEnqueuedTotal: counter({
    name: 'jobs_enqueued_total',
    help: 'Jobs enqueued',
    group: 'jobs',
    labelNames: ['queue', 'method', 'org'],
  }),
  jobsCompletedTotal: counter({
    name: 'jobs_completed_total',
    help: 'Jobs finished, by outcome: success, or failure after their last attempt',
    group: 'jobs',
    labelNames: ['queue', 'method', 'org', 'status'],
    boundedLabels: ['status'],
  }),
  jobsDurationSeconds: histogram({
    name: 'jobs_duration_seconds',
    help: 'Job execution duration',
    group: 'jobs',
    labelNames: ['queue', 'method'],
    buckets: JOB_BUCKETS,
  }),
  queueDepth: gauge({
    name: 'queue_depth',
    help: 'Jobs accepted and not yet started: waiting (also while paused), prioritized, delayed (incl. retry backoff), waiting for children',
    group: 'jobs',
    aggregate: 'max',
    labelNames: ['queue'],
  }),
  dlqDepth: gauge({
    name: 'dlq_depth',
    help: 'Dead letter queue depth: jobs that exhausted their attempts',
    group: 'jobs',
    aggregate: 'max',
    labelNames: [],
  }),
  orgJobs: gauge({
    name: 'org_jobs',
    specName: 'org_job_count',
    help: 'Unfinished jobs (waiting, delayed or active) per organization per queue',
    group: 'jobs',
    aggregate: 'max',
    labelNames: ['org', 'queue'],
  }),
  jobsRetriedTotal: counter({
    name: 'jobs_retried_total',
    help: 'Job attempts that failed and were scheduled for a retry',
    group: 'jobs',
    labelNames: ['queue', 'method'],
  }),

  // --- Database -----------------------------------------------------------
  dbQueriesTotal: counter({
    name: 'db_queries_total',
    help: 'Database queries',
    group: 'database',
    labelNames: ['doctype', 'operation'],
    boundedLabels: ['operation'],
  }),
  dbQueryDurationSeconds: histogram({
    name: 'db_query_duration_seconds',
    help: 'Database query latency',
    group: 'database',
    labelNames: ['doctype', 'operation'],
    boundedLabels: ['operation'],
    buckets: QUERY_BUCKETS,
  }),
  dbConnectionsActive: gauge({
    name: 'db_connections_active',
    help: 'Database connections currently checked out of the pool',
    group: 'database',
    labelNames: [],
  }),
  dbConnectionsPoolSize: gauge({
    name: 'db_connections_pool_size',
    help: 'Maximum size of the database connection pool',
    group: 'database',
    labelNames: [],
  }),
  dbSlowQueriesTotal: counter({
    name: 'db_slow_queries_total',
    help: 'Database queries slower than the configured threshold',
    group: 'database',
    labelNames: ['doctype'],
  }),

  // --- Integrations -------------------------------------------------------
  integrationRequestsTotal: counter({
    name: 'integration_requests_total',
    help: 'External API calls',
    group: 'integrations',
    labelNames: ['integration', 'endpoint', 'status'],
  }),
  integrationDurationSeconds: histogram({
    name: 'integration_duration_seconds',
    help: 'External API call latency',
    group: 'integrations',
    labelNames: ['integration', 'endpoint'],
    buckets: LATENCY_BUCKETS,
  }),
  integrationTokenRefreshTotal: counter({
    name: 'integration_token_refresh_total',
    help: 'Integration token refresh operations',
    group: 'integrations',
    labelNames: ['integration', 'status'],
  }),
  integrationTokenExpirySeconds: gauge({
    name: 'integration_token_expiry_seconds',
    help: 'Seconds until the integration token expires (negative once expired)',
    group: 'integrations',
    aggregate: 'min',
    labelNames: ['integration', 'org'],
  }),
  integrationCircuitBreakerState: gauge({
    name: 'integration_circuit_breaker_state',
    help: 'Circuit breaker state (0=closed, 1=half-open, 2=open)',
    group: 'integrations',
    aggregate: 'max',
    labelNames: ['integration'],
  }),

  // --- Sync layer ---------------------------------------------------------
  syncDeltasTotal: counter({
    name: 'sync_deltas_total',
    help: 'Sync deltas processed',
    group: 'sync',
    labelNames: ['doctype', 'org', 'operation'],
  }),
  syncConflictsTotal: counter({
    name: 'sync_conflicts_total',
    help: 'Sync conflict occurrences',
    group: 'sync',
    labelNames: ['doctype', 'strategy'],
  }),
  syncLagSeconds: gauge({
    name: 'sync_lag_seconds',
    help: 'Seconds since the last successful sync',
    group: 'sync',
    aggregate: 'min',
    labelNames: ['org'],
  }),
  syncQueueDepth: gauge({
    name: 'sync_queue_depth',
    help: 'Pending sync operations',
    group: 'sync',
    aggregate: 'max',
    labelNames: ['org'],
  }),

  // --- Socket.IO ----------------------------------------------------------
  socketioConnections: gauge({
    name: 'socketio_connections',
    specName: 'socketio_connections_total',
    help: 'Current Socket.IO connection count',
    group: 'socketio',
    labelNames: ['server_id'],
  }),
  socketioRooms: gauge({
    name: 'socketio_rooms',
    specName: 'socketio_rooms_total',
    help: 'Active Socket.IO rooms',
    group: 'socketio',
    labelNames: ['server_id'],
  }),
  socketioMessagesPublishedTotal: counter({
    name: 'socketio_messages_published_total',
    specName: 'socketio_messages_published',
    help: 'Socket.IO messages published via Redis',
    group: 'socketio',
    labelNames: ['event_type'],
  }),
  socketioMessagesDeliveredTotal: counter({
    name: 'socketio_messages_delivered_total',
    specName: 'socketio_messages_delivered',
    help: 'Socket.IO messages delivered to clients',
    group: 'socketio',
    labelNames: ['event_type'],
  }),
  socketioRedisLatencySeconds: histogram({
    name: 'socketio_redis_latency_seconds',
    specName: 'socketio_redis_latency_ms',
    help: 'Redis pub/sub latency',
    group: 'socketio',
    labelNames: [],
    buckets: PUBSUB_BUCKETS,
  }),

  // --- Errors --------------------------------------------------------------
  loggedErrorsTotal: counter({
    name: 'logged_errors_total',
    help: 'ERROR and CRITICAL log lines, by exception class (error_type)',
    group: 'errors',
    labelNames: ['error_type'],
    beyondSpec:
      'The Overview dashboard\'s "Top errors by message": Prometheus holds no log text, so errors are counted by their bounded error_type',
  }),

  // --- The library's own health ------------------------------------------
  labelOverflowTotal: counter({
    name: 'observability_label_overflow_total',
    help: 'Observations whose label value was replaced by the overflow value because the label reached its cap',
    group: 'self',
    labelNames: ['metric', 'label'],
    boundedLabels: ['metric', 'label'],
  }),
  collectorErrorsTotal: counter({
    name: 'observability_collector_errors_total',
    help: 'Scrape-time collectors that failed or timed out',
    group: 'self',
    labelNames: ['collector', 'reason'],
    boundedLabels: ['collector', 'reason'],
  }),
  collectorStale: gauge({
    name: 'observability_collector_stale',
    help: '1 while the last run of a scrape-time collector failed, so its gauges show older values',
    group: 'self',
    aggregate: 'max',
    labelNames: ['collector'],
    boundedLabels: ['collector'],
  }),
  instrumentationErrorsTotal: counter({
    name: 'observability_instrumentation_errors_total',
    help: 'Errors caught inside the instrumentation itself (the instrumented work went on)',
    group: 'self',
    labelNames: ['component'],
    boundedLabels: ['component'],
  }),
  logLinesDroppedTotal: counter({
    name: 'observability_log_lines_dropped_total',
    help: 'Log lines the destination did not take: a failed write (reason = its error code, e.g. ENOSPC, EPIPE), a full buffer (buffer_full), or a reader that stopped reading at exit (stuck)',
    group: 'self',
    labelNames: ['reason'],
  }),
  clusterProcesses: gauge({
    name: 'observability_cluster_processes',
    help: 'Processes whose metrics this scrape added up (metrics.cluster); fewer than the workers you run means some did not answer',
    group: 'self',
    labelNames: [],
  }),
} as const satisfies Record<string, MetricDefinition>;

export type Catalog = typeof CATALOG;
export type CatalogKey = keyof Catalog;

/** Every catalog definition, in catalog order. */
export const CATALOG_DEFINITIONS: readonly MetricDefinition[] = Object.values(CATALOG);

/** The families the specification asks for (not the self-metrics, not the additions). */
export const SPEC_DEFINITIONS: readonly MetricDefinition[] = CATALOG_DEFINITIONS.filter(
  (d) => d.group !== 'self' && d.beyondSpec === undefined,
);
