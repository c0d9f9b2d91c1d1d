import { io, type Socket as ClientSocket } from 'socket.io-client';
import { CATALOG, MetricsService } from '../src/index.js';
import { eventually } from './support/http-client.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { requireRedis } from './support/redis.js';
import { startSocketIoApp, type SocketIoTestApp } from './support/socketio-app.js';

const scrape = async (t: SocketIoTestApp) =>
  parseExposition(await t.app.get(MetricsService).scrape());

function connect(url: string, auth?: Record<string, string>): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, auth });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

const ask = <T>(s: ClientSocket, event: string, body: unknown) =>
  s.timeout(3000).emitWithAck(event, body) as Promise<T>;

describe('Socket.IO on two servers sharing Redis', () => {
  let a: SocketIoTestApp;
  let b: SocketIoTestApp;
  const clients: ClientSocket[] = [];
  const key = `nestobs-test-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    await requireRedis();
    a = await startSocketIoApp({ redis: true, serverId: 'server-a', key });
    b = await startSocketIoApp({ redis: true, serverId: 'server-b', key });
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await a?.close();
    await b?.close();
  });

  it('counts connections and rooms per server, one broadcast as published 1 and delivered K, and back to 0', async () => {
    // K = 3 clients in room "r1": two on A, one on B; one more client on B in no room.
    const inRoom = [await connect(a.url), await connect(a.url), await connect(b.url)];
    const outsider = await connect(b.url);
    clients.push(...inRoom, outsider);
    for (const c of inRoom)
      expect(await ask<{ joined: string }>(c, 'join', 'r1')).toMatchObject({ joined: 'r1' });
    await ask(inRoom[2]!, 'join', 'r2');

    const gauge = async (t: SocketIoTestApp, metric: string, server_id: string) =>
      sumOf(await scrape(t), metric, { server_id });
    expect(await gauge(a, CATALOG.socketioConnections.name, 'server-a')).toBe(2);
    expect(await gauge(b, CATALOG.socketioConnections.name, 'server-b')).toBe(2);
    expect(await gauge(a, CATALOG.socketioRooms.name, 'server-a')).toBe(1); // r1; private rooms excluded
    expect(await gauge(b, CATALOG.socketioRooms.name, 'server-b')).toBe(2); // r1, r2

    const received = inRoom.map((c) => new Promise<string>((r) => c.once('notification', r)));
    const outsiderGot: string[] = [];
    outsider.on('notification', (m: string) => outsiderGot.push(m));
    expect(await ask(inRoom[0]!, 'notify', { room: 'r1', text: 'hello' })).toBe('sent');
    expect(await Promise.all(received)).toEqual(['hello', 'hello', 'hello']);

    const total = async (metric: string) =>
      sumOf(await scrape(a), metric, { event_type: 'notification' }) +
      sumOf(await scrape(b), metric, { event_type: 'notification' });
    await eventually(async () => (await total(CATALOG.socketioMessagesDeliveredTotal.name)) === 3);
    expect(await total(CATALOG.socketioMessagesPublishedTotal.name)).toBe(1);
    expect(outsiderGot).toEqual([]);

    for (const c of clients.splice(0)) c.disconnect();
    await eventually(
      async () => (await gauge(a, CATALOG.socketioConnections.name, 'server-a')) === 0,
    );
    await eventually(
      async () => (await gauge(b, CATALOG.socketioConnections.name, 'server-b')) === 0,
    );
    expect(await gauge(a, CATALOG.socketioRooms.name, 'server-a')).toBe(0);
    expect(await gauge(b, CATALOG.socketioRooms.name, 'server-b')).toBe(0);
  });

  it('measures the Redis pub/sub round trip through the adapter clients', async () => {
    const count = `${CATALOG.socketioRedisLatencySeconds.name}_count`;
    await eventually(async () => sumOf(await scrape(a), count) >= 2, 5000);
    const s = await scrape(a);
    const sum = sumOf(s, `${CATALOG.socketioRedisLatencySeconds.name}_sum`);
    expect(sum / sumOf(s, count)).toBeGreaterThan(0);
    expect(sum / sumOf(s, count)).toBeLessThan(0.5);
  });

  it('runs handlers in a trace context: the handshake trace ID for the connection, else one per message', async () => {
    const traced = await connect(a.url, { traceId: 'socket-trace-42' });
    const plain = await connect(a.url);
    clients.push(traced, plain);
    a.logs.clear();
    const r1 = await ask<{ trace: string }>(traced, 'join', 'x');
    const r2 = await ask<{ trace: string }>(traced, 'join', 'y');
    const p1 = await ask<{ trace: string }>(plain, 'join', 'x');
    const p2 = await ask<{ trace: string }>(plain, 'join', 'y');
    expect(r1.trace).toBe('socket-trace-42');
    expect(r2.trace).toBe('socket-trace-42');
    expect(p1.trace).toMatch(/^[0-9a-f]{32}$/);
    expect(p2.trace).toMatch(/^[0-9a-f]{32}$/);
    expect(p1.trace).not.toBe(p2.trace);
    const lines = a.logs.where({ message: 'client joined room' });
    expect(lines.map((l) => l.trace_id)).toEqual([
      'socket-trace-42',
      'socket-trace-42',
      p1.trace,
      p2.trace,
    ]);
  });
});

describe('Socket.IO without the Redis adapter', () => {
  it('counts connections, rooms and delivered messages on the in-memory adapter', async () => {
    const t = await startSocketIoApp({ redis: false, serverId: 'solo' });
    const c1 = await connect(t.url);
    const c2 = await connect(t.url);
    try {
      await ask(c1, 'join', 'lobby');
      await ask(c2, 'join', 'lobby');
      const got = [c1, c2].map((c) => new Promise((r) => c.once('notification', r)));
      await ask(c1, 'notify', { room: 'lobby', text: 'hi' });
      await Promise.all(got);
      const s = await scrape(t);
      expect(sumOf(s, CATALOG.socketioConnections.name, { server_id: 'solo' })).toBe(2);
      expect(sumOf(s, CATALOG.socketioRooms.name, { server_id: 'solo' })).toBe(1);
      expect(
        sumOf(s, CATALOG.socketioMessagesDeliveredTotal.name, { event_type: 'notification' }),
      ).toBe(2);
      expect(sumOf(s, CATALOG.socketioMessagesPublishedTotal.name)).toBe(0);
    } finally {
      c1.disconnect();
      c2.disconnect();
      await t.close();
    }
  });
});
