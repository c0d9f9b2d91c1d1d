import type { Redis } from 'ioredis';
import { ObservabilityOptionsError } from '../observability.options.js';

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

export interface ResolvedSyncOptions {
  redis?: string | Redis;
  redisKey: string;
  queueDepth?: SyncQueueReader;
  timeoutMs: number;
}

const KEYS = ['redis', 'redisKey', 'queueDepth', 'timeoutMs'];

export function resolveSyncOptions(input: SyncObservabilityOptions = {}): ResolvedSyncOptions {
  for (const k of Object.keys(input)) {
    if (!KEYS.includes(k)) throw new ObservabilityOptionsError(`sync.${k}`, 'unknown option');
  }
  const { redis, redisKey, queueDepth, timeoutMs } = input;
  if (
    redis !== undefined &&
    !(typeof redis === 'string' && /^rediss?:\/\//.test(redis)) &&
    !(typeof redis === 'object' && redis !== null && typeof redis.hgetall === 'function')
  ) {
    throw new ObservabilityOptionsError(
      'sync.redis',
      'must be a redis:// URL or an ioredis client',
      typeof redis === 'string' ? '(a string that is not a redis URL)' : typeof redis,
    );
  }
  if (redisKey !== undefined && (typeof redisKey !== 'string' || redisKey === '')) {
    throw new ObservabilityOptionsError('sync.redisKey', 'must be a non-empty string', redisKey);
  }
  if (queueDepth !== undefined && typeof queueDepth !== 'function') {
    throw new ObservabilityOptionsError('sync.queueDepth', 'must be a function', queueDepth);
  }
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1)
  ) {
    throw new ObservabilityOptionsError('sync.timeoutMs', 'must be a positive integer', timeoutMs);
  }
  return {
    redis,
    redisKey: redisKey ?? 'nestjs-observability:sync:last-success',
    queueDepth,
    timeoutMs: timeoutMs ?? 1000,
  };
}
