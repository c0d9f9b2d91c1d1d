import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { Controller, Injectable, Module, Param, Post } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { BullMqObservabilityModule } from '../src/bullmq/index.js';
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
  /** Fails about a quarter of the attempts; BullMQ retries it (attempts: 3). */
  async process(job: Job<{ organization: string }>): Promise<{ rows: number }> {
    await sleep(20 + Math.random() * 80);
    if (Math.random() < 0.25) throw new Error('report source timed out');
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

  @Post('alerts')
  async alert(@Param('orgId') organization: string) {
    const job = await this.critical.add('send-alert', {
      organization,
      message: 'disk almost full',
    });
    return { queued: job.id };
  }

  @Post('reports')
  async report(@Param('orgId') organization: string) {
    const job = await this.reports.add(
      'build-report',
      { organization },
      { attempts: 3, backoff: { type: 'fixed', delay: 200 } },
    );
    return { queued: job.id };
  }

  @Post('imports')
  async import(@Param('orgId') organization: string) {
    const jobs = await this.imports.addBulk(
      Array.from({ length: 5 }, (_, i) => ({
        name: 'import-rows',
        data: { organization, chunk: i },
      })),
    );
    return { queued: jobs.map((j) => j.id) };
  }
}

/** Queues critical, default and bulk with their processors, on Redis at REDIS_URL. */
@Module({
  imports: [
    DatabaseModule,
    BullModule.forRoot({ connection: redisConnection(), prefix: 'demo' }),
    BullModule.registerQueue({ name: 'critical' }, { name: 'default' }, { name: 'bulk' }),
    BullMqObservabilityModule.forRoot(),
  ],
  controllers: [JobsController],
  providers: [AlertsProcessor, ReportsProcessor, ImportsProcessor, DigestScheduler],
})
export class JobsModule {}
