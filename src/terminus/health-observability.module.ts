import type { DynamicModule, Type } from '@nestjs/common';
import { Controller, Get, HttpException, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HttpInstrumentation } from '../http/http-instrumentation.js';
import type { HealthOptions, ResolvedHealthOptions } from './health.options.js';
import { resolveHealthOptions } from './health.options.js';
import { HEALTH_OPTIONS, ObservabilityHealth } from './health.service.js';

/** Registers the health paths with the adapter hook (served like `/metrics`). */
class RawHealthRoutes {
  constructor(http: HttpInstrumentation, health: ObservabilityHealth, o: ResolvedHealthOptions) {
    http.addRawRoute(o.path, (req, res) => health.serve('health', req, res));
    http.addRawRoute(o.livenessPath, (req, res) => health.serve('live', req, res));
    http.addRawRoute(o.readinessPath, (req, res) => health.serve('ready', req, res));
  }
}

/** The same endpoints as an ordinary controller (global prefix, guards and HTTP metrics apply). */
function healthController(o: ResolvedHealthOptions): Type {
  const answer = async (r: Promise<{ httpStatus: number; body: Record<string, unknown> }>) => {
    const { httpStatus, body } = await r;
    if (httpStatus !== 200) throw new HttpException(body, httpStatus);
    return body;
  };
  @Controller()
  class HealthController {
    constructor(private readonly health: ObservabilityHealth) {}

    @Get(o.path)
    check() {
      return answer(this.health.check());
    }

    @Get(o.livenessPath)
    live() {
      return answer(Promise.resolve(this.health.liveness()));
    }

    @Get(o.readinessPath)
    ready() {
      return answer(this.health.readiness());
    }
  }
  return HealthController;
}

/**
 * The spec's health endpoint on @nestjs/terminus, plus liveness and readiness:
 *
 * ```ts
 * imports: [ObservabilityModule.forRoot({...}), HealthObservabilityModule.forRoot()]
 * ```
 */
@Module({})
export class HealthObservabilityModule {
  static forRoot(options: HealthOptions = {}): DynamicModule {
    const o = resolveHealthOptions(options);
    const raw = o.serve === 'raw';
    return {
      module: HealthObservabilityModule,
      imports: [TerminusModule, DiscoveryModule],
      controllers: raw ? [] : [healthController(o)],
      providers: [
        { provide: HEALTH_OPTIONS, useValue: o },
        ObservabilityHealth,
        ...(raw
          ? [
              {
                provide: RawHealthRoutes,
                useFactory: (http: HttpInstrumentation, health: ObservabilityHealth) =>
                  new RawHealthRoutes(http, health, o),
                inject: [HttpInstrumentation, ObservabilityHealth],
              },
            ]
          : []),
      ],
      exports: [ObservabilityHealth],
    };
  }
}
