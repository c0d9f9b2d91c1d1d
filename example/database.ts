import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import type { OnApplicationBootstrap } from '@nestjs/common';
import {
  Column,
  CreateDateColumn,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  Repository,
} from 'typeorm';
import { TypeOrmObservabilityModule } from '../src/typeorm/index.js';

@Entity('organization')
export class Organization {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ unique: true }) slug!: string;
}

@Entity('item')
export class Item {
  @PrimaryGeneratedColumn() id!: number;
  @Column() org!: string;
  @Column() name!: string;
  @CreateDateColumn() createdAt!: Date;
}

@Entity('report')
export class Report {
  @PrimaryGeneratedColumn() id!: number;
  @Column() org!: string;
  @Column() rows!: number;
}

const ENTITIES = [Organization, Item, Report];

/** SQLite in a file by default; PostgreSQL when DATABASE_URL is set. */
function dataSourceOptions() {
  const url = process.env.DATABASE_URL;
  return url
    ? ({ type: 'postgres', url, entities: ENTITIES, synchronize: true } as const)
    : ({
        type: 'better-sqlite3',
        database: process.env.DEMO_SQLITE ?? 'demo.sqlite',
        entities: ENTITIES,
        synchronize: true,
      } as const);
}

@Injectable()
export class Seeder implements OnApplicationBootstrap {
  constructor(
    @InjectRepository(Organization) private readonly orgs: Repository<Organization>,
    private readonly ds: DataSource,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    for (const slug of ['acme', 'globex', 'initech']) {
      if (!(await this.orgs.findOneBy({ slug }))) await this.orgs.insert({ slug });
    }
    // A slow start-up query (a cache warm-up), so the slow-query metric and log have a sample from the start.
    await slowQuery(this.ds);
  }
}

function slowQuery(ds: DataSource): Promise<unknown> {
  return ds.options.type === 'postgres'
    ? ds.query('SELECT pg_sleep(0.4)')
    : ds.query(
        'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) SELECT count(*) FROM c',
      );
}

@Controller('orgs/:orgId')
export class StatsController {
  constructor(private readonly ds: DataSource) {}

  /** Every tenth call runs a deliberately slow query, so the slow-query metric and log have samples. */
  @Get('stats')
  async stats(@Param('orgId') org: string) {
    const items = await this.ds.getRepository(Item).countBy({ org });
    const reports = await this.ds.getRepository(Report).countBy({ org });
    if (Math.random() < 0.1) await slowQuery(this.ds);
    return { org, items, reports };
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot(dataSourceOptions() as never),
    TypeOrmModule.forFeature(ENTITIES),
    TypeOrmObservabilityModule.forRoot({ slowQueryMs: 200 }),
  ],
  controllers: [StatsController],
  providers: [Seeder],
  exports: [TypeOrmModule],
})
export class DatabaseModule {}
