import type { MetricsRegistry } from '../../src/metrics/metrics-registry.js';
import { CATALOG_DEFINITIONS } from '../../src/index.js';

/** Records one sample in every catalog family, with label values derived from the label names. */
export function fillCatalog(registry: MetricsRegistry): void {
  for (const def of CATALOG_DEFINITIONS) {
    const labels = Object.fromEntries(def.labelNames.map((l) => [l, `${l}-1`]));
    const family = registry.define(def);
    if (def.type === 'histogram')
      (family as { observe(l: object, v: number): void }).observe(labels, 0.2);
    else if (def.type === 'gauge') (family as { set(l: object, v: number): void }).set(labels, 3);
    else (family as { inc(l: object, v?: number): void }).inc(labels);
  }
}
