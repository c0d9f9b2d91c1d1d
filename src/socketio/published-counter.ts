/*
 * Links a Socket.IO server to the instrumentation that observes it, so the
 * observed Redis adapter (created by Socket.IO, not by Nest) can count what
 * it publishes without a reference to the Nest container.
 */

/** Counts one message published through Redis, by event name. */
export type PublishedCounter = (eventType: string) => void;

const counters = new WeakMap<object, PublishedCounter>();

export function setPublishedCounter(server: object, counter: PublishedCounter | undefined): void {
  if (counter === undefined) counters.delete(server);
  else counters.set(server, counter);
}

export function publishedCounterOf(server: object | undefined): PublishedCounter | undefined {
  return server === undefined ? undefined : counters.get(server);
}

/** The event name of a Socket.IO packet (EVENT or BINARY_EVENT), else undefined. */
export function eventTypeOf(packet: { type?: number; data?: unknown }): string | undefined {
  if (packet.type !== 2 && packet.type !== 5) return undefined;
  const first = Array.isArray(packet.data) ? (packet.data[0] as unknown) : undefined;
  return typeof first === 'string' ? first : undefined;
}
