import type { MetricObjectWithValues, MetricValue, MetricValueWithName } from 'prom-client';
import { sampleNames } from './metrics-registry.js';
import type { AnyFamily, HistogramSeries } from './families.js';
import type { MetricsRegistry } from './metrics-registry.js';
import { escapeHelp, escapeLabelValue, formatValue, renderLabelPairs } from './text-format.js';

export type ExpositionFormat = 'text' | 'openmetrics';

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** Picks the format from a scraper's `Accept` header (Prometheus asks for OpenMetrics first). */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept !== undefined && accept.includes('application/openmetrics-text')
    ? 'openmetrics'
    : 'text';
}

export interface ExpositionOptions {
  /** Characters per chunk; after each chunk the writer yields to the event loop. */
  chunkSize?: number;
  /** Attach trace-ID exemplars to histogram buckets (OpenMetrics only). */
  exemplars?: boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Renders the registry as Prometheus text (0.0.4) or OpenMetrics 1.0, in
 * chunks. Between chunks it yields to the event loop, so a scrape of 100k
 * series never blocks request handling for long. Runs the scrape-time
 * collectors first.
 */
export async function* renderExposition(
  registry: MetricsRegistry,
  format: ExpositionFormat,
  options: ExpositionOptions = {},
): AsyncGenerator<string> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const om = format === 'openmetrics';
  const exemplars = om && options.exemplars !== false;
  const prefix = renderLabelPairs(
    Object.keys(registry.defaultLabels),
    Object.values(registry.defaultLabels),
  );
  await registry.collect();

  let buf = '';
  for (const family of registry.exposedFamilies()) {
    for (const piece of renderFamily(family, om, exemplars, prefix)) {
      buf += piece;
      if (buf.length >= chunkSize) {
        yield buf;
        buf = '';
        await yieldToEventLoop();
      }
    }
  }
  // Foreign metrics named like ours (a clash start-up did not see: registered
  // later) or served already by another registry are left out, so the
  // exposition never holds a family twice.
  const served = registry.promRegistries.length > 0 ? registry.ownSampleNames() : undefined;
  for (const prom of registry.promRegistries) {
    for (const metric of await prom.getMetricsAsJSON()) {
      const names = sampleNames(metric.name, String(metric.type));
      if (names.some((n) => served!.has(n))) continue;
      for (const n of names) served!.add(n);
      // prom-client's nodejs_active_{handles,requests,resources}_total are
      // gauges named like counters, which promtool rejects; each only sums the
      // per-type gauge of the same name without the suffix, so nothing is lost.
      if (String(metric.type) !== 'counter' && metric.name.endsWith('_total')) continue;
      buf += renderForeign(metric as MetricObjectWithValues<MetricValue<string>>, om, prefix);
    }
  }
  if (om) buf += '# EOF\n';
  if (buf.length > 0) yield buf;
}

/** The whole exposition as one string (tests, small registries). */
export async function renderExpositionToString(
  registry: MetricsRegistry,
  format: ExpositionFormat,
  options?: ExpositionOptions,
): Promise<string> {
  let out = '';
  for await (const chunk of renderExposition(registry, format, options)) out += chunk;
  return out;
}

/** OpenMetrics names a counter family without `_total` and requires it on the sample. */
function names(name: string, type: string, om: boolean): { family: string; sample: string } {
  if (!om || type !== 'counter') return { family: name, sample: name };
  const family = name.endsWith('_total') ? name.slice(0, -6) : name;
  return { family, sample: `${family}_total` };
}

function header(family: string, type: string, help: string, om: boolean): string {
  return `# HELP ${family} ${escapeHelp(help, om)}\n# TYPE ${family} ${type}\n`;
}

function braces(prefix: string, labelText: string): string {
  if (prefix === '') return labelText === '' ? '' : `{${labelText}}`;
  return labelText === '' ? `{${prefix}}` : `{${prefix},${labelText}}`;
}

/** Renders one family, one piece per series, so the caller can yield inside large families. */
function* renderFamily(
  family: AnyFamily,
  om: boolean,
  exemplars: boolean,
  prefix: string,
): Generator<string> {
  const def = family.def;
  const n = names(def.name, def.type, om);
  yield header(n.family, def.type, def.help, om);
  if (def.type !== 'histogram') {
    for (const s of family.series.values()) {
      yield `${n.sample}${braces(prefix, s.labelText)} ${formatValue((s as { value: number }).value)}\n`;
    }
    return;
  }
  const bounds = def.buckets ?? [];
  const les = bounds.map((b) => `le="${formatValue(b)}"`);
  les.push('le="+Inf"');
  for (const s of family.series.values() as IterableIterator<HistogramSeries>) {
    const lt = s.labelText;
    let out = '';
    let acc = 0;
    for (let i = 0; i < les.length; i++) {
      acc += s.counts[i]!;
      out += `${def.name}_bucket${braces(prefix, lt === '' ? les[i]! : `${lt},${les[i]}`)} ${acc}`;
      const trace = exemplars ? s.exemplarTrace[i] : undefined;
      if (trace !== undefined) {
        out += ` # {trace_id="${escapeLabelValue(trace)}"} ${formatValue(s.exemplarValue[i]!)} ${s.exemplarTime[i]!.toFixed(3)}`;
      }
      out += '\n';
    }
    const b = braces(prefix, lt);
    yield `${out}${def.name}_sum${b} ${formatValue(s.sum)}\n${def.name}_count${b} ${s.count}\n`;
  }
}

/** Renders a prom-client metric (default process metrics) from its JSON form. */
function renderForeign(
  metric: MetricObjectWithValues<MetricValue<string>>,
  om: boolean,
  prefix: string,
): string {
  const type = String(metric.type);
  const n = names(metric.name, type, om);
  let out = header(n.family, type, metric.help, om);
  for (const v of metric.values as MetricValueWithName<string>[]) {
    const labels = v.labels as Record<string, string | number>;
    const names = Object.keys(labels);
    const text = renderLabelPairs(
      names,
      names.map((n) =>
        typeof labels[n] === 'number' ? formatValue(labels[n]) : String(labels[n]),
      ),
    );
    out += `${v.metricName ?? n.sample}${braces(prefix, text)} ${formatValue(v.value)}\n`;
  }
  return out;
}
