import type { OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { CoreDeps } from '../core-deps.js';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily } from '../metrics/families.js';
import { LastSyncStore } from './last-sync-store.js';
import { SyncGauges } from './sync-gauges.collector.js';
import type { ResolvedSyncOptions } from './sync.options.js';

const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The sync layer's metrics:
 *
 * ```ts
 * constructor(private readonly sync: SyncMetrics) {}
 * this.sync.delta('Invoice', 'update');          // org from the current context
 * this.sync.conflict('Invoice', 'last-write-wins');
 * this.sync.succeeded('acme');                    // sync_lag_seconds restarts from 0
 * this.sync.setQueueDepth('acme', pending.length);
 * ```
 */
export class SyncMetrics implements OnApplicationShutdown {
  private readonly deltas: CounterFamily<'doctype' | 'org' | 'operation'>;
  private readonly conflicts: CounterFamily<'doctype' | 'strategy'>;
  private readonly store: LastSyncStore;
  private readonly removeCollector: () => void;
  private lastErrorLog = -Infinity;

  private constructor(
    private readonly deps: CoreDeps,
    options: ResolvedSyncOptions,
    private readonly redis: Redis | undefined,
    private readonly ownsRedis: boolean,
  ) {
    deps.registry.useGroup('sync');
    this.deltas = deps.registry.counter(CATALOG.syncDeltasTotal);
    this.conflicts = deps.registry.counter(CATALOG.syncConflictsTotal);
    this.store = new LastSyncStore(redis, options.redisKey, (err) => this.redisFailed(err));
    this.removeCollector = deps.registry.addCollector(
      new SyncGauges(deps.registry, this.store, options.queueDepth, options.timeoutMs),
    );
  }

  /** Opens the Redis connection when a URL is configured (ioredis is loaded only then). */
  static async create(options: ResolvedSyncOptions, deps: CoreDeps): Promise<SyncMetrics> {
    if (typeof options.redis !== 'string') {
      return new SyncMetrics(deps, options, options.redis, false);
    }
    let ioredis: { Redis: typeof import('ioredis').Redis };
    try {
      ioredis = await import('ioredis');
    } catch {
      throw new Error(
        'nestjs-observability: sync.redis needs the "ioredis" package: npm install ioredis',
      );
    }
    const redis = new ioredis.Redis(options.redis, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    redis.on('error', () => undefined); // reported per failed command instead
    return new SyncMetrics(deps, options, redis, true);
  }

  /** Counts `count` deltas of one doctype and operation (`insert`, `update`, `delete`, ...). */
  delta(doctype: string, operation: string, org?: string, count = 1): void {
    this.deltas.inc({ doctype, operation, org: this.orgOf(org) }, count);
  }

  /** Counts a conflict and the strategy that resolved it. */
  conflict(doctype: string, strategy: string, count = 1): void {
    this.conflicts.inc({ doctype, strategy }, count);
  }

  /** Marks a successful sync of an organization: its `sync_lag_seconds` restarts from 0. */
  succeeded(org?: string, at: Date | number = Date.now()): void {
    const ms = at instanceof Date ? at.getTime() : at;
    if (!Number.isFinite(ms)) {
      this.deps.registry.countInternalError('sync');
      return;
    }
    this.store.record(this.orgOf(org), ms);
  }

  /** Sets the pending sync operations of an organization. */
  setQueueDepth(org: string, depth: number): void {
    this.deps.registry.gauge(CATALOG.syncQueueDepth).set({ org }, depth);
  }

  /** Stops reporting an organization (removed, or no longer syncing). */
  forget(org: string): void {
    this.store.forget(org);
    this.deps.registry.gauge(CATALOG.syncLagSeconds).remove({ org });
    this.deps.registry.gauge(CATALOG.syncQueueDepth).remove({ org });
  }

  onApplicationShutdown(): void {
    this.removeCollector();
    // A connection the app passed in is the app's to close.
    if (this.ownsRedis) this.redis?.disconnect();
  }

  private orgOf(org: string | undefined): string {
    return org ?? this.deps.trace.organization ?? this.deps.fallbackOrg;
  }

  private redisFailed(err: unknown): void {
    this.deps.registry.countInternalError('sync:redis');
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.deps.log.warn({ err }, 'nestjs-observability: sync last-success write to Redis failed');
  }
}
