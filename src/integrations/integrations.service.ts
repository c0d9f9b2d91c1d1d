import { performance } from 'node:perf_hooks';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { CoreDeps } from '../core-deps.js';
import { CATALOG } from '../metrics/catalog.js';
import type { ObservableBreaker } from './breakers.js';
import { createBreaker, isCockatiel, onBreakerChange, BreakerState } from './breakers.js';
import type { CallOutcome } from './call-recorder.js';
import { CallRecorder, isSuccessful } from './call-recorder.js';
import { IntegrationGauges } from './integration-gauges.collector.js';
import { IntegrationMatcher } from './integration-matcher.js';
import type { ResolvedIntegration, ResolvedIntegrationsOptions } from './integrations.options.js';
import type { ExplicitCallScope } from './outbound-channels.js';
import { OutboundChannels } from './outbound-channels.js';

/** A response whose status means failure, passed through the breaker as a thrown value. */
class FailedResult {
  constructor(readonly value: unknown) {}
}
/** An error the integration counts as success (a 4xx with `clientErrorsAreSuccess`). */
class AcceptedError {
  constructor(readonly error: unknown) {}
}

const BREAKER_STATE_NAMES = ['closed', 'half-open', 'open'];

/**
 * Outbound integrations: automatic recording of HTTP calls, explicit calls
 * with a name and endpoint of your choosing, circuit breakers and token
 * expiry.
 *
 * ```ts
 * constructor(private readonly integrations: Integrations) {}
 * const res = await this.integrations.fetch('stripe', '/v1/customers/42');
 * this.integrations.tokenExpiresAt('stripe', expiresAt, org);
 * ```
 */
export class Integrations implements OnApplicationShutdown {
  private readonly scope = new AsyncLocalStorage<ExplicitCallScope>();
  private readonly matcher: IntegrationMatcher;
  private readonly recorder: CallRecorder;
  private readonly gauges: IntegrationGauges;
  private readonly channels: OutboundChannels | undefined;
  private readonly unsubscribers: (() => void)[] = [];
  private removeCollector: (() => void) | undefined;

  private constructor(
    private readonly options: ResolvedIntegrationsOptions,
    private readonly deps: CoreDeps,
  ) {
    this.matcher = new IntegrationMatcher(options.integrations, options.otherHosts);
    this.recorder = new CallRecorder(deps.registry, deps.trace, deps.log, options.logFailures);
    this.gauges = new IntegrationGauges(deps.registry);
    if (options.automatic) {
      this.channels = new OutboundChannels(
        this.matcher,
        this.recorder,
        deps.trace,
        this.scope,
        deps.registry,
        deps.traceHeader,
        () =>
          deps.log.info(
            'nestjs-observability: this Node version has no http.client.request.created channel (Node 22.12+); node:http calls (axios) are recorded without trace headers',
          ),
      );
    }
  }

  /** Builds the breakers (loading cockatiel only when one is configured) and subscribes to the channels. */
  static async create(options: ResolvedIntegrationsOptions, deps: CoreDeps): Promise<Integrations> {
    const self = new Integrations(options, deps);
    for (const i of options.integrations) {
      if (i.breaker === undefined) continue;
      const b =
        'consecutiveFailures' in i.breaker ? await createBreaker(i.name, i.breaker) : i.breaker;
      self.observeBreaker(i.name, b);
    }
    self.removeCollector = deps.registry.addCollector(self.gauges);
    self.channels?.subscribe();
    return self;
  }

  /** The configured integrations. */
  get integrations(): readonly ResolvedIntegration[] {
    return this.options.integrations;
  }

  /**
   * Runs one outbound call under an integration name and endpoint of your
   * choosing, through the integration's breaker when it has one. HTTP calls
   * inside are not recorded again. A returned or thrown object with an HTTP
   * `status` (fetch's Response, axios's response or error) is classified by
   * it; anything else thrown is an error. While the breaker is open the call
   * fails fast (cockatiel's `BrokenCircuitError`) and counts as an error.
   */
  async call<T>(integration: string, endpoint: string, fn: () => Promise<T> | T): Promise<T> {
    const config = this.matcher.byName(integration);
    const clientOk = config?.clientErrorsAreSuccess ?? false;
    const breaker = this.gauges.breakers.get(integration);
    const ctx = this.deps.trace.current();
    const start = performance.now();
    let outcome: CallOutcome = {};
    const run = () => this.scope.run({ integration: config }, fn);
    try {
      if (breaker === undefined || !isCockatiel(breaker)) {
        const value = await run();
        outcome = { statusCode: statusOf(value) };
        return value;
      }
      const guarded = await breaker.execute(async () => {
        let value: T;
        try {
          value = await run();
        } catch (e) {
          if (isSuccessful(outcomeOfError(e), clientOk)) return new AcceptedError(e);
          throw e;
        }
        if (!isSuccessful({ statusCode: statusOf(value) }, clientOk)) throw new FailedResult(value);
        return value;
      });
      if (guarded instanceof AcceptedError) throw guarded.error;
      outcome = { statusCode: statusOf(guarded) };
      return guarded;
    } catch (e) {
      if (e instanceof FailedResult) {
        outcome = { statusCode: statusOf(e.value) };
        return e.value as T;
      }
      outcome = outcomeOfError(e);
      throw e;
    } finally {
      const seconds = (performance.now() - start) / 1000;
      this.recorder.record(integration, endpoint, seconds, outcome, clientOk, ctx);
    }
  }

  /**
   * `fetch` for an integration: a path is resolved against its `baseUrl`,
   * the endpoint label comes from its route templates, and the call goes
   * through its breaker.
   */
  fetch(integration: string, input: string | URL, init?: RequestInit): Promise<Response> {
    const config = this.matcher.byName(integration);
    const url =
      typeof input === 'string' && config?.baseUrl !== undefined && !/^[a-z]+:/i.test(input)
        ? new URL(
            config.baseUrl.replace(/\/+$/, '') + (input.startsWith('/') ? input : '/' + input),
          )
        : new URL(input);
    const endpoint = this.matcher.endpointOfUrl(config, (init?.method ?? 'GET').toUpperCase(), url);
    return this.call(integration, endpoint, () => globalThis.fetch(url, init));
  }

  /** The breaker of an integration (built from options or observed), if any. */
  breaker(integration: string): ObservableBreaker | undefined {
    return this.gauges.breakers.get(integration);
  }

  /**
   * Reports `integration_circuit_breaker_state` for a breaker the app built
   * itself (cockatiel `CircuitBreakerPolicy` or opossum `CircuitBreaker`) and
   * logs its state changes. A cockatiel breaker also guards `call()`/`fetch()`.
   */
  observeBreaker(integration: string, breaker: ObservableBreaker): () => void {
    this.gauges.breakers.set(integration, breaker);
    const off = onBreakerChange(breaker, (state) => {
      const fields = { integration, breaker_state: BREAKER_STATE_NAMES[state] };
      if (state === BreakerState.open) this.deps.log.warn(fields, 'circuit breaker opened');
      else this.deps.log.info(fields, `circuit breaker ${BREAKER_STATE_NAMES[state]}`);
    });
    const stop = () => {
      off();
      // Its series disappears at the next scrape.
      if (this.gauges.breakers.get(integration) === breaker)
        this.gauges.breakers.delete(integration);
    };
    this.unsubscribers.push(stop);
    return stop;
  }

  /**
   * Records when a token expires; `integration_token_expiry_seconds` is
   * computed from it at every scrape. `org` defaults to the current context's.
   */
  tokenExpiresAt(integration: string, expiresAt: Date | number, org?: string): void {
    const ms = expiresAt instanceof Date ? expiresAt.getTime() : expiresAt;
    if (!Number.isFinite(ms)) {
      this.deps.registry.countInternalError('integrations:token');
      return;
    }
    this.gauges.setTokenExpiry(integration, this.orgOf(org), ms);
  }

  /** Counts a token refresh; on success with `expiresAt`, also records the new expiry. */
  tokenRefreshed(
    integration: string,
    status: 'success' | 'error' = 'success',
    token?: { expiresAt: Date | number; org?: string },
  ): void {
    this.deps.registry.counter(CATALOG.integrationTokenRefreshTotal).inc({ integration, status });
    if (status === 'success' && token !== undefined) {
      this.tokenExpiresAt(integration, token.expiresAt, token.org);
    }
  }

  /** Stops reporting a token (an organization that disconnected the integration); all orgs when `org` is omitted. */
  forgetToken(integration: string, org?: string): void {
    this.gauges.forgetToken(integration, org);
  }

  onApplicationShutdown(): void {
    this.channels?.unsubscribe();
    this.removeCollector?.();
    for (const u of this.unsubscribers.splice(0)) u();
  }

  private orgOf(org: string | undefined): string {
    return org ?? this.deps.trace.organization ?? this.deps.fallbackOrg;
  }
}

/** The HTTP status of a fetch Response, an axios response, or undefined. */
function statusOf(value: unknown): number | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const s = (value as { status?: unknown }).status;
  return typeof s === 'number' && s >= 100 && s <= 599 ? s : undefined;
}

/** An error that carries an HTTP response (axios) is classified by its status. */
function outcomeOfError(e: unknown): CallOutcome {
  const status = statusOf((e as { response?: unknown } | null)?.response);
  return status === undefined ? { error: e } : { statusCode: status };
}
