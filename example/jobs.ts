import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import type { OnApplicationBootstrap } from '@nestjs/common';
import {
  Controller,
  ServiceUnavailableException,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { BullMqObservabilityModule, BullMqTelemetry } from '../src/bullmq/index.js';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { StructuredLogger } from '../src/index.js';
import { DatabaseModule, Report } from './database.js';

/** REDIS_URL (default redis://127.0.0.1:6379) as BullMQ connection options. */
export function redisConnection(): { host: string; port: number; password?: string; db?: number } {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * With Redis gone, BullMQ's add() waits in ioredis's offline queue until
 * Redis is back: the request would hang, and hold up shutdown with it.
 * Answer 503 after a while instead (the add still happens once Redis is up).
 */
async function enqueued<T>(add: Promise<T>, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ServiceUnavailableException('the job queue is unavailable')),
      ms,
    );
  });
  try {
    return await Promise.race([add, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@Processor('critical')
export class AlertsProcessor extends WorkerHost {
  constructor(private readonly log: StructuredLogger) {
    super();
  }
  async process(job: Job<{ organization: string; message: string }>): Promise<void> {
    this.log.info('alert sent', { docname: job.data.message });
    await sleep(5);
  }
}

@Processor('default')
export class ReportsProcessor extends WorkerHost {
  constructor(
    private readonly log: StructuredLogger,
    @InjectRepository(Report) private readonly reports: Repository<Report>,
  ) {
    super();
  }
  private attempts = 0;

  /** Every fourth attempt fails, the first one included; BullMQ retries it (attempts: 3). */
  async process(job: Job<{ organization: string }>): Promise<{ rows: number }> {
    await sleep(20 + Math.random() * 80);
    if (this.attempts++ % 4 === 0) throw new Error('report source timed out');
    const rows = Math.floor(Math.random() * 500);
    const report = await this.reports.save(
      this.reports.create({ org: job.data.organization, rows }),
    );
    this.log.info('report built', { doctype: 'Report', docname: String(report.id), rows });
    return { rows };
  }
}

@Processor('bulk', { concurrency: 2 })
export class ImportsProcessor extends WorkerHost {
  async process(): Promise<void> {
    await sleep(200 + Math.random() * 300);
  }
}

/** Each organization's nightly digest, always scheduled an hour ahead: `org_jobs` is never empty. */
@Injectable()
export class DigestScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue('bulk') private readonly bulk: Queue) {}
  async onApplicationBootstrap(): Promise<void> {
    const scheduled = await this.bulk.getJobs(['delayed']);
    for (const organization of ['acme', 'globex', 'initech']) {
      const has = scheduled.some(
        (j) => j?.name === 'nightly-digest' && j.data?.organization === organization,
      );
      if (!has) await this.bulk.add('nightly-digest', { organization }, { delay: 3_600_000 });
    }
  }
}

@Controller('orgs/:orgId')
export class JobsController {
  constructor(
    @InjectQueue('critical') private readonly critical: Queue,
    @InjectQueue('default') private readonly reports: Queue,
    @InjectQueue('bulk') private readonly imports: Queue,
  ) {}

  /** `?count=N` enqueues N alerts at once (to drive the queue backlog alert). */
  @Post('alerts')
  async alert(@Param('orgId') organization: string, @Query('count') count?: string) {
    const jobs = await enqueued(
      this.critical.addBulk(
        Array.from({ length: boundedCount(count) }, () => ({
          name: 'send-alert',
          data: { organization, message: 'disk almost full' },
        })),
      ),
    );
    return { queued: jobs.length };
  }

  @Post('reports')
  async report(@Param('orgId') organization: string, @Query('count') count?: string) {
    const jobs = await enqueued(
      this.reports.addBulk(
        Array.from({ length: boundedCount(count) }, () => ({
          name: 'build-report',
          data: { organization },
          opts: { attempts: 3, backoff: { type: 'fixed' as const, delay: 200 } },
        })),
      ),
    );
    return { queued: jobs.length };
  }

  @Post('imports')
  async import(@Param('orgId') organization: string) {
    const jobs = await enqueued(
      this.imports.addBulk(
        Array.from({ length: 5 }, (_, i) => ({
          name: 'import-rows',
          data: { organization, chunk: i },
        })),
      ),
    );
    return { queued: jobs.map((j) => j.id) };
  }
}

/** Pauses or resumes a queue: an operator's switch, and how the demo shows a backlog building up. */
@Controller('admin/queues/:name')
export class QueueAdminController {
  constructor(
    @InjectQueue('critical') private readonly critical: Queue,
    @InjectQueue('default') private readonly reports: Queue,
    @InjectQueue('bulk') private readonly imports: Queue,
  ) {}

  private queue(name: string): Queue {
    const q = { critical: this.critical, default: this.reports, bulk: this.imports }[name];
    if (!q) throw new NotFoundException(`no queue ${name}`);
    return q;
  }

  @Post('pause')
  async pause(@Param('name') name: string) {
    await this.queue(name).pause();
    return { paused: name };
  }

  @Post('resume')
  async resume(@Param('name') name: string) {
    await this.queue(name).resume();
    return { resumed: name };
  }
}

function boundedCount(count: string | undefined): number {
  const n = Number(count ?? 1);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 5000) : 1;
}

/** Queues critical, default and bulk with their processors, on Redis at REDIS_URL. */
@Module({
  imports: [
    DatabaseModule,
    BullMqObservabilityModule.forRoot(),
    // BullMQ's telemetry option: every queue, worker and flow producer of
    // BullModule is instrumented through it
    BullModule.forRootAsync({
      inject: [BullMqTelemetry],
      useFactory: (telemetry: BullMqTelemetry) => ({
        connection: redisConnection(),
        prefix: process.env.DEMO_QUEUE_PREFIX ?? 'demo',
        telemetry,
      }),
    }),
    BullModule.registerQueue({ name: 'critical' }, { name: 'default' }, { name: 'bulk' }),
  ],
  controllers: [JobsController, QueueAdminController],
  providers: [AlertsProcessor, ReportsProcessor, ImportsProcessor, DigestScheduler],
})
export class JobsModule {}
