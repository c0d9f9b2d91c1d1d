import 'reflect-metadata';
import type { CanActivate, INestApplication } from '@nestjs/common';
import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Put,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsInt, IsString, Min } from 'class-validator';
import type { ObservabilityModuleOptions } from '../../src/index.js';
import { ObservabilityModule, StructuredLogger, TraceContext } from '../../src/index.js';
import { LogCapture } from './log-capture.js';

export type AdapterKind = 'express' | 'fastify';
export const ADAPTERS: AdapterKind[] = ['express', 'fastify'];

class CreateItemDto {
  @IsString() name!: string;
  @IsInt() @Min(1) quantity!: number;
}

@Injectable()
class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false; // Nest answers 403
  }
}

@Injectable()
class AuthGuard implements CanActivate {
  canActivate(ctx: import('@nestjs/common').ExecutionContext): boolean {
    const req = ctx
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: unknown }>();
    if (req.headers['authorization'] !== 'Bearer good') throw new UnauthorizedException();
    req.user = { email: 'ada@example.com', id: 7 };
    return true;
  }
}

@Controller()
class TestController {
  constructor(
    private readonly trace: TraceContext,
    private readonly log: StructuredLogger,
  ) {}

  @Get('orgs/:orgId/items')
  list(@Param('orgId') orgId: string) {
    return { orgId, items: [] };
  }

  @Post('orgs/:orgId/items')
  create(@Param('orgId') orgId: string, @Body(new ValidationPipe()) body: CreateItemDto) {
    this.log.info('item created', { doctype: 'Item', docname: body.name });
    return { orgId, ...body, trace: this.trace.traceId };
  }

  @Put('orgs/:orgId/items')
  replace(@Param('orgId') orgId: string, @Body() body: unknown) {
    return { orgId, body };
  }

  @Get('denied')
  @UseGuards(DenyGuard)
  denied() {
    return 'never';
  }

  @Get('me')
  @UseGuards(AuthGuard)
  me() {
    this.log.info('who am i');
    return { user: this.trace.user };
  }

  @Get('boom')
  boom(): never {
    throw new TypeError('kaboom');
  }

  @Get('bad')
  bad(): never {
    throw new BadRequestException('bad thing');
  }

  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 400));
    return 'slow';
  }

  @Get('secrets')
  secrets() {
    this.log.warning('connecting to redis://:s3cr3t-pw@cache.internal:6379 failed', {
      password: 'hunter2',
      token: 'tok-123',
      nested: { apiKey: 'key-456', authorization: 'Bearer abc', cookie: 'sid=xyz' },
      dsn: 'postgres://app:pg-pass-789@db.internal/app',
      keep: 'visible',
    });
    return 'ok';
  }

  @Get('trace')
  async traced() {
    this.log.info('before await');
    await new Promise((r) => setTimeout(r, 5));
    this.log.info('after await');
    return { traceId: this.trace.traceId };
  }
}

export interface TestApp {
  app: INestApplication;
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface TestAppOptions {
  options?: Partial<ObservabilityModuleOptions>;
  /** Runs after create, before init (global prefix, guards, interceptors...). */
  setup?: (app: INestApplication) => void | Promise<void>;
  controllers?: unknown[];
  providers?: unknown[];
  imports?: unknown[];
}

export async function startTestApp(kind: AdapterKind, opts: TestAppOptions = {}): Promise<TestApp> {
  const logs = new LogCapture();
  @Module({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'test-api',
        site: 'test.example',
        ...opts.options,
        logging: { destination: logs, level: 'debug', ...opts.options?.logging },
      }),
      ...((opts.imports ?? []) as never[]),
    ],
    controllers: [TestController, ...((opts.controllers ?? []) as never[])],
    providers: (opts.providers ?? []) as never[],
  })
  class AppModule {}

  const adapter = kind === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { abortOnError: false });
  await opts.setup?.(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  return { app, url, logs, close: () => app.close() };
}
