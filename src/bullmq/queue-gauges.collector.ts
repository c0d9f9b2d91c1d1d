import type { Queue } from 'bullmq';
import { CATALOG } from '../metrics/catalog.js';
import type { MetricsRegistry, ScrapeCollector } from '../metrics/metrics-registry.js';
import type { ResolvedBullMqOptions } from './bullmq.options.js';
import type { OrgJobCounts } from './org-job-counts.js';

/**
 * Job states that count towards `CATALOG.queueDepth`: every job accepted and not yet
 * started (waiting — including while the queue is paused —, prioritized,
 * delayed, among them retries in backoff, and parents waiting for children).
 * Active, completed and failed jobs are not in the queue any more.
 */
export const DEPTH_STATES = ['wait', 'prioritized', 'delayed', 'waiting-children'] as const;

/**
 * Reads the queue depth, DLQ depth and per-organization gauges from Redis at scrape time.
 * Every value comes from Redis, not from this process, so every instance of
 * the app reports the same numbers; each read is O(1) in the number of jobs
 * (BullMQ keeps counted sets and lists), plus one bounded hash read per queue.
 */
export class QueueGauges implements ScrapeCollector {
  readonly name = 'bullmq';
  readonly timeoutMs: number;
  readonly cacheMs: number;

  constructor(
    private readonly queues: () => Queue[],
    private readonly registry: MetricsRegistry,
    private readonly options: ResolvedBullMqOptions,
    private readonly orgCounts: OrgJobCounts,
  ) {
    this.timeoutMs = options.gaugeTimeoutMs;
    this.cacheMs = options.gaugeCacheMs;
  }

  async collect(): Promise<void> {
    const queues = this.queues();
    // This process's buffered organization counts go out first, so a scrape
    // right after an enqueue already includes it.
    await this.orgCounts.flush();
    const [counts, orgs] = await Promise.all([
      Promise.all(queues.map((q) => q.getJobCounts(...DEPTH_STATES, 'failed'))),
      Promise.all(queues.map((q) => this.orgCounts.read(q))),
    ]);
    const depth = this.registry.gauge(CATALOG.queueDepth);
    let failed = 0;
    let dlq: number | undefined;
    queues.forEach((q, i) => {
      const c = counts[i]!;
      const d = DEPTH_STATES.reduce((sum, s) => sum + (c[s] ?? 0), 0);
      depth.set({ queue: q.name }, d);
      failed += c.failed ?? 0;
      if (q.name === this.options.deadLetterQueue) dlq = d;
    });
    this.registry.gauge(CATALOG.dlqDepth).set(undefined, dlq ?? failed);

    // Organizations whose jobs all finished disappear from the gauge (and free their label slots).
    this.registry
      .gauge(CATALOG.orgJobs)
      .replaceAll(
        queues.flatMap((q, i) =>
          [...orgs[i]!.counts].map(([org, n]) => [{ org, queue: q.name }, n] as const),
        ),
      );
  }
}
