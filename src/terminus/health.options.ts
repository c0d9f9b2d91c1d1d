import type { Output } from '../options/schema.js';
import {
  bool,
  custom,
  fail,
  int,
  object,
  oneOf,
  optional,
  resolveWith,
  str,
  urlPath,
} from '../options/schema.js';

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

const schema = object<HealthOptions>()({
  path: str('/health', urlPath),
  livenessPath: str('/health/live', urlPath),
  readinessPath: str('/health/ready', urlPath),
  timeoutMs: int(1000, 1, 600_000),
  database: optional(bool(false)),
  redis: optional(
    custom((v, path) =>
      typeof v === 'boolean' || typeof (v as RedisPinger | null)?.ping === 'function'
        ? (v as boolean | RedisPinger)
        : fail(path, 'must be true, false or a client with ping()'),
    ),
  ),
  workers: optional(
    custom((v, path) =>
      typeof v === 'boolean' || typeof (v as { queue?: unknown } | null)?.queue === 'string'
        ? (v as boolean | { queue: string })
        : fail(path, 'must be true, false or { queue: string }', v),
    ),
  ),
  checks: custom(
    (v, path) =>
      Array.isArray(v) &&
      v.every(
        (c: Partial<CustomHealthCheck> | null) =>
          typeof c?.name === 'string' && typeof c.check === 'function',
      )
        ? (v as CustomHealthCheck[])
        : fail(path, 'must be an array of { name, check() }'),
    () => [],
  ),
  drainDelayMs: int(0, 0, 600_000),
  serve: oneOf(['raw', 'controller'] as const, 'raw'),
  format: oneOf(['spec', 'terminus'] as const, 'spec'),
});

export type ResolvedHealthOptions = Output<typeof schema>;

export function resolveHealthOptions(o: HealthOptions = {}): ResolvedHealthOptions {
  return resolveWith(schema, o, 'health');
}
