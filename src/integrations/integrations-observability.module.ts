import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { coreDepsProvider } from '../core-deps.js';
import type { IntegrationsObservabilityOptions } from './integrations.options.js';
import { resolveIntegrationsOptions } from './integrations.options.js';
import { Integrations } from './integrations.service.js';

/**
 * Outbound integration metrics, trace propagation, circuit breakers and
 * token expiry:
 *
 * ```ts
 * IntegrationsObservabilityModule.forRoot({
 *   integrations: {
 *     stripe: { baseUrl: 'https://api.stripe.com/v1', routes: ['/customers/:id'], breaker: {} },
 *   },
 * })
 * ```
 */
@Module({})
export class IntegrationsObservabilityModule {
  static forRoot(options: IntegrationsObservabilityOptions = {}): DynamicModule {
    const resolved = resolveIntegrationsOptions(options);
    return {
      module: IntegrationsObservabilityModule,
      global: true,
      providers: [coreDepsProvider(Integrations, (deps) => Integrations.create(resolved, deps))],
      exports: [Integrations],
    };
  }
}
