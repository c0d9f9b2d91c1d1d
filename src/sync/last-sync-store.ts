import type { Redis } from 'ioredis';

// Keeps the later of the stored and the new time, so instances never move it back.
const SET_MAX = `local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

/**
 * Organizations this process remembers at most; past it the one that synced
 * least recently is forgotten here (Redis keeps it). Far above any label cap,
 * so every organization that can have a series of its own is kept, and a
 * flood of organization names cannot grow memory without bound.
 */
export const MAX_LOCAL_ORGS = 10_000;

/**
 * When each organization last synced successfully: in this process, and in
 * a Redis hash shared by every instance when one is configured.
 */
export class LastSyncStore {
  /** This process's own successes (ms since epoch); also the fallback when Redis fails. */
  readonly local = new Map<string, number>();

  constructor(
    private readonly redis: Redis | undefined,
    private readonly key: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  record(org: string, atMs: number): void {
    const known = this.local.get(org);
    if (known === undefined || known < atMs) {
      // re-inserted, so the Map's order is least recently synced first
      this.local.delete(org);
      this.local.set(org, atMs);
      if (this.local.size > MAX_LOCAL_ORGS) this.local.delete(this.local.keys().next().value!);
    }
    this.redis?.eval(SET_MAX, 1, this.key, org, String(atMs)).catch(this.onError);
  }

  forget(org: string): void {
    this.local.delete(org);
    this.redis?.hdel(this.key, org).catch(this.onError);
  }

  /**
   * The latest success per organization: this process's, merged with what
   * every instance wrote to Redis. `redisError` is set when Redis could not
   * be read (the local times are returned anyway).
   */
  async read(): Promise<{ times: Map<string, number>; redisError?: unknown }> {
    const times = new Map(this.local);
    if (this.redis === undefined) return { times };
    try {
      const remote = await this.redis.hgetall(this.key);
      for (const [org, v] of Object.entries(remote)) {
        const ms = Number(v);
        if (Number.isFinite(ms) && (times.get(org) ?? -Infinity) < ms) times.set(org, ms);
      }
      return { times };
    } catch (redisError) {
      return { times, redisError };
    }
  }
}
