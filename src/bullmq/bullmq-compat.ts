/**
 * What differs between BullMQ 5 and 6, read by shape (this file imports
 * nothing from bullmq, so the health module can use it without loading it).
 * BullMQ 6 moved the Redis client and connections behind `getBackend()`;
 * BullMQ 5 has them on the queue or worker itself.
 */

/** A Redis connection of BullMQ (RedisConnection): its ioredis client. */
interface ConnectionLike {
  _client?: unknown;
}

interface BullObjectLike {
  getBackend?: () =>
    | {
        client?: Promise<unknown>;
        connection?: ConnectionLike;
        blockingConnection?: ConnectionLike;
      }
    | undefined;
  client?: Promise<unknown>;
  connection?: ConnectionLike;
  blockingConnection?: ConnectionLike;
}

/** The promise of a queue's (or worker's) Redis client, on BullMQ 5 and 6. */
export function redisClientOf<C>(obj: object): Promise<C> | undefined {
  const o = obj as BullObjectLike;
  const backend = typeof o.getBackend === 'function' ? o.getBackend() : undefined;
  return (backend?.client ?? o.client) as Promise<C> | undefined;
}

/** The ioredis clients behind a queue, worker or flow producer (normal and blocking). */
export function rawClientsOf(obj: object): unknown[] {
  const o = obj as BullObjectLike;
  const backend = typeof o.getBackend === 'function' ? o.getBackend() : undefined;
  const holder = backend ?? o;
  return [holder.connection?._client, holder.blockingConnection?._client].filter(
    (c) => c !== undefined && c !== null,
  );
}
