import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { Redis } from 'ioredis';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { StructuredLogger } from '../src/index.js';
import { SocketIoObservabilityModule } from '../src/socketio/index.js';
import { createAdapter } from '../src/socketio/redis-adapter.js';

/** Clients join their organization's room; `notify` broadcasts to a room. */
@WebSocketGateway({ cors: { origin: '*' } })
export class RoomsGateway {
  @WebSocketServer() server!: Server;

  constructor(private readonly log: StructuredLogger) {}

  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() room: string) {
    await socket.join(String(room));
    this.log.info('client joined room', { room });
    return { joined: room };
  }

  @SubscribeMessage('notify')
  notify(@MessageBody() body: { room: string; event?: string; text: string }) {
    const event = body.event === 'sync' ? 'sync' : 'notification';
    this.server.to(String(body.room)).emit(event, body.text);
    return 'sent';
  }
}

/** Nest's documented Redis adapter, with the observed `createAdapter`. */
export class RedisIoAdapter extends IoAdapter {
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(app: INestApplication, redisUrl: string) {
    super(app);
    this.pub = new Redis(redisUrl);
    this.sub = this.pub.duplicate();
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, options) as Server;
    server.adapter(createAdapter(this.pub, this.sub) as never);
    return server;
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
