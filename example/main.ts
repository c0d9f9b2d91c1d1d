import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import { startTraffic } from './traffic.js';

/**
 * The demo: `npm run demo`. Environment:
 * - PORT (default 3000)
 * - DEMO_TRAFFIC=1|0 (default 1): built-in traffic generator
 * - DEMO_ADAPTER=express|fastify (default express)
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const adapter =
    process.env.DEMO_ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app = await NestFactory.create(AppModule, adapter, { bufferLogs: true });
  app.enableShutdownHooks();
  await app.listen(port, '0.0.0.0');
  const stop = process.env.DEMO_TRAFFIC === '0' ? () => undefined : startTraffic(port);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
