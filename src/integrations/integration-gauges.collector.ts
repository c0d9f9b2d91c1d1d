import { CATALOG } from '../metrics/catalog.js';
import type { MetricsRegistry, ScrapeCollector } from '../metrics/metrics-registry.js';
import type { ObservableBreaker } from './breakers.js';
import { breakerState } from './breakers.js';

interface TokenExpiry {
  integration: string;
  org: string;
  expiresAtMs: number;
}

/**
 * The scrape-time integration gauges: token expiry computed from the stored
 * expiry time, so it falls between scrapes with nobody calling, and breaker
 * states read from the breakers themselves.
 */
export class IntegrationGauges implements ScrapeCollector {
  readonly name = 'integrations';
  readonly breakers = new Map<string, ObservableBreaker>();
  private readonly tokens = new Map<string, TokenExpiry>();

  constructor(private readonly registry: MetricsRegistry) {}

  setTokenExpiry(integration: string, org: string, expiresAtMs: number): void {
    this.tokens.set(`${integration}\u0001${org}`, { integration, org, expiresAtMs });
  }

  /** The token's series disappears at the next scrape. */
  forgetToken(integration: string, org?: string): void {
    for (const [key, t] of this.tokens) {
      if (t.integration === integration && (org === undefined || t.org === org))
        this.tokens.delete(key);
    }
  }

  collect(): void {
    const now = Date.now();
    this.registry
      .gauge(CATALOG.integrationTokenExpirySeconds)
      .replaceAll(
        [...this.tokens.values()].map(
          (t) =>
            [{ integration: t.integration, org: t.org }, (t.expiresAtMs - now) / 1000] as const,
        ),
      );
    this.registry
      .gauge(CATALOG.integrationCircuitBreakerState)
      .replaceAll(
        [...this.breakers].map(([integration, b]) => [{ integration }, breakerState(b)] as const),
      );
  }
}
