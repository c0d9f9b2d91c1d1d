import { CATALOG } from '../metrics/catalog.js';
import type { GaugeFamily } from '../metrics/families.js';
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
    const lag = this.registry.gauge(CATALOG.syncLagSeconds);
    for (const [org, at] of times) lag.set({ org }, Math.max(0, (now - at) / 1000));
    if (depths !== undefined) {
      const entries = depths instanceof Map ? [...depths] : Object.entries(depths);
      replaceAll(this.registry.gauge(CATALOG.syncQueueDepth), entries);
    }
    // The lag above still came from this process's own times; the stale flag says the rest is missing.
    if (redisError !== undefined) throw redisError;
  }
}

/** Sets the gauge to exactly these organizations' values; orgs no longer listed disappear. */
function replaceAll(gauge: GaugeFamily<'org'>, entries: [string, number][]): void {
  const keep = new Set(entries.map(([org]) => org));
  for (const s of [...gauge.series.values()]) {
    if (!keep.has(s.labelValues[0]!)) gauge.remove({ org: s.labelValues[0]! });
  }
  for (const [org, n] of entries) gauge.set({ org }, n);
}
