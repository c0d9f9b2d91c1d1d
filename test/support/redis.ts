import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './prometheus.js';

export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);

/** Fails with a clear message when the machine's Redis is not running. */
export async function requireRedis(port = REDIS_PORT): Promise<void> {
  const r = new Redis({
    host: REDIS_HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await r.connect();
    await r.ping();
  } catch {
    throw new Error(
      `Redis is not reachable at ${REDIS_HOST}:${port}. Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`,
    );
  } finally {
    r.disconnect();
  }
}

/** Deletes every key under a BullMQ prefix. */
export async function deletePrefix(prefix: string, port = REDIS_PORT): Promise<void> {
  const r = new Redis({ host: REDIS_HOST, port });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** A Redis server of the test's own, on a spare port, that the test can stop and start. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    /** `requirepass`, when the server asks for one. */
    readonly password?: string,
  ) {}

  static async create(password?: string): Promise<OwnRedis> {
    if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
      throw new Error('redis-server is not installed (apt-get install redis-server)');
    }
    return new OwnRedis(await freePort(), password);
  }

  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        ...(this.password ? ['--requirepass', this.password] : []),
      ],
      {
        stdio: 'ignore',
      },
    );
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      try {
        if (this.password === undefined) await requireRedis(this.port);
        else if (spawnSync('redis-cli', ['-p', String(this.port), 'ping']).status !== 0)
          throw new Error('not up');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`own redis on ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** A TCP listener that accepts connections and never answers (a hung dependency). */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
