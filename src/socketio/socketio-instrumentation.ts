import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { GATEWAY_METADATA, GATEWAY_SERVER_METADATA } from '@nestjs/websockets/constants.js';
import type { Logger as Pino } from 'pino';
import type { Namespace, Server, Socket } from 'socket.io';
import { TraceContext } from '../context/trace-context.js';
import { acceptTraceId } from '../context/trace-id.js';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily } from '../metrics/families.js';
import { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { ScrapeCollector } from '../metrics/metrics-registry.js';
import { JSON_LOGGER, OBSERVABILITY_OPTIONS } from '../observability.constants.js';
import type { ResolvedOptions } from '../observability.options.js';
import { setPublishedCounter } from './published-counter.js';
import { RedisLatencyProbe, redisClientsOf } from './redis-latency-probe.js';
import type { ResolvedSocketIoOptions } from './socketio.options.js';

export const SOCKETIO_OBSERVABILITY_OPTIONS = Symbol('nestjs-observability:socketio-options');

const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * Socket.IO metrics and trace context for Nest gateways. At bootstrap it
 * finds every gateway's `@WebSocketServer()` and observes its server through
 * Socket.IO's public API: `engine.clientsCount` and the namespace adapters'
 * rooms at scrape time, `socket.onAnyOutgoing` for messages delivered,
 * `socket.use` / `namespace.use` to run handlers in a trace context, and the
 * Redis adapter's clients for the pub/sub latency probe.
 */
@Injectable()
export class SocketIoInstrumentation
  implements OnApplicationBootstrap, OnApplicationShutdown, ScrapeCollector
{
  readonly name = 'socketio';
  private readonly servers = new Set<Server>();
  private readonly namespaces = new Set<Namespace>();
  private readonly probes = new Map<unknown, RedisLatencyProbe>();
  private readonly delivered: CounterFamily<'event_type'>;
  private readonly published: CounterFamily<'event_type'>;
  private removeCollector: (() => void) | undefined;
  private lastErrorLog = -Infinity;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly registry: MetricsRegistry,
    private readonly trace: TraceContext,
    @Inject(JSON_LOGGER) private readonly log: Pino,
    @Inject(SOCKETIO_OBSERVABILITY_OPTIONS) private readonly options: ResolvedSocketIoOptions,
    @Inject(OBSERVABILITY_OPTIONS) private readonly core: ResolvedOptions,
  ) {
    registry.useGroup('socketio');
    this.delivered = registry.counter(CATALOG.socketioMessagesDeliveredTotal);
    this.published = registry.counter(CATALOG.socketioMessagesPublishedTotal);
  }

  /** Gateways are connected before bootstrap: observe each one's server. */
  onApplicationBootstrap(): void {
    this.removeCollector = this.registry.addCollector(this);
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype || !Reflect.getMetadata(GATEWAY_METADATA, metatype)) continue;
      let found = false;
      for (const key in instance as object) {
        if (!Reflect.getMetadata(GATEWAY_SERVER_METADATA, instance as object, key)) continue;
        const target = (instance as Record<string, unknown>)[key];
        if (target && typeof target === 'object') {
          this.observe(target as Server | Namespace);
          found = true;
        }
      }
      if (!found) {
        this.log.info(
          `nestjs-observability: gateway ${metatype.name} has no @WebSocketServer() property; pass its server to SocketIoInstrumentation.observe() to instrument it`,
        );
      }
    }
  }

  /** Instruments a Socket.IO server or namespace the module could not discover. */
  observe(target: Server | Namespace): void {
    const isNamespace =
      'server' in target && 'adapter' in target && typeof target.adapter !== 'function';
    const server = isNamespace ? (target as Namespace).server : (target as Server);
    if (!this.servers.has(server)) {
      this.servers.add(server);
      setPublishedCounter(server, (event) => {
        try {
          this.published.with({ event_type: event }).value++;
        } catch (err) {
          this.failed('published', err);
        }
      });
      server.on('new_namespace', (nsp: Namespace) => this.observeNamespace(nsp));
      this.observeNamespace(server.sockets);
    }
    if (isNamespace) this.observeNamespace(target as Namespace);
  }

  private observeNamespace(nsp: Namespace): void {
    if (this.namespaces.has(nsp)) return;
    this.namespaces.add(nsp);
    if (this.options.traceHandlers) {
      // Connection handlers (a gateway's handleConnection) run in the handshake's trace.
      nsp.use((socket, next) => this.trace.run(() => next(), this.contextOf(socket)));
    }
    for (const socket of nsp.sockets.values()) this.attach(socket);
    nsp.on('connection', (socket: Socket) => this.attach(socket));
    const clients = redisClientsOf(nsp.adapter);
    if (clients !== undefined && !this.probes.has(clients.subClient)) {
      const histogram = this.registry.histogram(CATALOG.socketioRedisLatencySeconds);
      const probe = new RedisLatencyProbe(
        clients,
        (seconds) => histogram.observe(undefined, seconds),
        (err) => this.failed('redis-probe', err),
      );
      this.probes.set(clients.subClient, probe);
      probe.start(this.options.latencyProbeIntervalMs);
    }
  }

  private attach(socket: Socket): void {
    // Runs inside socket.emit: a throw here would cost the app its message.
    socket.onAnyOutgoing((event: unknown) => {
      try {
        if (typeof event === 'string') this.delivered.with({ event_type: event }).value++;
      } catch (err) {
        this.failed('delivered', err);
      }
    });
    if (this.options.traceHandlers) {
      const fixed = this.contextOf(socket);
      // A trace per message, unless the client sent one in its handshake.
      socket.use((_packet, next) => this.trace.run(() => next(), fixed));
    }
  }

  /** The trace ID and organization a client sent in its handshake, if any. */
  private contextOf(socket: Socket): { traceId?: string; organization?: string } {
    const h = socket.handshake;
    const auth = (h.auth ?? {}) as Record<string, unknown>;
    const header = h.headers[this.core.trace.header];
    const traceId = acceptTraceId(
      typeof auth.traceId === 'string' ? auth.traceId : header,
      this.core.trace.maxLength,
    );
    const orgHeader = h.headers[this.core.organization.header];
    const org = typeof auth.organization === 'string' ? auth.organization : orgHeader;
    return {
      ...(traceId ? { traceId } : {}),
      ...(typeof org === 'string' && org !== '' ? { organization: org.slice(0, 256) } : {}),
    };
  }

  /** Connection and room gauges, read from the servers at scrape time. */
  collect(): void {
    let connections = 0;
    for (const server of this.servers) connections += server.engine?.clientsCount ?? 0;
    let rooms = 0;
    for (const nsp of this.namespaces) {
      const adapter = nsp.adapter as {
        rooms?: Map<unknown, unknown>;
        sids?: Map<unknown, unknown>;
      };
      if (!adapter.rooms) continue;
      // Each socket sits in a private room named after its ID: those are not rooms anyone made.
      for (const room of adapter.rooms.keys()) if (!adapter.sids?.has(room)) rooms++;
    }
    const server_id = this.options.serverId;
    this.registry.gauge(CATALOG.socketioConnections).set({ server_id }, connections);
    this.registry.gauge(CATALOG.socketioRooms).set({ server_id }, rooms);
  }

  onApplicationShutdown(): void {
    this.removeCollector?.();
    for (const probe of this.probes.values()) probe.stop();
    this.probes.clear();
    for (const server of this.servers) setPublishedCounter(server, undefined);
  }

  private failed(what: string, err: unknown): void {
    this.registry.countInternalError(`socketio:${what}`);
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.log.warn({ err }, `nestjs-observability: Socket.IO ${what} failed`);
  }
}
