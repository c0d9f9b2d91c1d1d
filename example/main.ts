import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { startPartnerApi } from './partner-api.js';
import { startTraffic } from './traffic.js';

/**
 * The demo: `npm run demo`. Environment:
 * - PORT (default 3000)
 * - DEMO_TRAFFIC=1|0 (default 1): built-in traffic generator (HTTP and Socket.IO clients)
 * - DEMO_ADAPTER=express|fastify (default express)
 * - REDIS_URL (default redis://127.0.0.1:6379): BullMQ, the Socket.IO adapter, sync state
 * - PARTNER_PORT (default: any free port): the fake partner API the demo calls
 * - PARTNER_URL: call this partner API instead of starting the fake one
 * - LOG_LEVEL (default info), LOG_BUFFER_LIMIT (logging.bufferLimit)
 * - METRICS_TOKEN: /metrics requires `Authorization: Bearer <token>`
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const partner = process.env.PARTNER_URL
    ? undefined
    : await startPartnerApi(Number(process.env.PARTNER_PORT ?? 0));
  if (partner) process.env.PARTNER_URL = partner.url;
  // Imported only now: the integration module reads PARTNER_URL when it is defined.
  const { AppModule } = await import('./app.module.js');
  const { RedisIoAdapter } = await import('./realtime.js');
  const adapter =
    process.env.DEMO_ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { bufferLogs: true });
  app.useWebSocketAdapter(new RedisIoAdapter(app));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(port, '0.0.0.0');
  const stop = process.env.DEMO_TRAFFIC === '0' ? () => undefined : startTraffic(port);
  const shutdown = () => {
    stop();
    partner?.server.closeAllConnections();
    partner?.server.close();
  };
  // The reliability suite's soak test measures the heap after a full GC
  // (node --expose-gc): SIGUSR2 collects.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) process.on('SIGUSR2', () => gc());
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void main();
