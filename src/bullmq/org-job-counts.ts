import { redisClientOf } from './bullmq-compat.js';
import type { QueueBase } from 'bullmq';

interface RedisLike {
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  hlen(key: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hscan(key: string, cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
}

// Applies (org, delta) pairs atomically; a field that reaches zero is
// dropped, and never goes below zero (a job enqueued by an uninstrumented
// producer was never counted up).
const APPLY = `
for i = 1, #ARGV, 2 do
  local org = ARGV[i]
  local v = tonumber(redis.call('HGET', KEYS[1], org) or '0') + tonumber(ARGV[i + 1])
  if v <= 0 then redis.call('HDEL', KEYS[1], org) else redis.call('HSET', KEYS[1], org, v) end
end
return 0`;

/** Decrements wait this long to be sent together (increments go out on the next turn). */
const DECREMENT_BATCH_MS = 50;

interface Pending {
  queue: QueueBase;
  deltas: Map<string, number>;
}

/** Past this many organizations with pending jobs in one queue, the rest are summed under the overflow value. */
export const MAX_ORGS_READ = 2000;

/**
 * Per-organization counts of unfinished jobs (waiting, delayed or active),
 * kept in a Redis hash next to the queue's own keys: +1 when a job is added,
 * -1 when it succeeds or fails for good. Shared by every instance of the app,
 * so all report the same values, and read with one bounded call per scrape.
 */
export class OrgJobCounts {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    readonly enabled: boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  static key(queue: Pick<QueueBase, 'qualifiedName'>): string {
    return `${queue.qualifiedName}:nestjs-observability:org-jobs`;
  }

  private client(queue: QueueBase): Promise<RedisLike> | undefined {
    return redisClientOf<RedisLike>(queue);
  }

  /**
   * +1 for a job added. Changes are buffered and sent as one script call per
   * queue: increments on the next event-loop turn (an `addBulk` is one call),
   * decrements within 50 ms (completions of many jobs are one call), so the
   * counts cost one Redis round trip per batch, not per job.
   */
  increment(queue: QueueBase, org: string): void {
    this.add(queue, org, 1);
    this.immediate ??= setImmediate(() => void this.flush());
  }

  /** -1 for a job that finished for good. */
  decrement(queue: QueueBase, org: string): void {
    this.add(queue, org, -1);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), DECREMENT_BATCH_MS);
      this.timer.unref();
    }
  }

  private add(queue: QueueBase, org: string, delta: number): void {
    if (!this.enabled) return;
    const key = OrgJobCounts.key(queue);
    let p = this.pending.get(key);
    if (p === undefined) this.pending.set(key, (p = { queue, deltas: new Map() }));
    p.deltas.set(org, (p.deltas.get(org) ?? 0) + delta);
  }

  /** Sends every buffered change (also called on shutdown). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const sends = batch.map(async ([key, p]) => {
      const args: string[] = [];
      for (const [org, d] of p.deltas) if (d !== 0) args.push(org, String(d));
      const c = this.client(p.queue);
      if (args.length === 0 || !c) return;
      try {
        await (await c).eval(APPLY, 1, key, ...args);
      } catch (err) {
        this.onError(err);
      }
    });
    return Promise.all(sends).then(() => undefined);
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
