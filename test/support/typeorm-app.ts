import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Controller, Get, Module, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { Client } from 'pg';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { ObservabilityModule } from '../../src/index.js';
import { TypeOrmObservabilityModule } from '../../src/typeorm/index.js';
import { LogCapture } from './log-capture.js';

export const PG = {
  host: '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  username: 'postgres',
  database: 'test',
};

@Entity('organization')
export class Organization {
  @PrimaryGeneratedColumn() id!: number;
  @Column() name!: string;
}

@Entity('item')
export class Item {
  @PrimaryGeneratedColumn() id!: number;
  @Column() name!: string;
  @Column({ default: 0 }) quantity!: number;
}

@Controller()
class DbController {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  @Get('slow')
  async slow(@Query('s') s = '0.3') {
    await this.ds.query(`SELECT pg_sleep(${Number(s)})`);
    return 'ok';
  }
}

/** Fails with a clear message when the machine's PostgreSQL is not running. */
export async function requirePostgres(): Promise<void> {
  const c = new Client({ ...PG, user: PG.username, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG.host}:${PG.port} (database "${PG.database}", user "postgres", trust auth): ${String(e)}. ` +
        'Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function pgExec(sql: string): Promise<void> {
  const c = new Client({ ...PG, user: PG.username });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export type DbKind = 'postgres' | 'sqlite';

export interface DbApp {
  app: INestApplication;
  url: string;
  logs: LogCapture;
  ds: DataSource;
  close(): Promise<void>;
}

export function dataSourceOptions(
  kind: DbKind,
  schema: string,
  extra: Record<string, unknown> = {},
) {
  return kind === 'postgres'
    ? ({
        type: 'postgres',
        ...PG,
        schema,
        entities: [Organization, Item],
        synchronize: true,
        ...extra,
      } as const)
    : ({
        type: 'better-sqlite3',
        database: ':memory:',
        entities: [Organization, Item],
        synchronize: true,
        ...extra,
      } as const);
}

export async function startDbApp(
  kind: DbKind,
  schema: string,
  opts: { slowQueryMs?: number; extra?: Record<string, unknown>; second?: boolean } = {},
): Promise<DbApp> {
  const logs = new LogCapture();
  if (kind === 'postgres') await pgExec(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  @Module({
    imports: [
      ObservabilityModule.forRoot({
        serviceName: 'db-test',
        logging: { destination: logs, level: 'debug' },
      }),
      TypeOrmModule.forRoot(dataSourceOptions(kind, schema, opts.extra) as never),
      ...(opts.second
        ? [
            TypeOrmModule.forRoot({
              name: 'second',
              ...dataSourceOptions('sqlite', schema),
            } as never),
          ]
        : []),
      TypeOrmObservabilityModule.forRoot({ slowQueryMs: opts.slowQueryMs ?? 200 }),
    ],
    controllers: [DbController],
  })
  class DbAppModule {}
  const app = await NestFactory.create(DbAppModule, new ExpressAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const ds = app.get(DataSource);
  return {
    app,
    url,
    logs,
    ds,
    close: async () => {
      await app.close();
      if (kind === 'postgres') await pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}
