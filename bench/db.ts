import 'reflect-metadata';
import pino from 'pino';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { QueryMetricsSubscriber } from '../src/typeorm/query-metrics.subscriber.js';
import { median } from './cpu.js';

@Entity('bench_item')
class BenchItem {
  @PrimaryGeneratedColumn() id!: number;
  @Column() name!: string;
}

export interface DbRow {
  database: string;
  plainQps: number;
  instrumentedQps: number;
  ratio: number;
}

async function pgAdmin(sql: string): Promise<void> {
  const admin = new DataSource({
    type: 'postgres',
    host: '127.0.0.1',
    port: 5432,
    username: 'postgres',
    database: 'test',
  });
  await admin.initialize();
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}

async function open(kind: 'sqlite' | 'postgres', schema: string): Promise<DataSource> {
  const ds = new DataSource(
    kind === 'sqlite'
      ? { type: 'better-sqlite3', database: ':memory:', entities: [BenchItem], synchronize: true }
      : {
          type: 'postgres',
          host: '127.0.0.1',
          port: 5432,
          username: 'postgres',
          database: 'test',
          schema,
          entities: [BenchItem],
          synchronize: true,
        },
  );
  if (kind === 'postgres') await pgAdmin(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await ds.initialize();
  await ds
    .getRepository(BenchItem)
    .insert(Array.from({ length: 100 }, (_, i) => ({ name: `n${i}` })));
  return ds;
}

async function qps(ds: DataSource, n: number): Promise<number> {
  const repo = ds.getRepository(BenchItem);
  const start = performance.now();
  for (let i = 0; i < n; i++) await repo.findOneBy({ id: 1 + (i % 100) });
  return n / ((performance.now() - start) / 1000);
}

/**
 * Queries per second of repository `findOneBy` calls on a DataSource with and
 * without the query subscriber, alternating batches in one process; the ratio
 * is the median over batches of instrumented / plain.
 */
export async function runDbBench(rounds: number, log: (s: string) => void): Promise<DbRow[]> {
  const rows: DbRow[] = [];
  for (const kind of ['sqlite', 'postgres'] as const) {
    const schema = `nestobs_bench_${process.pid}`;
    let plain: DataSource;
    let instrumented: DataSource;
    try {
      plain = await open(kind, `${schema}_a`);
      instrumented = await open(kind, `${schema}_b`);
    } catch (e) {
      log(`db bench: ${kind} unavailable (${String(e)}), skipped`);
      continue;
    }
    const registry = new MetricsRegistry();
    instrumented.subscribers.push(
      new QueryMetricsSubscriber(instrumented, registry, pino({ level: 'silent' }), 1),
    );
    const n = kind === 'sqlite' ? 5000 : 1000;
    await qps(plain, n);
    await qps(instrumented, n);
    const p: number[] = [];
    const q: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await qps(plain, n);
      const b = await qps(instrumented, n);
      p.push(a);
      q.push(b);
      ratios.push(b / a);
    }
    rows.push({
      database: kind,
      plainQps: median(p),
      instrumentedQps: median(q),
      ratio: median(ratios),
    });
    log(`db ${kind}: ${median(p).toFixed(0)} vs ${median(q).toFixed(0)} queries/s`);
    await plain.destroy();
    await instrumented.destroy();
    if (kind === 'postgres') {
      await pgAdmin(
        `DROP SCHEMA IF EXISTS "${schema}_a" CASCADE; DROP SCHEMA IF EXISTS "${schema}_b" CASCADE`,
      );
    }
  }
  return rows;
}
