import 'reflect-metadata';
import type { CanActivate, INestApplication } from '@nestjs/common';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { BullModule } from '@nestjs/bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { BullMqObservabilityModule } from '../../src/bullmq/index.js';
import { ObservabilityModule } from '../../src/index.js';
import type { HealthOptions } from '../../src/terminus/index.js';
import { HealthObservabilityModule } from '../../src/terminus/index.js';
import { CriticalProcessor, DefaultProcessor } from './bull-app.js';
import { LogCapture } from './log-capture.js';
import { PG } from './typeorm-app.js';

@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Controller()
class Ping {
  @Get('ping')
  ping() {
    return 'pong';
  }
}

export interface HealthAppOptions {
  adapter?: 'express' | 'fastify';
  /** PostgreSQL through this port (a proxy the test controls), or none. */
  pgPort?: number;
  pgPassword?: string;
  /** Redis on this port (BullMQ), or none. */
  redisPort?: number;
  redisPassword?: string;
  processors?: boolean;
  health?: HealthOptions;
  globalPrefix?: string;
  denyAll?: boolean;
}

export interface HealthApp {
  app: INestApplication;
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export async function startHealthApp(o: HealthAppOptions): Promise<HealthApp> {
  const logs = new LogCapture();
  const imports: unknown[] = [
    ObservabilityModule.forRoot({
      serviceName: 'health-test',
      logging: { destination: logs, level: 'debug' },
    }),
    HealthObservabilityModule.forRoot(o.health),
  ];
  if (o.pgPort !== undefined) {
    const password = o.pgPassword ?? 'unused-password';
    imports.push(
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: `postgres://${PG.username}:${encodeURIComponent(password)}@127.0.0.1:${o.pgPort}/${PG.database}`,
        retryAttempts: 1,
        extra: { connectionTimeoutMillis: 2000 },
      }),
    );
  }
  if (o.redisPort !== undefined) {
    imports.push(
      BullModule.forRoot({
        connection: {
          host: '127.0.0.1',
          port: o.redisPort,
          ...(o.redisPassword ? { password: o.redisPassword } : {}),
        },
        prefix: `nestobs-health-${process.pid}-${o.redisPort}`,
      }),
      BullModule.registerQueue({ name: 'default' }, { name: 'critical' }),
      BullMqObservabilityModule.forRoot({ shutdownTimeoutMs: 1000, gaugeTimeoutMs: 300 }),
    );
  }
  @Module({
    imports: imports as never[],
    controllers: [Ping],
    providers: [
      ...(o.redisPort !== undefined && o.processors !== false
        ? [DefaultProcessor, CriticalProcessor]
        : []),
      ...(o.denyAll ? [{ provide: APP_GUARD, useClass: DenyAll }] : []),
    ],
  })
  class HealthAppModule {}
  const app = await NestFactory.create(
    HealthAppModule,
    o.adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    { logger: false },
  );
  if (o.globalPrefix) app.setGlobalPrefix(o.globalPrefix);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, logs, close: () => app.close() };
}

/** A TCP proxy to a local port, which the test can take down and bring back (a database "going away"). */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}

  private frozen = false;

  /** Keeps every connection open but stops forwarding: a database that hangs (locked, overloaded). */
  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
  }

  async start(): Promise<void> {
    const srv = createServer((client) => {
      if (this.frozen) {
        this.sockets.add(client);
        client.on('close', () => this.sockets.delete(client));
        client.on('error', () => undefined);
        return;
      }
      const upstream = createConnection(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => srv.listen(this.port, '127.0.0.1', r));
    this.server = srv;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }
}
