import type { DynamicModule, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import type { Logger as Pino } from 'pino';
import { DataSource } from 'typeorm';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import { JSON_LOGGER } from '../observability.constants.js';
import { num, object, resolveWith } from '../options/schema.js';
import { PoolGauges } from './pool-gauges.collector.js';
import { QueryMetricsSubscriber } from './query-metrics.subscriber.js';

export interface TypeOrmObservabilityOptions {
  /** Queries at least this slow (ms) count as slow: `db_slow_queries_total` and a WARN line. */
  slowQueryMs?: number;
}

const OPTIONS = Symbol('nestjs-observability:typeorm-options');

const schema = object<TypeOrmObservabilityOptions>()({ slowQueryMs: num(1000, 0) });

/**
 * Attaches the query subscriber to every TypeORM DataSource of the app
 * (default and named, from @nestjs/typeorm or your own providers) and reads
 * the pool gauges at scrape time.
 */
@Injectable()
export class TypeOrmInstrumentation implements OnModuleInit, OnApplicationShutdown {
  private readonly attached = new Map<DataSource, QueryMetricsSubscriber>();
  private removeCollector: (() => void) | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registry: MetricsRegistry,
    @Inject(JSON_LOGGER) private readonly log: Pino,
    @Inject(OPTIONS) private readonly options: Required<TypeOrmObservabilityOptions>,
  ) {
    registry.useGroup('database');
  }

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as unknown;
      if (instance instanceof DataSource) this.attach(instance);
    }
    this.removeCollector = this.registry.addCollector(
      new PoolGauges(() => [...this.attached.keys()], this.registry),
    );
  }

  /** Instruments a DataSource the module could not discover (created outside Nest's container). */
  attach(dataSource: DataSource): void {
    if (this.attached.has(dataSource)) return;
    const subscriber = new QueryMetricsSubscriber(
      dataSource,
      this.registry,
      this.log,
      this.options.slowQueryMs / 1000,
    );
    dataSource.subscribers.push(subscriber);
    this.attached.set(dataSource, subscriber);
  }

  /** The data sources being instrumented. */
  dataSources(): DataSource[] {
    return [...this.attached.keys()];
  }

  onApplicationShutdown(): void {
    this.removeCollector?.();
    for (const [ds, sub] of this.attached) {
      const i = ds.subscribers.indexOf(sub);
      if (i !== -1) ds.subscribers.splice(i, 1);
    }
    this.attached.clear();
  }
}

/**
 * Database metrics for TypeORM:
 *
 * ```ts
 * imports: [ObservabilityModule.forRoot({...}), TypeOrmModule.forRoot({...}), TypeOrmObservabilityModule.forRoot()]
 * ```
 */
@Module({})
export class TypeOrmObservabilityModule {
  static forRoot(options: TypeOrmObservabilityOptions = {}): DynamicModule {
    const { slowQueryMs } = resolveWith(schema, options, 'typeorm');
    return {
      module: TypeOrmObservabilityModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [{ provide: OPTIONS, useValue: { slowQueryMs } }, TypeOrmInstrumentation],
      exports: [TypeOrmInstrumentation],
    };
  }
}
