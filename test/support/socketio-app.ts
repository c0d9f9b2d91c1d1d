import { IoAdapter } from '@nestjs/platform-socket.io';
import { Redis } from 'ioredis';
import { RoomsGateway } from '../../example/realtime.js';
import { SocketIoObservabilityModule } from '../../src/socketio/index.js';
import { ObservedRedisIoAdapter } from '../../src/socketio/redis-adapter.js';
import { REDIS_HOST, REDIS_PORT } from './redis.js';
import { startTestApp, type TestApp } from './test-app.js';

export interface SocketIoTestApp extends TestApp {
  redis?: { pub: Redis; sub: Redis };
}

/** An app with one gateway, on the Redis adapter when `redis` is set (tests only). */
export async function startSocketIoApp(opts: {
  redis: boolean;
  serverId: string;
  key?: string;
}): Promise<SocketIoTestApp> {
  const pub = opts.redis ? new Redis({ host: REDIS_HOST, port: REDIS_PORT }) : undefined;
  const sub = pub?.duplicate();
  const t = await startTestApp('express', {
    imports: [
      SocketIoObservabilityModule.forRoot({ serverId: opts.serverId, latencyProbeIntervalMs: 100 }),
    ],
    providers: [RoomsGateway],
    setup: (app) => {
      app.useWebSocketAdapter(
        pub && sub
          ? new ObservedRedisIoAdapter(app, pub, sub, { key: opts.key })
          : new IoAdapter(app),
      );
    },
  }).catch((err: unknown) => {
    pub?.disconnect();
    sub?.disconnect();
    throw err;
  });
  return {
    ...t,
    redis: pub && sub ? { pub, sub } : undefined,
    close: async () => {
      await t.close();
      pub?.disconnect();
      sub?.disconnect();
    },
  };
}
