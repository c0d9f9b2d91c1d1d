import { hostname } from 'node:os';
import { ObservabilityOptionsError } from '../observability.options.js';

export interface SocketIoObservabilityOptions {
  /** The `server_id` label (default `<hostname>:<pid>`). */
  serverId?: string;
  /** How often the Redis pub/sub round trip is probed through the adapter's clients, in ms (default 10000). */
  latencyProbeIntervalMs?: number;
  /** Run gateway handlers in a trace context of their own (default true). */
  traceHandlers?: boolean;
}

export type ResolvedSocketIoOptions = Required<SocketIoObservabilityOptions>;

const KEYS = ['serverId', 'latencyProbeIntervalMs', 'traceHandlers'];

export function resolveSocketIoOptions(
  input: SocketIoObservabilityOptions = {},
): ResolvedSocketIoOptions {
  for (const k of Object.keys(input)) {
    if (!KEYS.includes(k)) throw new ObservabilityOptionsError(`socketio.${k}`, 'unknown option');
  }
  const { serverId, latencyProbeIntervalMs, traceHandlers } = input;
  if (serverId !== undefined && (typeof serverId !== 'string' || serverId === '')) {
    throw new ObservabilityOptionsError(
      'socketio.serverId',
      'must be a non-empty string',
      serverId,
    );
  }
  if (
    latencyProbeIntervalMs !== undefined &&
    (typeof latencyProbeIntervalMs !== 'number' ||
      !Number.isInteger(latencyProbeIntervalMs) ||
      latencyProbeIntervalMs < 10)
  ) {
    throw new ObservabilityOptionsError(
      'socketio.latencyProbeIntervalMs',
      'must be an integer of at least 10',
      latencyProbeIntervalMs,
    );
  }
  if (traceHandlers !== undefined && typeof traceHandlers !== 'boolean') {
    throw new ObservabilityOptionsError(
      'socketio.traceHandlers',
      'must be true or false',
      traceHandlers,
    );
  }
  return {
    serverId: serverId ?? `${hostname()}:${process.pid}`,
    latencyProbeIntervalMs: latencyProbeIntervalMs ?? 10_000,
    traceHandlers: traceHandlers ?? true,
  };
}
