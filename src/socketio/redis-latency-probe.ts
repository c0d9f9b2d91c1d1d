import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';

/** The adapter's Redis clients: ioredis, or node-redis v4+ (told apart as the adapter does). */
interface RedisClients {
  pubClient: { publish(channel: string, message: string): unknown };
  subClient: {
    subscribe(channel: string, ...rest: unknown[]): unknown;
    unsubscribe(channel: string, ...rest: unknown[]): unknown;
    on?(event: string, listener: (...args: unknown[]) => void): unknown;
    off?(event: string, listener: (...args: unknown[]) => void): unknown;
    pSubscribe?: unknown;
  };
}

/** Whether a namespace adapter talks to Redis (the Redis adapter and its subclasses). */
export function redisClientsOf(adapter: unknown): RedisClients | undefined {
  const a = adapter as Partial<RedisClients> | undefined;
  return a?.pubClient && a.subClient && typeof a.pubClient.publish === 'function'
    ? (a as RedisClients)
    : undefined;
}

/**
 * Measures the Redis pub/sub round trip through the adapter's own clients:
 * publishes a probe on the publishing client and times its arrival on the
 * subscribed one, on a channel of its own that the adapter ignores.
 */
export class RedisLatencyProbe {
  private readonly channel = `nestjs-observability#probe#${randomBytes(6).toString('hex')}`;
  private readonly sent = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private first: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private seq = 0;

  constructor(
    private readonly clients: RedisClients,
    private readonly observe: (seconds: number) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(intervalMs: number): void {
    const sub = this.clients.subClient;
    const receive = (message: string) => {
      const t0 = this.sent.get(message);
      if (t0 === undefined) return;
      this.sent.delete(message);
      this.observe((performance.now() - t0) / 1000);
    };
    if (typeof sub.pSubscribe === 'function') {
      // node-redis v4+: a listener per channel.
      const listener = (msg: Buffer | string) => receive(String(msg));
      void Promise.resolve(sub.subscribe(this.channel, listener)).catch(this.onError);
      this.unlisten = () =>
        void Promise.resolve(sub.unsubscribe(this.channel, listener)).catch(() => undefined);
    } else {
      // ioredis: one 'message' event for every channel the client is subscribed to.
      const listener = (channel: unknown, msg: unknown) => {
        if (String(channel) === this.channel) receive(String(msg));
      };
      sub.on?.('message', listener);
      void Promise.resolve(sub.subscribe(this.channel)).catch(this.onError);
      this.unlisten = () => {
        sub.off?.('message', listener);
        void Promise.resolve(sub.unsubscribe(this.channel)).catch(() => undefined);
      };
    }
    // A first probe soon after start, then one per interval.
    this.first = setTimeout(() => this.probe(), 100);
    this.first.unref();
    this.timer = setInterval(() => this.probe(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.timer);
    this.unlisten?.();
    this.sent.clear();
  }

  private probe(): void {
    // Probes that never came back (Redis down) are dropped, not kept forever.
    if (this.sent.size > 10) this.sent.clear();
    const id = String(++this.seq);
    this.sent.set(id, performance.now());
    try {
      void Promise.resolve(this.clients.pubClient.publish(this.channel, id)).catch(this.onError);
    } catch (err) {
      this.onError(err);
    }
  }
}
