import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import pino from 'pino';
import { Server } from 'socket.io';
import { TraceContext } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { resolveOptions } from '../src/observability.options.js';
import { SocketIoInstrumentation } from '../src/socketio/index.js';
import { resolveSocketIoOptions } from '../src/socketio/socketio.options.js';
import { median } from './cpu.js';

export interface SocketIoRow {
  clients: number;
  plainUsPerBroadcast: number;
  instrumentedUsPerBroadcast: number;
  ratio: number;
}

// Clients in a child process: each joins "room" on both servers and reports how many messages arrived.
const CLIENTS = `
const { io } = require('socket.io-client');
const { BENCH_PLAIN: plain, BENCH_INST: inst, BENCH_K: k } = process.env;
const counts = { plain: 0, inst: 0 };
let ready = 0;
for (const [name, url] of [['plain', plain], ['inst', inst]]) {
  for (let i = 0; i < Number(k); i++) {
    const s = io(url, { transports: ['websocket'], forceNew: true });
    s.on('tick', () => { counts[name]++; });
    s.on('connect_error', (e) => console.error('connect_error', name, e.message)); s.on('connect', () => s.emit('join', 'room', () => { if (++ready === 2 * Number(k)) process.send({ ready: true }); }));
  }
}
process.on('message', () => process.send(counts));
`;

async function ioServer(): Promise<{ io: Server; url: string }> {
  const http = createServer();
  const io = new Server(http);
  io.on('connection', (s) =>
    s.on('join', (room: string, ack: () => void) => {
      void s.join(room);
      ack();
    }),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return { io, url: `http://127.0.0.1:${(http.address() as { port: number }).port}` };
}

/**
 * Server CPU per broadcast to a room of K clients (in-memory adapter), with
 * and without the Socket.IO instrumentation, alternating batches.
 */
export async function runSocketIoBench(
  rounds: number,
  log: (s: string) => void,
): Promise<SocketIoRow[]> {
  const k = 20;
  const plain = await ioServer();
  const inst = await ioServer();
  const registry = new MetricsRegistry();
  const core = resolveOptions({ serviceName: 'bench' });
  const instrumentation = new SocketIoInstrumentation(
    { getProviders: () => [] } as never,
    registry,
    new TraceContext(),
    pino({ level: 'silent' }),
    resolveSocketIoOptions({ serverId: 'bench' }),
    core,
  );
  instrumentation.observe(inst.io);
  const child = fork('-e', [CLIENTS], {
    execArgv: [],
    env: { ...process.env, BENCH_PLAIN: plain.url, BENCH_INST: inst.url, BENCH_K: String(k) },
  });
  await new Promise((r) => child.once('message', r));
  const counts = () =>
    new Promise<{ plain: number; inst: number }>((r) => {
      child.once('message', (m) => r(m as { plain: number; inst: number }));
      child.send('count');
    });
  const m = 2000;
  const batch = async (which: 'plain' | 'inst') => {
    const io = which === 'plain' ? plain.io : inst.io;
    const target = (await counts())[which] + m * k;
    const start = process.cpuUsage();
    for (let i = 0; i < m; i++) {
      io.to('room').emit('tick', i);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    while ((await counts())[which] < target) await new Promise((r) => setTimeout(r, 5));
    const d = process.cpuUsage(start);
    return (d.user + d.system) / m;
  };
  try {
    await batch('plain');
    await batch('inst');
    const p: number[] = [];
    const q: number[] = [];
    for (let r = 0; r < rounds; r++) {
      p.push(await batch('plain'));
      q.push(await batch('inst'));
    }
    const row = {
      clients: k,
      plainUsPerBroadcast: median(p),
      instrumentedUsPerBroadcast: median(q),
      ratio: median(q.map((x, i) => x / p[i]!)),
    };
    log(
      `socket.io: ${row.plainUsPerBroadcast.toFixed(1)} vs ${row.instrumentedUsPerBroadcast.toFixed(1)} µs CPU/broadcast`,
    );
    return [row];
  } finally {
    child.kill();
    instrumentation.onApplicationShutdown();
    await plain.io.close();
    await inst.io.close();
  }
}
