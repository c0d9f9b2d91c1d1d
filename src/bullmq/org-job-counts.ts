import type { QueueBase } from 'bullmq';

interface RedisLike {
  hincrby(key: string, field: string, by: number): Promise<unknown>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  hlen(key: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hscan(key: string, cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
}

// Decrement and drop the field at zero, atomically; never below zero (a job
// enqueued by an uninstrumented producer was never counted up).
const DECREMENT = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
v = tonumber(v) - 1
if v <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], v) end
return v`;

/** Past this many organizations with pending jobs in one queue, the rest are summed under the overflow value. */
export const MAX_ORGS_READ = 2000;

/**
 * Per-organization counts of unfinished jobs (waiting, delayed or active),
 * kept in a Redis hash next to the queue's own keys: +1 when a job is added,
 * -1 when it succeeds or fails for good. Shared by every instance of the app,
 * so all report the same values, and read with one bounded call per scrape.
 */
export class OrgJobCounts {
  constructor(
    readonly enabled: boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  static key(queue: Pick<QueueBase, 'qualifiedName'>): string {
    return `${queue.qualifiedName}:nestjs-observability:org-jobs`;
  }

  private client(queue: QueueBase): Promise<RedisLike> | undefined {
    const backend = (
      queue as { getBackend?: () => { client?: Promise<RedisLike> } }
    ).getBackend?.();
    return backend?.client;
  }

  increment(queue: QueueBase, _name: string, org: string): void {
    if (!this.enabled) return;
    const c = this.client(queue);
    if (c) c.then((r) => r.hincrby(OrgJobCounts.key(queue), org, 1)).catch(this.onError);
  }

  decrement(queue: QueueBase, _name: string, org: string): void {
    if (!this.enabled) return;
    const c = this.client(queue);
    if (c) c.then((r) => r.eval(DECREMENT, 1, OrgJobCounts.key(queue), org)).catch(this.onError);
  }

  /** Counts by organization; past MAX_ORGS_READ organizations, a partial read (see `complete`). */
  async read(queue: QueueBase): Promise<{ counts: Map<string, number>; complete: boolean }> {
    const counts = new Map<string, number>();
    if (!this.enabled) return { counts, complete: true };
    const c = this.client(queue);
    if (!c) return { counts, complete: true };
    const redis = await c;
    const key = OrgJobCounts.key(queue);
    const size = await redis.hlen(key);
    let entries: [string, string][];
    if (size <= MAX_ORGS_READ) {
      entries = Object.entries(await redis.hgetall(key));
    } else {
      const [, flat] = await redis.hscan(key, '0', 'COUNT', MAX_ORGS_READ);
      entries = [];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
    }
    for (const [org, v] of entries) {
      const n = Number(v);
      if (Number.isFinite(n) && n > 0) counts.set(org, n);
    }
    return { counts, complete: size <= MAX_ORGS_READ };
  }
}
