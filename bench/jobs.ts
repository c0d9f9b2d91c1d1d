import { Queue, Worker } from 'bullmq';
import type { DiscoveryService } from '@nestjs/core';
import { Redis } from 'ioredis';
import pino from 'pino';
import { TraceContext } from '../src/index.js';
import { JobInstrumentation } from '../src/jobs/job-instrumentation.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { BullMqInstrumentation } from '../src/bullmq/bullmq-instrumentation.js';
import { resolveBullMqOptions } from '../src/bullmq/bullmq.options.js';
import { QueueGauges } from '../src/bullmq/queue-gauges.collector.js';
import { OrgJobCounts } from '../src/bullmq/org-job-counts.js';
import { resolveOptions } from '../src/observability.options.js';
import { median } from './cpu.js';

const connection = { host: '127.0.0.1', port: 6379 };

export interface JobsBench {
  perJob: { plainUs: number; instrumentedUs: number; overheadUs: number };
  bullmq: {
    plainCpuUsPerJob: number;
    instrumentedCpuUsPerJob: number;
    ratio: number;
    jobs: number;
  };
  gauges: { jobsInQueue: number; collectMs: number }[];
}

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function setup(logFile: string) {
  const options = resolveOptions({ serviceName: 'bench', logging: { destination: logFile } });
  const registry = new MetricsRegistry();
  const trace = new TraceContext();
  const log = pino(
    { level: 'info' },
    pino.destination({ dest: logFile, sync: false, minLength: 4096 }),
  );
  const jobs = new JobInstrumentation(registry, trace, log, 'system');
  return { options, registry, trace, log, jobs };
}

/** CPU per call of a trivial async job, bare and through the job instrumentation (two log lines each). */
async function perJob(jobs: JobInstrumentation, n: number, rounds: number) {
  const work = async () => 1;
  const run = async (instrumented: boolean) => {
    const start = cpuUs();
    for (let i = 0; i < n; i++) {
      if (instrumented) {
        await jobs.run(
          {
            queue: 'bench',
            method: 'work',
            org: 'acme',
            traceId: undefined,
            attempt: 1,
            attempts: 1,
          },
          work,
        );
      } else {
        await work();
      }
    }
    return (cpuUs() - start) / n;
  };
  await run(false);
  await run(true);
  const plain: number[] = [];
  const inst: number[] = [];
  for (let r = 0; r < rounds; r++) {
    plain.push(await run(false));
    inst.push(await run(true));
  }
  return {
    plainUs: median(plain),
    instrumentedUs: median(inst),
    overheadUs: median(inst) - median(plain),
  };
}

/** Process CPU per job processed by a real BullMQ worker, with and without the instrumentation installed. */
async function bullmqRound(
  prefix: string,
  jobsCount: number,
  instrument: () => (() => void) | undefined,
) {
  const uninstall = instrument();
  const queue = new Queue('bench', { connection, prefix });
  await queue.addBulk(
    Array.from({ length: jobsCount }, (_, i) => ({
      name: 'work',
      data: { organization: `org-${i % 5}` },
    })),
  );
  let done = 0;
  const start = cpuUs();
  await new Promise<void>((resolve) => {
    const worker = new Worker('bench', async () => 1, { connection, prefix, concurrency: 20 });
    worker.on('completed', () => {
      if (++done === jobsCount) void worker.close().then(() => resolve());
    });
  });
  const cpu = (cpuUs() - start) / jobsCount;
  await queue.obliterate({ force: true });
  await queue.close();
  uninstall?.();
  return cpu;
}

export async function runJobsBench(
  rounds: number,
  logFile: string,
  log: (s: string) => void,
): Promise<JobsBench | undefined> {
  const probe = new Redis({
    ...connection,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await probe.connect();
  } catch {
    log('jobs bench: Redis unavailable at 127.0.0.1:6379, skipped');
    return undefined;
  } finally {
    probe.disconnect();
  }
  const s = setup(logFile);
  const per = await perJob(s.jobs, 5000, rounds);
  log(`jobs: ${per.overheadUs.toFixed(1)} µs CPU per job attempt`);

  const prefix = `nestobs-bench-${process.pid}`;
  const discovery = { getProviders: () => [] } as unknown as DiscoveryService;
  const instrument = () => {
    const i = new BullMqInstrumentation(
      s.jobs,
      s.trace,
      s.registry,
      discovery,
      resolveBullMqOptions(),
      s.options,
      s.log,
    );
    return () => i.onApplicationShutdown();
  };
  const N = 2000;
  await bullmqRound(prefix, N, () => undefined);
  const plain: number[] = [];
  const inst: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await bullmqRound(prefix, N, () => undefined);
    const b = await bullmqRound(prefix, N, instrument);
    plain.push(a);
    inst.push(b);
    ratios.push(b / a);
  }
  log(`bullmq: ${median(plain).toFixed(0)} vs ${median(inst).toFixed(0)} µs CPU per job`);

  // Gauge reads with few and with 100k jobs waiting.
  const gauges: { jobsInQueue: number; collectMs: number }[] = [];
  const queue = new Queue('gauges', { connection, prefix });
  const collector = new QueueGauges(
    () => [queue],
    s.registry,
    resolveBullMqOptions(),
    new OrgJobCounts(true, () => undefined),
  );
  let inQueue = 0;
  for (const target of [100, 100_000]) {
    while (inQueue < target) {
      const batch = Math.min(5000, target - inQueue);
      await queue.addBulk(Array.from({ length: batch }, () => ({ name: 'w', data: {} })));
      inQueue += batch;
    }
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await collector.collect();
      times.push(performance.now() - t);
    }
    gauges.push({ jobsInQueue: inQueue, collectMs: median(times) });
    log(`gauges with ${inQueue} jobs: ${median(times).toFixed(2)} ms`);
  }
  await queue.obliterate({ force: true });
  await queue.close();
  s.log.flush();
  return {
    perJob: per,
    bullmq: {
      plainCpuUsPerJob: median(plain),
      instrumentedCpuUsPerJob: median(inst),
      ratio: median(ratios),
      jobs: N,
    },
    gauges,
  };
}
