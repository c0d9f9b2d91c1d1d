import { ObservabilityOptionsError } from '../observability.options.js';

/** Something that answers a Redis PING (an ioredis or node-redis client). */
export interface RedisPinger {
  ping(): Promise<unknown>;
}

/** An extra check: resolve with details when healthy, throw (or reject) when not. */
export interface CustomHealthCheck {
  name: string;
  check(
    signal: AbortSignal,
  ): Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
}

export interface HealthOptions {
  /** The spec's health endpoint (all checks; 200 or 503). */
  path?: string;
  /** Liveness: 200 while the process runs and its event loop answers; no dependency checks. */
  livenessPath?: string;
  /** Readiness: the checks, and 503 as soon as shutdown begins. */
  readinessPath?: string;
  /** Time limit of each check (ms); a dependency that hangs is reported down after it. */
  timeoutMs?: number;
  /**
   * `database`: `SELECT 1` on every TypeORM DataSource. `true` requires one,
   * `false` turns it off; by default it runs when the app has a DataSource.
   */
  database?: boolean;
  /**
   * `redis`: PING. A client to ping, `true` (the BullMQ queues' connection,
   * required), `false`; by default it runs when the app has BullMQ queues.
   */
  redis?: boolean | RedisPinger;
  /**
   * `workers`: at least one BullMQ worker (of any instance of the app) serves
   * the queue. `{ queue }` names it (default `default`); `false` turns it off;
   * by default it runs when the app has that queue registered.
   */
  workers?: boolean | { queue: string };
  /** More checks of your own. */
  checks?: CustomHealthCheck[];
  /** After shutdown begins, keep answering (readiness 503) this long before Nest closes connections (ms). */
  drainDelayMs?: number;
  /**
   * `raw` (default): answered by the adapter hook, like `/metrics`: no global
   * prefix, no guards, not counted as traffic. `controller`: an ordinary Nest
   * controller, so prefix, guards and HTTP metrics apply.
   */
  serve?: 'raw' | 'controller';
  /** `spec` (default): `{ status: healthy|unhealthy, checks }`. `terminus`: Terminus's own body. */
  format?: 'spec' | 'terminus';
}

export type ResolvedHealthOptions = Required<
  Omit<HealthOptions, 'database' | 'redis' | 'workers' | 'checks'>
> &
  Pick<HealthOptions, 'database' | 'redis' | 'workers'> & { checks: CustomHealthCheck[] };

const KEYS = [
  'path',
  'livenessPath',
  'readinessPath',
  'timeoutMs',
  'database',
  'redis',
  'workers',
  'checks',
  'drainDelayMs',
  'serve',
  'format',
];

export function resolveHealthOptions(o: HealthOptions = {}): ResolvedHealthOptions {
  for (const k of Object.keys(o)) {
    if (!KEYS.includes(k)) throw new ObservabilityOptionsError(`health.${k}`, 'unknown option');
  }
  const path = (key: 'path' | 'livenessPath' | 'readinessPath', dflt: string) => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'string' || !v.startsWith('/') || /[\s?#]/.test(v)) {
      throw new ObservabilityOptionsError(
        `health.${key}`,
        'must start with "/" and contain no spaces, "?" or "#"',
        v,
      );
    }
    return v;
  };
  const ms = (key: 'timeoutMs' | 'drainDelayMs', dflt: number, min: number) => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 600_000) {
      throw new ObservabilityOptionsError(
        `health.${key}`,
        `must be an integer from ${min} to 600000`,
        v,
      );
    }
    return v;
  };
  if (
    o.redis !== undefined &&
    typeof o.redis !== 'boolean' &&
    typeof (o.redis as RedisPinger).ping !== 'function'
  ) {
    throw new ObservabilityOptionsError(
      'health.redis',
      'must be true, false or a client with ping()',
    );
  }
  if (
    o.workers !== undefined &&
    typeof o.workers !== 'boolean' &&
    typeof o.workers?.queue !== 'string'
  ) {
    throw new ObservabilityOptionsError(
      'health.workers',
      'must be true, false or { queue: string }',
      o.workers,
    );
  }
  const checks = o.checks ?? [];
  if (
    !Array.isArray(checks) ||
    checks.some((c) => typeof c?.name !== 'string' || typeof c.check !== 'function')
  ) {
    throw new ObservabilityOptionsError('health.checks', 'must be an array of { name, check() }');
  }
  const resolved: ResolvedHealthOptions = {
    path: path('path', '/health'),
    livenessPath: path('livenessPath', '/health/live'),
    readinessPath: path('readinessPath', '/health/ready'),
    timeoutMs: ms('timeoutMs', 1000, 1),
    drainDelayMs: ms('drainDelayMs', 0, 0),
    database: o.database,
    redis: o.redis,
    workers: o.workers,
    checks,
    serve: o.serve ?? 'raw',
    format: o.format ?? 'spec',
  };
  if (!['raw', 'controller'].includes(resolved.serve)) {
    throw new ObservabilityOptionsError(
      'health.serve',
      'must be "raw" or "controller"',
      resolved.serve,
    );
  }
  if (!['spec', 'terminus'].includes(resolved.format)) {
    throw new ObservabilityOptionsError(
      'health.format',
      'must be "spec" or "terminus"',
      resolved.format,
    );
  }
  return resolved;
}
