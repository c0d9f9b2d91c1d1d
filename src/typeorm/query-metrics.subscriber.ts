import { performance } from 'node:perf_hooks';
import type { Logger as Pino } from 'pino';
import type {
  AfterQueryEvent,
  BeforeQueryEvent,
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
} from 'typeorm';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterSeries, HistogramSeries } from '../metrics/families.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { Operation } from './sql-classifier.js';
import { classifySql, sqlForLog } from './sql-classifier.js';

/** `doctype` of statements whose table is unknown (transaction control, functions). */
export const UNKNOWN_DOCTYPE = 'unknown';

/** The series one SQL text touches, resolved once per distinct text. */
interface Resolved {
  doctype: string;
  operation: Operation;
  queries: CounterSeries;
  duration: HistogramSeries;
}

// Repository queries repeat the same parameterised text, so classification is
// cached by text; raw SQL with inlined values would not repeat, so the cache
// is bounded and simply starts over when full.
const MAX_CACHED_TEXTS = 2000;

/**
 * Times every query of one DataSource between `beforeQuery` and `afterQuery`
 * (failed queries too: TypeORM leaves `executionTime` undefined then) and
 * records `CATALOG.dbQueriesTotal`, `.dbQueryDurationSeconds` and, past the
 * threshold, `db_slow_queries_total` with one WARN line.
 */
export class QueryMetricsSubscriber implements EntitySubscriberInterface {
  private readonly starts = new WeakMap<QueryRunner, { query: string; at: number }[]>();
  private readonly cache = new Map<string, Resolved>();
  private readonly tableToEntity = new Map<string, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: MetricsRegistry,
    private readonly log: Pino,
    private readonly slowQuerySeconds: number,
  ) {
    this.refreshEntityNames();
  }

  /** Maps table names to entity names (call again after entities change). */
  refreshEntityNames(): void {
    this.tableToEntity.clear();
    for (const m of this.dataSource.entityMetadatas ?? []) {
      this.tableToEntity.set(m.tableName, m.name);
      this.tableToEntity.set(m.tableName.toLowerCase(), m.name);
    }
  }

  beforeQuery(event: BeforeQueryEvent): void {
    try {
      const runner = event.queryRunner;
      let queue = this.starts.get(runner);
      if (queue === undefined) this.starts.set(runner, (queue = []));
      queue.push({ query: event.query, at: performance.now() });
      // A query TypeORM never reports as finished (TypeORM 0.3 does not for
      // one that fails while being prepared) must not pile up.
      if (queue.length > 64) queue.shift();
    } catch {
      this.registry.countInternalError('typeorm');
    }
  }

  afterQuery(event: AfterQueryEvent): void {
    try {
      // Queries on one runner complete in the order they were issued; entries
      // ahead of this query's are queries TypeORM never reported as finished.
      const queue = this.starts.get(event.queryRunner);
      let start: number | undefined;
      if (queue !== undefined) {
        const i = queue.findIndex((q) => q.query === event.query);
        if (i !== -1) start = queue.splice(0, i + 1)[i]!.at;
      }
      const seconds =
        start !== undefined
          ? (performance.now() - start) / 1000
          : typeof event.executionTime === 'number'
            ? event.executionTime / 1000
            : 0;
      const r = this.resolve(event.query);
      r.queries.value++;
      r.duration.observe(seconds);
      if (seconds >= this.slowQuerySeconds) this.slow(r, event.query, seconds, event.success);
    } catch {
      this.registry.countInternalError('typeorm');
    }
  }

  private resolve(sql: string): Resolved {
    let r = this.cache.get(sql);
    if (r !== undefined) return r;
    const c = classifySql(sql);
    const doctype =
      c.table === undefined
        ? UNKNOWN_DOCTYPE
        : (this.tableToEntity.get(c.table) ??
          this.tableToEntity.get(c.table.toLowerCase()) ??
          c.table);
    const values = [doctype, c.operation];
    r = {
      doctype,
      operation: c.operation,
      queries: this.registry.counter(CATALOG.dbQueriesTotal).seriesOf(values),
      duration: this.registry
        .histogram(CATALOG.dbQueryDurationSeconds)
        .seriesOf([doctype, c.operation]),
    };
    // Not cached past the doctype cap, so every such query counts as overflow.
    if (values[0] !== doctype) return r;
    if (this.cache.size >= MAX_CACHED_TEXTS) this.cache.clear();
    this.cache.set(sql, r);
    return r;
  }

  private slow(r: Resolved, sql: string, seconds: number, success: boolean): void {
    this.registry.counter(CATALOG.dbSlowQueriesTotal).seriesOf([r.doctype]).value++;
    this.log.warn(
      {
        doctype: r.doctype,
        operation: r.operation,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        success,
        sql: sqlForLog(sql),
      },
      `slow query: ${r.operation} ${r.doctype}`,
    );
  }
}
