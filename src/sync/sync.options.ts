import type { Redis } from 'ioredis';
import type { Output } from '../options/schema.js';
import { custom, fail, fn, int, object, optional, resolveWith, str } from '../options/schema.js';

/** Pending sync operations per organization, read at scrape time. */
export type SyncQueueReader = () =>
  | Record<string, number>
  | Map<string, number>
  | Promise<Record<string, number> | Map<string, number>>;

export interface SyncObservabilityOptions {
  /**
   * Keep each organization's last successful sync in Redis, so that every
   * instance reports `sync_lag_seconds` as the time since that organization
   * last synced on any instance. A URL (the module opens and closes its own
   * connection) or an ioredis client you own.
   */
  redis?: string | Redis;
  /** Redis hash that holds the last-success times (default `nestjs-observability:sync:last-success`). */
  redisKey?: string;
  /** Reads the pending queue per organization at scrape time (instead of `SyncMetrics.setQueueDepth`). */
  queueDepth?: SyncQueueReader;
  /** Time limit of the scrape-time read (Redis, `queueDepth`), in ms (default 1000). */
  timeoutMs?: number;
}

const schema = object<SyncObservabilityOptions>()({
  redis: optional(
    custom((v, path) => {
      if (typeof v === 'string' && /^rediss?:\/\//.test(v)) return v;
      if (typeof v === 'object' && v !== null && typeof (v as Redis).hgetall === 'function') {
        return v as Redis;
      }
      // Never echo the string: a Redis URL may carry a password.
      return fail(
        path,
        'must be a redis:// URL or an ioredis client',
        typeof v === 'string' ? '(a string that is not a redis URL)' : typeof v,
      );
    }),
  ),
  redisKey: str('nestjs-observability:sync:last-success'),
  queueDepth: fn<SyncQueueReader>(),
  timeoutMs: int(1000, 1),
});

export type ResolvedSyncOptions = Output<typeof schema>;

export function resolveSyncOptions(input: SyncObservabilityOptions = {}): ResolvedSyncOptions {
  return resolveWith(schema, input, 'sync');
}
