import { redisClientOf } from '../bullmq/bullmq-compat.js';
import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { HttpException, Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { HealthCheckResult, HealthIndicatorFunction } from '@nestjs/terminus';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { scrubUrlCredentials } from '../logging/redact.js';
import type { RedisPinger, ResolvedHealthOptions } from './health.options.js';

export const HEALTH_OPTIONS = Symbol('nestjs-observability:health-options');

/** A TypeORM DataSource, recognised by shape (TypeORM is not imported here). */
interface DataSourceLike {
  isInitialized: boolean;
  options: { type: string; name?: string; password?: unknown; url?: unknown };
  query(sql: string): Promise<unknown>;
}

/** A BullMQ Queue, recognised by shape. */
interface QueueLike {
  name: string;
  opts: { connection?: { password?: unknown } };
  /** BullMQ 5.1+ and 6. */
  getWorkersCount?(): Promise<number>;
  /** Every BullMQ version. */
  getWorkers(): Promise<unknown[]>;
}

const isDataSource = (v: unknown): v is DataSourceLike =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as DataSourceLike).query === 'function' &&
  typeof (v as DataSourceLike).isInitialized === 'boolean' &&
  typeof (v as DataSourceLike).options?.type === 'string';

const isQueue = (v: unknown): v is QueueLike =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as QueueLike).getWorkers === 'function' &&
  redisClientOf(v as object) !== undefined &&
  typeof (v as QueueLike).name === 'string';

export interface HealthResponse {
  httpStatus: number;
  body: Record<string, unknown>;
}

type CheckStatus = 'healthy' | 'unhealthy';

/**
 * The spec's health check on @nestjs/terminus: `database`, `redis` and
 * `workers` (each only when the app uses that part, or when required by the
 * options), your own checks, a time limit on each, error details without
 * credentials, liveness and readiness for orchestrators.
 */
@Injectable()
export class ObservabilityHealth
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private indicators: HealthIndicatorFunction[] = [];
  private secrets: string[] = [];
  private shuttingDown = false;
  private configError: string | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicatorService: HealthIndicatorService,
    private readonly discovery: DiscoveryService,
    @Inject(HEALTH_OPTIONS) private readonly options: ResolvedHealthOptions,
  ) {}

  onApplicationBootstrap(): void {
    const dataSources: DataSourceLike[] = [];
    const queues: QueueLike[] = [];
    for (const w of this.discovery.getProviders()) {
      const i = w.instance as unknown;
      // One instance can sit under several tokens (TypeORM 0.3's DataSource and Connection).
      if (isDataSource(i) && i.options.type !== 'mongodb') {
        if (!dataSources.includes(i)) dataSources.push(i);
      } else if (isQueue(i) && !queues.includes(i)) queues.push(i);
    }
    this.secrets = collectSecrets(dataSources, queues);
    const o = this.options;
    const problems: string[] = [];
    const list: HealthIndicatorFunction[] = [];

    if (o.database === true && dataSources.length === 0)
      problems.push('database check required but the app has no TypeORM DataSource');
    if (o.database !== false && dataSources.length > 0)
      list.push(() => this.databaseCheck(dataSources));

    const pinger = typeof o.redis === 'object' ? o.redis : undefined;
    const queueClient = queues[0] && redisClientOf<RedisPinger>(queues[0]);
    if (o.redis === true && !queueClient)
      problems.push('redis check required but the app has no BullMQ queue; pass a client');
    if (pinger || (o.redis !== false && queueClient)) {
      list.push(() => this.redisCheck(pinger ?? { ping: async () => (await queueClient!).ping() }));
    }

    const workerQueue = typeof o.workers === 'object' ? o.workers.queue : 'default';
    const queue = queues.find((q) => q.name === workerQueue);
    if (o.workers !== undefined && o.workers !== false && !queue) {
      problems.push(`workers check required but no BullMQ queue "${workerQueue}" is registered`);
    }
    if (o.workers !== false && queue) list.push(() => this.workersCheck(queue));

    for (const c of o.checks) list.push(() => this.customCheck(c.name, c.check));
    this.indicators = list;
    // A required check with nothing to check is reported by the endpoint (503)
    // rather than failing start-up: the app keeps serving.
    this.configError = problems.length ? problems.join('; ') : undefined;
  }

  onModuleDestroy(): void {
    // First of Nest's shutdown hooks: readiness fails from here on, while
    // connections are still open.
    this.shuttingDown = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.options.drainDelayMs > 0)
      await new Promise((r) => setTimeout(r, this.options.drainDelayMs));
  }

  liveness(): HealthResponse {
    return { httpStatus: 200, body: { status: 'healthy' } };
  }

  async readiness(): Promise<HealthResponse> {
    if (this.shuttingDown)
      return { httpStatus: 503, body: { status: 'shutting_down', checks: {} } };
    return this.check();
  }

  /** Runs every check. */
  async check(): Promise<HealthResponse> {
    let result: HealthCheckResult;
    try {
      result = await this.health.check(this.indicators);
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      result = err.getResponse() as HealthCheckResult;
    }
    if (this.configError) {
      result = {
        ...result,
        status: 'error',
        error: { ...result.error, configuration: { status: 'down', message: this.configError } },
        details: {
          ...result.details,
          configuration: { status: 'down', message: this.configError },
        },
      };
    }
    const ok = result.status === 'ok';
    const httpStatus = ok ? 200 : 503;
    if (this.options.format === 'terminus')
      return { httpStatus, body: result as unknown as Record<string, unknown> };
    const checks: Record<string, Record<string, unknown>> = {};
    for (const [name, d] of Object.entries(result.details ?? {})) {
      const { status, message, responseTime, ...rest } = d as Record<string, unknown>;
      const s: CheckStatus = status === 'up' ? 'healthy' : 'unhealthy';
      checks[name] = {
        status: s,
        ...rest,
        ...(typeof responseTime === 'number' ? { duration_ms: responseTime } : {}),
        ...(s === 'unhealthy' && message !== undefined ? { error: message } : {}),
      };
    }
    return { httpStatus, body: { status: ok ? 'healthy' : 'unhealthy', checks } };
  }

  /** Answers on raw Node objects (the adapter hook calls this). */
  serve(kind: 'health' | 'live' | 'ready', req: IncomingMessage, res: ServerResponse): void {
    const respond = (r: HealthResponse) => {
      if (res.headersSent || res.destroyed) return;
      const json = JSON.stringify(r.body);
      res.writeHead(r.httpStatus, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(json),
      });
      res.end(req.method === 'HEAD' ? undefined : json);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const run =
      kind === 'live'
        ? Promise.resolve(this.liveness())
        : kind === 'ready'
          ? this.readiness()
          : this.check();
    run.then(respond, () =>
      respond({ httpStatus: 503, body: { status: 'unhealthy', checks: {} } }),
    );
  }

  // --- the checks ------------------------------------------------------------

  private attempt(
    name: string,
    fn: (signal: AbortSignal) => Promise<Record<string, unknown> | void>,
  ) {
    return this.indicatorService
      .check(name)
      .attempt(async ({ signal }) => {
        try {
          return await fn(signal);
        } catch (err) {
          // Terminus puts the message in the body: only the kind of failure, never credentials.
          throw new Error(this.sanitize(err));
        }
      })
      .withTimeout(this.options.timeoutMs);
  }

  private databaseCheck(dataSources: DataSourceLike[]) {
    return this.attempt('database', async () => {
      await Promise.all(
        dataSources.map(async (ds) => {
          const name = ds.options.name ?? 'default';
          if (!ds.isInitialized) throw new Error(`data source "${name}" is not initialized`);
          try {
            await ds.query('SELECT 1');
          } catch (err) {
            throw new Error(`data source "${name}": ${this.sanitize(err)}`);
          }
        }),
      );
      return { data_sources: dataSources.length };
    });
  }

  private redisCheck(pinger: RedisPinger) {
    return this.attempt('redis', async () => {
      await pinger.ping();
    });
  }

  private workersCheck(queue: QueueLike) {
    return this.attempt('workers', async () => {
      const workers =
        typeof queue.getWorkersCount === 'function'
          ? await queue.getWorkersCount()
          : (await queue.getWorkers()).length;
      if (workers === 0) throw new Error(`no worker serves queue "${queue.name}"`);
      return { workers, queue: queue.name };
    });
  }

  private customCheck(name: string, fn: (signal: AbortSignal) => unknown) {
    return this.attempt(
      name,
      async (signal) => (await fn(signal)) as Record<string, unknown> | void,
    );
  }

  private sanitize(err: unknown): string {
    const e = err as { message?: unknown; code?: unknown; name?: unknown } | null;
    let msg = typeof e?.message === 'string' && e.message ? e.message : String(err);
    if (typeof e?.code === 'string' && !msg.includes(e.code)) msg = `${e.code}: ${msg}`;
    msg = scrubUrlCredentials(msg);
    for (const s of this.secrets) msg = msg.split(s).join('***');
    return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
  }
}

/** Passwords of the app's connections, to cut out of any error message. */
function collectSecrets(dataSources: DataSourceLike[], queues: QueueLike[]): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 3) out.add(v);
  };
  for (const ds of dataSources) {
    add(ds.options.password);
    if (typeof ds.options.url === 'string') {
      try {
        add(decodeURIComponent(new URL(ds.options.url).password));
      } catch {
        // not a URL
      }
    }
  }
  for (const q of queues) add(q.opts.connection?.password);
  return [...out];
}
