import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { RedisAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';
import type { RedisAdapterOptions } from '@socket.io/redis-adapter';
import type { BroadcastOptions } from 'socket.io-adapter';
import { eventTypeOf, publishedCounterOf } from './published-counter.js';

/**
 * `@socket.io/redis-adapter`'s adapter, counting every broadcast it publishes
 * to Redis in `socketio_messages_published_total`. A subclass of ours, not a
 * patch: everything else is the original adapter.
 */
export class ObservedRedisAdapter extends RedisAdapter {
  override broadcast(packet: { type?: number; data?: unknown }, opts: BroadcastOptions): void {
    this.countPublished(packet, opts);
    super.broadcast(packet, opts);
  }

  override broadcastWithAck(
    packet: { type?: number; data?: unknown },
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    this.countPublished(packet, opts);
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  private countPublished(packet: { type?: number; data?: unknown }, opts: BroadcastOptions): void {
    if (opts?.flags?.local) return; // stays on this server, never reaches Redis
    try {
      const event = eventTypeOf(packet);
      const server = (this.nsp as { server?: object }).server;
      if (event !== undefined) publishedCounterOf(server)?.(event);
    } catch {
      // counting must never break a broadcast
    }
  }
}

/**
 * Drop-in for `createAdapter` of `@socket.io/redis-adapter` that also counts
 * published messages:
 *
 * ```ts
 * import { createAdapter } from 'nestjs-observability/socketio-redis';
 * server.adapter(createAdapter(pubClient, subClient));
 * ```
 */
export function createAdapter(
  pubClient: unknown,
  subClient: unknown,
  opts?: Partial<RedisAdapterOptions>,
): (nsp: unknown) => ObservedRedisAdapter {
  // Socket.IO calls the factory with `new`: a function, not an arrow.
  return function observedAdapter(nsp: unknown) {
    return new ObservedRedisAdapter(nsp, pubClient, subClient, opts);
  };
}

/**
 * Nest's documented Redis `IoAdapter`, on the observed adapter:
 *
 * ```ts
 * const pub = new Redis(url);
 * app.useWebSocketAdapter(new ObservedRedisIoAdapter(app, pub, pub.duplicate()));
 * ```
 *
 * The clients stay yours (close them after `app.close()`).
 */
export class ObservedRedisIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly pubClient: unknown,
    private readonly subClient: unknown,
    private readonly options?: Partial<RedisAdapterOptions>,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    server.adapter(createAdapter(this.pubClient, this.subClient, this.options) as never);
    return server;
  }
}
