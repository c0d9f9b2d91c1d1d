import { CATALOG } from '../metrics/catalog.js';
import type { MetricsRegistry, ScrapeCollector } from '../metrics/metrics-registry.js';
import type { LastSyncStore } from './last-sync-store.js';
import type { SyncQueueReader } from './sync.options.js';

/**
 * `sync_lag_seconds` (now minus the last success, so it grows between scrapes
 * with nobody reporting) and, when the app gave a reader, `sync_queue_depth`.
 */
export class SyncGauges implements ScrapeCollector {
  readonly name = 'sync';

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly store: LastSyncStore,
    private readonly queueReader: SyncQueueReader | undefined,
    readonly timeoutMs: number,
  ) {}

  async collect(): Promise<void> {
    const [{ times, redisError }, depths] = await Promise.all([
      this.store.read(),
      this.queueReader?.(),
    ]);
    const now = Date.now();
    this.registry
      .gauge(CATALOG.syncLagSeconds)
      .replaceAll(
        [...times].map(([org, at]) => [{ org }, Math.max(0, (now - at) / 1000)] as const),
      );
    if (depths !== undefined) {
      const entries = depths instanceof Map ? [...depths] : Object.entries(depths);
      this.registry
        .gauge(CATALOG.syncQueueDepth)
        .replaceAll(entries.map(([org, n]) => [{ org }, n] as const));
    }
    // The lag above still came from this process's own times; the stale flag says the rest is missing.
    if (redisError !== undefined) throw redisError;
  }
}
