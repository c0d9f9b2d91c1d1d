export {
  TypeOrmInstrumentation,
  TypeOrmObservabilityModule,
} from './typeorm-observability.module.js';
export type { TypeOrmObservabilityOptions } from './typeorm-observability.module.js';
