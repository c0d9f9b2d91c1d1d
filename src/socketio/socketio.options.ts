import { hostname } from 'node:os';
import type { Output } from '../options/schema.js';
import { bool, custom, int, object, resolveWith, str } from '../options/schema.js';

export interface SocketIoObservabilityOptions {
  /** The `server_id` label (default `<hostname>:<pid>`). */
  serverId?: string;
  /** How often the Redis pub/sub round trip is probed through the adapter's clients, in ms (default 10000). */
  latencyProbeIntervalMs?: number;
  /** Run gateway handlers in a trace context of their own (default true). */
  traceHandlers?: boolean;
}

const schema = object<SocketIoObservabilityOptions>()({
  serverId: custom(
    (v, path) => str('').parse(v, path),
    () => `${hostname()}:${process.pid}`,
  ),
  latencyProbeIntervalMs: int(10_000, 10),
  traceHandlers: bool(true),
});

export type ResolvedSocketIoOptions = Output<typeof schema>;

export function resolveSocketIoOptions(
  input: SocketIoObservabilityOptions = {},
): ResolvedSocketIoOptions {
  return resolveWith(schema, input, 'socketio');
}
