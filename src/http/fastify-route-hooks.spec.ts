import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpInstrumentation } from './http-instrumentation.js';
import { nameFastifyRoutes } from './fastify-route-hooks.js';

/** What the route hooks told the instrumentation, and what Fastify answers at the end. */
interface Seen {
  url: string;
  named: string[];
  routeOptionsUrl: string | undefined;
  is404: boolean;
}

let fastify: FastifyInstance;
let seen: Map<IncomingMessage, Seen>;

function instrumentation(): HttpInstrumentation {
  return {
    routeMatched: (req: IncomingMessage, template: string) => {
      const s = seen.get(req) ?? { url: req.url!, named: [], routeOptionsUrl: '?', is404: false };
      s.named.push(template);
      seen.set(req, s);
    },
  } as unknown as HttpInstrumentation;
}

async function requests(...calls: [string, string][]): Promise<Seen[]> {
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = fastify.server.address() as AddressInfo;
  const out: Seen[] = [];
  for (const [method, url] of calls) {
    seen = new Map();
    const status = await new Promise<number>((resolve, reject) =>
      request({ host: '127.0.0.1', port, method, path: url, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      })
        .on('error', reject)
        .end(),
    );
    expect(status).toBeLessThan(500);
    // onResponse runs as the response finishes, about when the client sees its end.
    await new Promise((r) => setTimeout(r, 10));
    const s = [...seen.values()];
    out.push(s[0] ?? { url, named: [], routeOptionsUrl: '?', is404: false });
  }
  return out;
}

beforeEach(() => {
  seen = new Map();
  fastify = Fastify();
  // What the instrumentation's end reads, recorded where it would read it.
  fastify.addHook('onResponse', (request, _reply, done) => {
    const s = seen.get(request.raw);
    if (s !== undefined) {
      s.routeOptionsUrl = request.routeOptions.url;
      s.is404 = request.is404;
    }
    done();
  });
});

afterEach(() => fastify.close());

describe('nameFastifyRoutes', () => {
  it('names each route registered after it by the URL Fastify keeps for it, prefix included', async () => {
    nameFastifyRoutes(fastify, instrumentation());
    fastify.get('/orgs/:id', async () => 'ok');
    await fastify.register(
      async (p) => {
        p.get('/', async () => 'root'); // registered as /p and /p/ (prefixTrailingSlash 'both')
        p.post('/items/:item', async () => 'made');
      },
      { prefix: '/p' },
    );
    await fastify.ready();
    const got = await requests(
      ['GET', '/orgs/7'],
      ['GET', '/p'],
      ['GET', '/p/'],
      ['POST', '/p/items/3'],
      ['HEAD', '/orgs/8'],
    );
    for (const s of got) {
      expect(s.named).toHaveLength(1);
      expect(s.named[0]).toBe(s.routeOptionsUrl);
    }
    expect(got.map((s) => s.named[0])).toEqual([
      '/orgs/:id',
      '/p',
      '/p',
      '/p/items/:item',
      '/orgs/:id',
    ]);
  });

  it('runs first among a route’s own hooks, which all still run', async () => {
    nameFastifyRoutes(fastify, instrumentation());
    const order: string[] = [];
    fastify.get(
      '/one',
      {
        onRequest: (req, _reply, done) => {
          order.push(`own:${seen.get(req.raw)?.named.length ?? 0}`);
          done();
        },
      },
      async () => 'ok',
    );
    fastify.get(
      '/two',
      {
        onRequest: [
          (_req, _reply, done) => {
            order.push('a');
            done();
          },
          (_req, _reply, done) => {
            order.push('b');
            done();
          },
        ],
      },
      async () => 'ok',
    );
    await fastify.ready();
    await requests(['GET', '/one'], ['GET', '/two']);
    expect(order).toEqual(['own:1', 'a', 'b']);
  });

  it('leaves a request sent to the not-found handler by a later hook to is404', async () => {
    nameFastifyRoutes(fastify, instrumentation());
    fastify.get(
      '/gone',
      { onRequest: (_req, reply) => void reply.callNotFound() },
      async () => 'never',
    );
    await fastify.ready();
    const [s] = await requests(['GET', '/gone']);
    expect(s!.named).toEqual(['/gone']);
    // The instrumentation's end checks is404 before the name (fastify-request-hook.ts).
    expect(s!.is404).toBe(true);
  });

  it('names no route registered before it, and no request that matched none', async () => {
    fastify.get('/early', async () => 'ok');
    nameFastifyRoutes(fastify, instrumentation());
    await fastify.ready();
    const got = await requests(['GET', '/early'], ['GET', '/nowhere']);
    expect(got.map((s) => s.named)).toEqual([[], []]);
  });
});
