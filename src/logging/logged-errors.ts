import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily } from '../metrics/families.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import { errorFields } from './error-fields.js';

/** pino's numeric level of `error`; `fatal` is above it. */
const ERROR_LEVEL = 50;

/**
 * Counts ERROR and CRITICAL log lines by `error_type` in
 * `CATALOG.loggedErrorsTotal`. The logger exists before the registry, so the
 * counter is attached once the registry is built.
 */
export class LoggedErrors {
  private family: CounterFamily<'error_type'> | undefined;

  attach(registry: MetricsRegistry): void {
    this.family = registry.counter(CATALOG.loggedErrorsTotal);
  }

  /** Called with a log call's arguments and numeric level. */
  observe(args: unknown[], level: number): void {
    if (level < ERROR_LEVEL || this.family === undefined) return;
    const first = args[0];
    let thrown: unknown;
    if (first instanceof Error) thrown = first;
    else if (first !== null && typeof first === 'object') {
      const o = first as { err?: unknown; error?: unknown };
      thrown = o.err ?? o.error;
    }
    const type = thrown === undefined ? 'none' : errorFields(thrown).error_type;
    this.family.with({ error_type: type }).value++;
  }
}
