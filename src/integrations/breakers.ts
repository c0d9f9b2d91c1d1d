import type { CircuitBreakerPolicy } from 'cockatiel';
import type { BreakerOptions } from './integrations.options.js';

/** cockatiel's `CircuitBreakerPolicy`, as far as this module reads it. */
export interface CockatielBreaker {
  readonly state: number;
  execute<T>(fn: () => PromiseLike<T> | T): Promise<T>;
  onStateChange(listener: (state: number) => void): { dispose(): void };
}

/** opossum's `CircuitBreaker`, as far as this module reads it. */
export interface OpossumBreaker {
  readonly opened: boolean;
  readonly halfOpen: boolean;
  fire(...args: unknown[]): Promise<unknown>;
  on(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
}

/** A breaker the module can observe: cockatiel's or opossum's. */
export type ObservableBreaker = CockatielBreaker | OpossumBreaker;

/** `integration_circuit_breaker_state` values. */
export const BreakerState = { closed: 0, halfOpen: 1, open: 2 } as const;
export type BreakerStateValue = (typeof BreakerState)[keyof typeof BreakerState];

export function isCockatiel(b: ObservableBreaker): b is CockatielBreaker {
  return typeof (b as CockatielBreaker).execute === 'function' && 'state' in b;
}

/** The gauge value of a breaker: 0 closed, 1 half-open, 2 open (cockatiel's isolated counts as open). */
export function breakerState(b: ObservableBreaker): BreakerStateValue {
  if (!isCockatiel(b)) {
    return b.opened ? BreakerState.open : b.halfOpen ? BreakerState.halfOpen : BreakerState.closed;
  }
  // cockatiel's CircuitState: Closed 0, Open 1, HalfOpen 2, Isolated 3.
  if (b.state === 0) return BreakerState.closed;
  return b.state === 2 ? BreakerState.halfOpen : BreakerState.open;
}

/** Calls `listener` on every state change; returns the unsubscribe function. */
export function onBreakerChange(
  b: ObservableBreaker,
  listener: (state: BreakerStateValue) => void,
): () => void {
  if (isCockatiel(b)) {
    const d = b.onStateChange(() => listener(breakerState(b)));
    return () => d.dispose();
  }
  const handlers = (['open', 'halfOpen', 'close'] as const).map((event) => {
    const h = () => listener(breakerState(b));
    b.on(event, h);
    return [event, h] as const;
  });
  return () => handlers.forEach(([e, h]) => b.removeListener(e, h));
}

/** Builds a consecutive-failures breaker with cockatiel, loaded only when a breaker is configured. */
export async function createBreaker(
  integration: string,
  options: Required<BreakerOptions>,
): Promise<CircuitBreakerPolicy> {
  let cockatiel: typeof import('cockatiel');
  try {
    cockatiel = await import('cockatiel');
  } catch {
    throw new Error(
      `nestjs-observability: integrations.${integration}.breaker needs the "cockatiel" package: npm install cockatiel`,
    );
  }
  return cockatiel.circuitBreaker(cockatiel.handleAll, {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new cockatiel.ConsecutiveBreaker(options.consecutiveFailures),
  });
}
