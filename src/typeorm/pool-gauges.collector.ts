import type { DataSource } from 'typeorm';
import { CATALOG } from '../metrics/catalog.js';
import type { MetricsRegistry, ScrapeCollector } from '../metrics/metrics-registry.js';

export interface PoolReading {
  active: number;
  size: number;
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  options?: { max?: number };
}

/**
 * Connections in use and pool size of one DataSource, read from its driver:
 * - PostgreSQL (`pg`): checked-out connections (`totalCount - idleCount`) and
 *   the pool's `max`.
 * - SQLite (better-sqlite3, sql.js and the mobile drivers): one connection, active while a
 *   transaction holds it.
 * - MySQL / MariaDB (`mysql2`): all minus free connections, and `connectionLimit`.
 * - anything else: undefined (the data source is left out of the gauges).
 */
export function readPool(ds: DataSource): PoolReading | undefined {
  if (!ds.isInitialized) return undefined;
  const driver = ds.driver as unknown as Record<string, unknown>;
  const type = ds.options.type;
  if (type === 'postgres' || type === 'cockroachdb' || type === 'aurora-postgres') {
    const pool = driver.master as PgPool | undefined;
    if (!pool || typeof pool.totalCount !== 'number') return undefined;
    return { active: Math.max(0, pool.totalCount - pool.idleCount), size: pool.options?.max ?? 10 };
  }
  if (type === 'better-sqlite3' || type === 'sqljs' || type === 'capacitor' || type === 'expo') {
    const runner = driver.queryRunner as { isTransactionActive?: boolean } | undefined;
    return { active: runner?.isTransactionActive ? 1 : 0, size: 1 };
  }
  if (type === 'mysql' || type === 'mariadb') {
    const pool = (driver.pool as { pool?: unknown } | undefined)?.pool ?? driver.pool;
    const p = pool as {
      _allConnections?: { length: number };
      _freeConnections?: { length: number };
      config?: { connectionLimit?: number };
    };
    if (!p?._allConnections) return undefined;
    return {
      active: p._allConnections.length - (p._freeConnections?.length ?? 0),
      size: p.config?.connectionLimit ?? 10,
    };
  }
  return undefined;
}

/**
 * `db_connections_active` and `db_connections_pool_size` at scrape time, summed
 * over the app's data sources (the spec's gauges have no labels).
 */
export class PoolGauges implements ScrapeCollector {
  readonly name = 'typeorm-pool';

  constructor(
    private readonly dataSources: () => DataSource[],
    private readonly registry: MetricsRegistry,
  ) {}

  collect(): void {
    let active = 0;
    let size = 0;
    let any = false;
    for (const ds of this.dataSources()) {
      const r = readPool(ds);
      if (!r) continue;
      any = true;
      active += r.active;
      size += r.size;
    }
    if (!any) return;
    this.registry.gauge(CATALOG.dbConnectionsActive).set(undefined, active);
    this.registry.gauge(CATALOG.dbConnectionsPoolSize).set(undefined, size);
  }
}
