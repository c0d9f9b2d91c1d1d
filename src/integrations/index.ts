export { IntegrationsObservabilityModule } from './integrations-observability.module.js';
export { Integrations } from './integrations.service.js';
export type {
  BreakerOptions,
  IntegrationConfig,
  IntegrationsObservabilityOptions,
} from './integrations.options.js';
export type { CockatielBreaker, ObservableBreaker, OpossumBreaker } from './breakers.js';
export { BreakerState } from './breakers.js';
