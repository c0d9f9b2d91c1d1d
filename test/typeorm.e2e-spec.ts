import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, QueryRunner } from 'typeorm';
import { CATALOG } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { rawRequest } from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import type { DbApp, DbKind } from './support/typeorm-app.js';
import { Item, requirePostgres, startDbApp } from './support/typeorm-app.js';

const schema = `nestobs_${process.pid}`;
const N = 7;

/** Set by jest.config.cjs: the TypeORM version this project runs against. */
const TYPEORM_VERSION = (globalThis as unknown as { PEERS: { typeorm: string } }).PEERS.typeorm;

// TypeORM 0.3 (the lowest-peers project) runs on PostgreSQL only: its SQLite
// driver behaves differently once another suite in the same process has
// loaded better-sqlite3 (seen, not understood; SQLite is covered on TypeORM 1).
const KINDS: DbKind[] = TYPEORM_VERSION.startsWith('0.3.') ? ['postgres'] : ['postgres', 'sqlite'];

describe.each(KINDS)('TypeORM on %s', (kind) => {
  let t: DbApp;
  let registry: MetricsRegistry;
  const table = (name: string) => (kind === 'postgres' ? `"${schema}"."${name}"` : `"${name}"`);
  const queries = (doctype: string, operation: string) =>
    registry.counter(CATALOG.dbQueriesTotal).get({ doctype, operation });
  const timed = (doctype: string, operation: string) =>
    registry.histogram(CATALOG.dbQueryDurationSeconds).get({ doctype, operation }).count;

  beforeAll(async () => {
    if (kind === 'postgres') await requirePostgres();
    t = await startDbApp(kind, schema, { extra: kind === 'postgres' ? { extra: { max: 7 } } : {} });
    registry = t.app.get(MetricsRegistry);
    await t.ds.query(`CREATE TABLE ${table('audit_log')} (id integer)`);
  });

  afterAll(() => t?.close());

  it('counts N repository calls exactly per entity and operation', async () => {
    const repo = t.ds.getRepository(Item);
    // Each loop is measured on its own: an insert may also re-read generated
    // columns (a SELECT on SQLite), which is a real query and counted as one.
    const delta = async (op: string, fn: () => Promise<unknown>) => {
      const before = queries('Item', op);
      await fn();
      return queries('Item', op) - before;
    };
    const ids: number[] = [];
    expect(
      await delta('insert', async () => {
        for (let i = 0; i < N; i++)
          ids.push((await repo.insert({ name: `item-${i}` })).identifiers[0]!.id as number);
      }),
    ).toBe(N);
    expect(
      await delta('select', async () => {
        for (const id of ids) await repo.findOneBy({ id });
      }),
    ).toBe(N);
    expect(
      await delta('update', async () => {
        for (const id of ids) await repo.update({ id }, { quantity: 2 });
      }),
    ).toBe(N);
    expect(
      await delta('delete', async () => {
        for (const id of ids) await repo.delete({ id });
      }),
    ).toBe(N);
    expect(timed('Item', 'insert')).toBe(queries('Item', 'insert'));
    expect(timed('Item', 'select')).toBe(queries('Item', 'select'));
  });

  it('counts N raw queries under the table name', async () => {
    for (let i = 0; i < N; i++) await t.ds.query(`SELECT count(*) FROM ${table('audit_log')}`);
    for (let i = 0; i < N; i++)
      await t.ds.query(`INSERT INTO ${table('audit_log')} (id) VALUES (${i})`);
    expect(queries('audit_log', 'select')).toBe(N);
    expect(queries('audit_log', 'insert')).toBe(N);
    const samples = parseExposition((await rawRequest(`${t.url}/metrics`)).body);
    expect(sumOf(samples, 'db_queries_total', { doctype: 'audit_log', operation: 'select' })).toBe(
      N,
    );
    expect(
      sumOf(samples, 'db_query_duration_seconds_count', {
        doctype: 'audit_log',
        operation: 'select',
      }),
    ).toBe(N);
  });

  it('counts and times a failing query', async () => {
    await expect(t.ds.query(`SELECT * FROM ${table('no_such_table')}`)).rejects.toThrow();
    expect(queries('no_such_table', 'select')).toBe(1);
    expect(timed('no_such_table', 'select')).toBe(1);
    expect(
      registry
        .histogram(CATALOG.dbQueryDurationSeconds)
        .get({ doctype: 'no_such_table', operation: 'select' }).sum,
    ).toBeGreaterThan(0);
  });

  it('bounds transaction control to one operation value', async () => {
    const before = queries('unknown', 'transaction');
    await t.ds.transaction(async (m) => {
      await m.getRepository(Item).insert({ name: 'tx' });
    });
    expect(queries('unknown', 'transaction') - before).toBe(2); // BEGIN + COMMIT
  });

  it('reports pool gauges that follow reality', async () => {
    const K = kind === 'postgres' ? 3 : 1;
    const scrape = async () => parseExposition((await rawRequest(`${t.url}/metrics`)).body);
    let samples = await scrape();
    expect(sumOf(samples, 'db_connections_pool_size')).toBe(kind === 'postgres' ? 7 : 1);
    expect(sumOf(samples, 'db_connections_active')).toBe(0);
    const runners: QueryRunner[] = [];
    for (let i = 0; i < K; i++) {
      const qr = t.ds.createQueryRunner();
      await qr.connect();
      await qr.startTransaction();
      runners.push(qr);
    }
    samples = await scrape();
    expect(sumOf(samples, 'db_connections_active')).toBe(K);
    for (const qr of runners) {
      await qr.rollbackTransaction();
      await qr.release();
    }
    expect(sumOf(await scrape(), 'db_connections_active')).toBe(0);
  });
});

describe('TypeORM slow queries and trace (PostgreSQL)', () => {
  let t: DbApp;
  beforeAll(async () => {
    await requirePostgres();
    t = await startDbApp('postgres', `${schema}_slow`, { slowQueryMs: 200, second: true });
  });
  afterAll(() => t?.close());

  it('a pg_sleep query past the threshold inside a request: slow counter, WARN line with that trace ID', async () => {
    const traceId = 'slow-query-trace-1';
    const res = await rawRequest(`${t.url}/slow?s=0.3`, { headers: { 'x-trace-id': traceId } });
    expect(res.status).toBe(200);
    const registry = t.app.get(MetricsRegistry);
    expect(registry.counter(CATALOG.dbSlowQueriesTotal).get({ doctype: 'unknown' })).toBe(1);
    const slow = t.logs.where({ level: 'WARNING', message: 'slow query: select unknown' });
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({
      trace_id: traceId,
      doctype: 'unknown',
      sql: 'SELECT pg_sleep(0.3)',
    });
    expect(slow[0]!.duration_ms as number).toBeGreaterThanOrEqual(300);
    // a fast query is not slow
    await rawRequest(`${t.url}/slow?s=0`);
    expect(registry.counter(CATALOG.dbSlowQueriesTotal).get({ doctype: 'unknown' })).toBe(1);
  });

  it('instruments named data sources too', async () => {
    const second = t.app.get<DataSource>(getDataSourceToken('second'));
    const registry = t.app.get(MetricsRegistry);
    const count = (op: string) =>
      registry.counter(CATALOG.dbQueriesTotal).get({ doctype: 'Item', operation: op });
    const inserts = count('insert');
    await second.getRepository(Item).insert({ name: 'in sqlite' });
    expect(count('insert') - inserts).toBe(1);
    const selects = count('select');
    await second.getRepository(Item).find();
    expect(count('select') - selects).toBe(1);
  });
});
