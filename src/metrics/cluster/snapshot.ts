import { AggregatorRegistry } from 'prom-client';
import { CATALOG } from '../catalog.js';
import type { AnyFamily, CounterSeries, GaugeSeries, HistogramSeries } from '../families.js';
import type { MetricDefinition } from '../metric-definition.js';
import { MetricsRegistry } from '../metrics-registry.js';

/** One series as a process sends it: label values, and its value or histogram state. */
type SeriesSnapshot =
  { l: readonly string[]; v: number } | { l: readonly string[]; c: number[]; s: number; n: number };

/** One family as a process sends it. */
export interface FamilySnapshot {
  def: MetricDefinition;
  series: SeriesSnapshot[];
}

/** Everything one process would expose, as JSON-safe data. */
export interface ProcessSnapshot {
  pid: number;
  families: FamilySnapshot[];
  /** prom-client metrics (process metrics, the app's registries), as `getMetricsAsJSON()` gives them. */
  foreign: unknown[];
}

/** Runs the process's collectors, then copies what a scrape of it would show. */
export async function takeSnapshot(registry: MetricsRegistry): Promise<ProcessSnapshot> {
  await registry.collect();
  const families: FamilySnapshot[] = [];
  for (const family of registry.exposedFamilies()) {
    const series: SeriesSnapshot[] = [];
    for (const s of family.series.values()) {
      if (family.def.type === 'histogram') {
        const h = s as HistogramSeries;
        series.push({ l: h.labelValues, c: [...h.counts], s: h.sum, n: h.count });
      } else {
        series.push({ l: s.labelValues, v: (s as CounterSeries | GaugeSeries).value });
      }
    }
    families.push({ def: family.def, series });
  }
  const foreign: unknown[] = [];
  for (const prom of registry.promRegistries) foreign.push(...(await prom.getMetricsAsJSON()));
  return { pid: process.pid, families, foreign };
}

/**
 * Adds up the snapshots of several processes into a registry that renders
 * like one: counters and histograms summed per label set, gauges by their
 * definition's `aggregate` rule, prom-client metrics by their own
 * `aggregator` (prom-client's cluster rules). Exemplars are not carried.
 */
export function mergeSnapshots(
  snapshots: readonly ProcessSnapshot[],
  defaultLabels: Record<string, string>,
): MetricsRegistry {
  // Label values were capped in each process already; capping again here
  // would collapse values that are distinct across processes.
  const merged = new MetricsRegistry({
    defaultLabels,
    labels: { maxValues: Number.MAX_SAFE_INTEGER, maxLength: Number.MAX_SAFE_INTEGER },
  });
  const seen = new Set<GaugeSeries>();
  for (const snap of snapshots) {
    for (const { def, series } of snap.families) {
      const family = merged.define(def) as AnyFamily;
      merged.useGroup(def.group);
      for (const x of series) {
        const s = family.seriesOf([...x.l]);
        if ('c' in x) {
          const h = s as HistogramSeries;
          for (let i = 0; i < x.c.length && i < h.counts.length; i++) h.counts[i]! += x.c[i]!;
          h.sum += x.s;
          h.count += x.n;
        } else if (def.type === 'gauge') {
          const g = s as GaugeSeries;
          const rule = def.aggregate ?? 'sum';
          if (!seen.has(g)) {
            seen.add(g);
            g.value = x.v;
          } else if (rule === 'sum') g.value += x.v;
          else if (rule === 'max') g.value = Math.max(g.value, x.v);
          else g.value = Math.min(g.value, x.v);
        } else {
          (s as CounterSeries).value += x.v;
        }
      }
    }
  }
  merged.gauge(CATALOG.clusterProcesses).set(undefined, snapshots.length);
  const foreign = snapshots.map((s) => s.foreign).filter((f) => f.length > 0);
  if (foreign.length > 0) merged.addPromRegistry(AggregatorRegistry.aggregate(foreign));
  return merged;
}
