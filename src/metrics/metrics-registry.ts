import type { Registry as PromRegistry } from 'prom-client';
import { CATALOG, CATALOG_DEFINITIONS } from './catalog.js';

const CATALOG_NAMES = new Set(CATALOG_DEFINITIONS.map((d) => d.name));
import type { AnyFamily } from './families.js';
import { CounterFamily, GaugeFamily, HistogramFamily } from './families.js';
import type { LabelLimits } from './label-guard.js';
import { DEFAULT_LABEL_LIMITS, LabelGuard } from './label-guard.js';
import type {
  CounterDefinition,
  GaugeDefinition,
  HistogramDefinition,
  MetricDefinition,
  MetricGroup,
} from './metric-definition.js';

/**
 * Fills gauges at scrape time (queue depths, pool sizes, ...). A collector that
 * throws or takes longer than its timeout does not fail or stall the scrape:
 * its gauges keep their previous values and `observability_collector_stale`
 * says so.
 */
export interface ScrapeCollector {
  /** Short, fixed name, used as a label value of the self-metrics. */
  readonly name: string;
  /** Refreshes the collector's gauges. `signal` aborts when the timeout passes. */
  collect(signal: AbortSignal): Promise<void> | void;
  /** Per-run time limit in ms (default: the registry's). */
  readonly timeoutMs?: number;
  /** Reuse the last run for this long, so frequent scrapes stay cheap (default 0). */
  readonly cacheMs?: number;
}

interface CollectorState {
  collector: ScrapeCollector;
  lastRun: number;
  inFlight?: Promise<void>;
  /** A run that timed out and has not settled yet: no new run starts meanwhile. */
  hung?: Promise<unknown>;
  lastErrorLog: number;
}

/** Failures of one collector are logged at most this often (all are counted). */
const COLLECTOR_ERROR_LOG_INTERVAL_MS = 60_000;

export interface MetricsRegistryOptions {
  labels?: Partial<LabelLimits>;
  /** Labels added to every exposed sample (e.g. `{ service: 'api' }`). */
  defaultLabels?: Record<string, string>;
  /** Default collector timeout in ms. */
  collectorTimeoutMs?: number;
  /** Where failures inside collectors are reported (in addition to the self-metrics). */
  onCollectorError?: (collector: string, error: unknown) => void;
  /**
   * Expose every catalog family, even those of integrations that are not
   * installed (as `# TYPE` blocks without samples). Default: only families
   * with samples or of an installed recorder (`useGroup`).
   */
  exposeAllFamilies?: boolean;
}

type FamilyFor<D> =
  D extends CounterDefinition<infer L>
    ? CounterFamily<L>
    : D extends GaugeDefinition<infer L>
      ? GaugeFamily<L>
      : D extends HistogramDefinition<infer L>
        ? HistogramFamily<L>
        : never;

/**
 * The metrics of one application: every catalog family, any metric the app
 * defines itself, scrape-time collectors and "foreign" prom-client registries
 * (default process metrics). One per module instance, so two apps in one
 * process never share or collide.
 */
export class MetricsRegistry {
  readonly limits: LabelLimits;
  readonly defaultLabels: Readonly<Record<string, string>>;
  private readonly families = new Map<string, AnyFamily>();
  private readonly collectors = new Map<string, CollectorState>();
  private readonly foreign: PromRegistry[] = [];
  private readonly collectorTimeoutMs: number;
  private readonly onCollectorError: (collector: string, error: unknown) => void;
  private readonly overflow: CounterFamily<'metric' | 'label'>;
  private readonly badInput: CounterFamily<'component'>;
  /** Catalog groups whose recorder is installed: their families are exposed even before a sample. */
  private readonly groupsInUse = new Set<MetricGroup>(['self', 'errors']);
  private readonly exposeAll: boolean;

  constructor(options: MetricsRegistryOptions = {}) {
    this.limits = {
      ...DEFAULT_LABEL_LIMITS,
      ...options.labels,
      maxValuesPerLabel: {
        ...DEFAULT_LABEL_LIMITS.maxValuesPerLabel,
        ...options.labels?.maxValuesPerLabel,
      },
    };
    this.defaultLabels = { ...options.defaultLabels };
    this.collectorTimeoutMs = options.collectorTimeoutMs ?? 2000;
    this.onCollectorError = options.onCollectorError ?? (() => undefined);
    this.exposeAll = options.exposeAllFamilies ?? false;
    for (const def of CATALOG_DEFINITIONS) this.define(def);
    this.overflow = this.counter(CATALOG.labelOverflowTotal);
    this.badInput = this.counter(CATALOG.instrumentationErrorsTotal);
  }

  /**
   * Creates a family for a definition (the app's own metrics use this too).
   * Defining the same definition again returns the existing family; a
   * different definition under an existing name is an error.
   */
  define<D extends MetricDefinition>(def: D): FamilyFor<D> {
    const existing = this.families.get(def.name);
    if (existing) {
      if (existing.def !== def && !sameDefinition(existing.def, def)) {
        throw new Error(
          `Metric "${def.name}" is already defined with another type, labels or buckets`,
        );
      }
      return existing as FamilyFor<D>;
    }
    validateDefinition(def);
    const guard = new LabelGuard(
      def,
      this.limits,
      (metric, label) => this.overflow.seriesOf([metric, label]).value++,
    );
    const report = (metric: string) => this.badInput.seriesOf(['metrics:' + metric]).value++;
    const family =
      def.type === 'counter'
        ? new CounterFamily(def, guard, this.limits.maxLength, report)
        : def.type === 'gauge'
          ? new GaugeFamily(def, guard, this.limits.maxLength, report)
          : new HistogramFamily(def, guard, this.limits.maxLength, report);
    this.families.set(def.name, family);
    return family as FamilyFor<D>;
  }

  counter<L extends string>(def: CounterDefinition<L>): CounterFamily<L> {
    return this.define(def) as CounterFamily<L>;
  }

  gauge<L extends string>(def: GaugeDefinition<L>): GaugeFamily<L> {
    return this.define(def) as GaugeFamily<L>;
  }

  histogram<L extends string>(def: HistogramDefinition<L>): HistogramFamily<L> {
    return this.define(def) as HistogramFamily<L>;
  }

  /** A family by metric name. */
  get(name: string): AnyFamily | undefined {
    return this.families.get(name);
  }

  allFamilies(): IterableIterator<AnyFamily> {
    return this.families.values();
  }

  /**
   * Says that the recorder of a catalog group is installed (the BullMQ module
   * for `jobs`, the adapter hook for `http`...), so its families are exposed
   * from the start — with no samples yet — and dashboards and `absent()`
   * rules can tell "nothing happened" from "not installed".
   */
  useGroup(group: MetricGroup): void {
    this.groupsInUse.add(group);
  }

  /**
   * The families a scrape shows: the app's own, those with samples, and the
   * catalog families of installed recorders. A catalog family nobody records
   * (sync in an app without the sync module) stays out instead of being an
   * empty `# TYPE` block.
   */
  *exposedFamilies(): IterableIterator<AnyFamily> {
    for (const family of this.families.values()) {
      if (
        this.exposeAll ||
        family.series.size > 0 ||
        this.groupsInUse.has(family.def.group) ||
        !CATALOG_NAMES.has(family.def.name)
      ) {
        yield family;
      }
    }
  }

  /** Counts an error caught inside the instrumentation of `component`. */
  countInternalError(component: string): void {
    this.badInput.seriesOf([component]).value++;
  }

  /**
   * Adds a prom-client registry whose metrics are exposed alongside ours
   * (the module's process metrics, or registries the app already has). A
   * registry added twice is served once.
   */
  addPromRegistry(registry: PromRegistry): void {
    if (!this.foreign.includes(registry)) this.foreign.push(registry);
  }

  /**
   * The sample names this registry's own families expose (a histogram's
   * `_bucket`, `_sum` and `_count` included): what a prom-client metric must
   * not be called.
   */
  ownSampleNames(): Set<string> {
    const names = new Set<string>();
    for (const f of this.families.values())
      for (const n of sampleNames(f.def.name, f.def.type)) names.add(n);
    return names;
  }

  /**
   * prom-client metrics that cannot be served: `clashes` are named like one
   * of this registry's metrics; `duplicates` exist in more than one of the
   * added registries (served once, from the first).
   */
  foreignConflicts(): { clashes: string[]; duplicates: string[] } {
    const own = this.ownSampleNames();
    const seen = new Set<string>();
    const clashes: string[] = [];
    const duplicates: string[] = [];
    for (const prom of this.foreign) {
      for (const m of prom.getMetricsAsArray()) {
        const name = (m as { name: string }).name;
        const type = String((m as { type?: unknown }).type);
        if (sampleNames(name, type).some((n) => own.has(n))) clashes.push(name);
        else if (seen.has(name)) duplicates.push(name);
        seen.add(name);
      }
    }
    return { clashes, duplicates };
  }

  get promRegistries(): readonly PromRegistry[] {
    return this.foreign;
  }

  addCollector(collector: ScrapeCollector): () => void {
    this.collectors.set(collector.name, { collector, lastRun: 0, lastErrorLog: -Infinity });
    return () => this.collectors.delete(collector.name);
  }

  /**
   * Runs every collector once, in parallel, each bounded by its timeout.
   * Concurrent scrapes share one run; never rejects.
   */
  async collect(): Promise<void> {
    const now = Date.now();
    const runs: Promise<void>[] = [];
    for (const state of this.collectors.values()) {
      if (state.inFlight) {
        runs.push(state.inFlight);
        continue;
      }
      if (now - state.lastRun < (state.collector.cacheMs ?? 0)) continue;
      state.inFlight = this.runCollector(state).finally(() => {
        state.inFlight = undefined;
      });
      runs.push(state.inFlight);
    }
    await Promise.all(runs);
  }

  private async runCollector(state: CollectorState): Promise<void> {
    const { collector } = state;
    const stale = this.gauge(CATALOG.collectorStale);
    const errors = this.counter(CATALOG.collectorErrorsTotal);
    const timeoutMs = collector.timeoutMs ?? this.collectorTimeoutMs;
    const fail = (reason: 'timeout' | 'error' | 'hung', err: unknown) => {
      errors.inc({ collector: collector.name, reason });
      stale.set({ collector: collector.name }, 1);
      const now = Date.now();
      if (now - state.lastErrorLog < COLLECTOR_ERROR_LOG_INTERVAL_MS) return;
      state.lastErrorLog = now;
      this.onCollectorError(collector.name, err);
    };
    if (state.hung) {
      // The last run still waits on its dependency (Redis down, say): do not
      // pile another call on top of it.
      fail('hung', new Error('previous run has not finished'));
      return;
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    try {
      const run = Promise.resolve().then(() => collector.collect(controller.signal));
      const outcome = await Promise.race([run.then(() => 'ok' as const), timeout]);
      if (outcome === 'timeout') {
        controller.abort();
        const hung = run
          .catch(() => undefined)
          .finally(() => {
            if (state.hung === hung) state.hung = undefined;
          });
        state.hung = hung;
        fail('timeout', new Error(`timed out after ${timeoutMs} ms`));
        return;
      }
      state.lastRun = Date.now();
      stale.set({ collector: collector.name }, 0);
    } catch (err) {
      fail('error', err);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The sample names a metric family of this name and type exposes. */
export function sampleNames(name: string, type: string): string[] {
  return type === 'histogram' || type === 'summary'
    ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
    : [name];
}

function sameDefinition(a: MetricDefinition, b: MetricDefinition): boolean {
  return (
    a.type === b.type &&
    a.labelNames.join() === b.labelNames.join() &&
    (a.buckets ?? []).join() === (b.buckets ?? []).join()
  );
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function validateDefinition(def: MetricDefinition): void {
  if (!METRIC_NAME.test(def.name)) throw new Error(`Invalid metric name "${def.name}"`);
  for (const l of def.labelNames) {
    if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le') {
      throw new Error(`Invalid label name "${l}" on metric "${def.name}"`);
    }
  }
  if (def.type === 'histogram') {
    const b = def.buckets ?? [];
    if (b.length === 0 || b.some((v, i) => !Number.isFinite(v) || (i > 0 && v <= b[i - 1]!))) {
      throw new Error(`Metric "${def.name}" needs finite, strictly increasing buckets`);
    }
  }
}
