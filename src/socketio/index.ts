export { SocketIoObservabilityModule } from './socketio-observability.module.js';
export { SocketIoInstrumentation } from './socketio-instrumentation.js';
export type { SocketIoObservabilityOptions } from './socketio.options.js';
