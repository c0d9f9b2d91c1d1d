import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { SocketIoObservabilityOptions } from './socketio.options.js';
import { resolveSocketIoOptions } from './socketio.options.js';
import {
  SOCKETIO_OBSERVABILITY_OPTIONS,
  SocketIoInstrumentation,
} from './socketio-instrumentation.js';

/**
 * Socket.IO metrics and handler trace context for every Nest gateway:
 *
 * ```ts
 * imports: [ObservabilityModule.forRoot({...}), SocketIoObservabilityModule.forRoot()]
 * ```
 *
 * With `@socket.io/redis-adapter`, create the adapter with `createAdapter`
 * from `nestjs-observability/socketio-redis` to count published messages.
 */
@Module({})
export class SocketIoObservabilityModule {
  static forRoot(options: SocketIoObservabilityOptions = {}): DynamicModule {
    return {
      module: SocketIoObservabilityModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: SOCKETIO_OBSERVABILITY_OPTIONS, useValue: resolveSocketIoOptions(options) },
        SocketIoInstrumentation,
      ],
      exports: [SocketIoInstrumentation],
    };
  }
}
