import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { Redis } from 'ioredis';
import type { Server, Socket } from 'socket.io';
import { StructuredLogger, TraceContext } from '../src/index.js';
import { SocketIoObservabilityModule } from '../src/socketio/index.js';
import { ObservedRedisIoAdapter } from '../src/socketio/redis-adapter.js';

/** Clients join their organization's room; `notify` broadcasts to a room. */
@WebSocketGateway({ cors: { origin: '*' } })
export class RoomsGateway {
  @WebSocketServer() server!: Server;

  constructor(
    private readonly log: StructuredLogger,
    private readonly trace: TraceContext,
  ) {}

  /** Answers with the handler's trace ID: the handshake's, or a new one per message. */
  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() room: string) {
    await socket.join(String(room));
    this.log.info('client joined room', { room });
    return { joined: room, trace: this.trace.traceId };
  }

  @SubscribeMessage('notify')
  notify(@MessageBody() body: { room: string; event?: string; text: string }) {
    const event = body.event === 'sync' ? 'sync' : 'notification';
    this.server.to(String(body.room)).emit(event, body.text);
    return 'sent';
  }
}

/** The observed Redis adapter, with connections the demo opens and closes itself. */
export class RedisIoAdapter extends ObservedRedisIoAdapter {
  constructor(
    app: INestApplication,
    private readonly pub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    private readonly sub = pub.duplicate(),
  ) {
    super(app, pub, sub);
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

@Module({
  imports: [SocketIoObservabilityModule.forRoot({ latencyProbeIntervalMs: 5000 })],
  providers: [RoomsGateway],
})
export class RealtimeModule {}
