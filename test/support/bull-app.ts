import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Body, Controller, Get, Injectable, Module, Post, SetMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { BullModule, InjectFlowProducer, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import * as bullmq from 'bullmq';
import type { FlowProducer, Job, Queue } from 'bullmq';
import type { BullMqObservabilityOptions } from '../../src/bullmq/index.js';
import { BullMqObservabilityModule, BullMqTelemetry } from '../../src/bullmq/index.js';
import { InstrumentJob, ObservabilityModule, StructuredLogger } from '../../src/index.js';
import { LogCapture } from './log-capture.js';
import { REDIS_HOST, REDIS_PORT } from './redis.js';

@Processor('default')
export class DefaultProcessor extends WorkerHost {
  constructor(private readonly log: StructuredLogger) {
    super();
  }

  async process(job: Job<{ organization?: string }>): Promise<string> {
    if (job.name === 'always-fails') throw new Error('permanent failure');
    if (job.name === 'fails-once' && job.attemptsMade === 0) throw new Error('transient failure');
    this.log.info('inside job', { docname: String(job.id) });
    await new Promise((r) => setTimeout(r, 2));
    return 'ok';
  }
}

@Processor('critical')
export class CriticalProcessor extends WorkerHost {
  async process(): Promise<string> {
    return 'done';
  }
}

@Injectable()
export class ReportService {
  calls = 0;
  @InstrumentJob('reports')
  @SetMetadata('custom:marker', 'kept')
  async build(input: { organization: string; fail?: boolean }): Promise<number> {
    this.calls++;
    if (input.fail) throw new RangeError('report too large');
    return 42;
  }

  @InstrumentJob()
  syncWork(x: number): number {
    return x * 2;
  }
}

@Controller()
class EnqueueController {
  constructor(
    @InjectQueue('default') private readonly queue: Queue,
    @InjectFlowProducer('flows') private readonly flows: FlowProducer,
  ) {}

  @Get('ping')
  ping() {
    return 'pong';
  }

  @Post('enqueue')
  async enqueue(@Body() body: { name?: string; organization?: string }) {
    const job = await this.queue.add(
      body?.name ?? 'work',
      body?.organization ? { organization: body.organization } : {},
    );
    return { id: job.id };
  }

  @Post('flow')
  async flow() {
    await this.flows.add({
      name: 'parent',
      queueName: 'critical',
      data: {},
      children: [
        { name: 'child', queueName: 'default', data: {} },
        { name: 'child', queueName: 'default', data: {} },
      ],
    });
    return { ok: true };
  }
}

/**
 * BullMQ releases before its telemetry option (the lowest-peers run on 5.0)
 * are instrumented by the fallback patches only.
 */
// (the telemetry interface is types only; its SpanKind enum came with it)
export const PEERS_WITHOUT_TELEMETRY = !('SpanKind' in bullmq);

export interface BullApp {
  app: INestApplication;
  url: string;
  logs: LogCapture;
  close(): Promise<void>;
}

export interface BullAppOptions {
  prefix: string;
  port?: number;
  processors?: boolean;
  bullmq?: BullMqObservabilityOptions;
  /** Extra connection options for BullModule (retry behaviour, ...). */
  connection?: Record<string, unknown>;
  /**
   * How BullMQ is instrumented: its telemetry option (`BullMqTelemetry`, the
   * documented way, default) or the fallback prototype patches alone.
   */
  via?: 'telemetry' | 'patches';
}

export async function startBullApp(o: BullAppOptions): Promise<BullApp> {
  const logs = new LogCapture();
  const processors = o.processors === false ? [] : [DefaultProcessor, CriticalProcessor];
  const via = o.via ?? (PEERS_WITHOUT_TELEMETRY ? 'patches' : 'telemetry');
  const bullConfig = {
    connection: { host: REDIS_HOST, port: o.port ?? REDIS_PORT, ...o.connection },
    prefix: o.prefix,
  };
  @Module({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'jobs-test',
        logging: { destination: logs, level: 'debug' },
      }),
      via === 'telemetry'
        ? BullModule.forRootAsync({
            inject: [BullMqTelemetry],
            useFactory: (telemetry: BullMqTelemetry) => ({ ...bullConfig, telemetry }),
          })
        : BullModule.forRoot(bullConfig),
      BullModule.registerQueue({ name: 'default' }, { name: 'critical' }, { name: 'bulk' }),
      BullModule.registerFlowProducer({ name: 'flows' }),
      BullMqObservabilityModule.forRoot({
        gaugeCacheMs: 0,
        fallbackPatches: via === 'patches',
        ...o.bullmq,
      }),
    ],
    controllers: [EnqueueController],
    providers: [...processors, ReportService],
  })
  class BullAppModule {}
  const app = await NestFactory.create(BullAppModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, logs, close: () => app.close() };
}
