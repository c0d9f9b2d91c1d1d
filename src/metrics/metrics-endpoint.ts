import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGzip } from 'node:zlib';
import { CONTENT_TYPES, negotiateFormat, renderExposition } from './exposition.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** Credentials `/metrics` asks for. */
export type MetricsAuth =
  { type: 'bearer'; token: string } | { type: 'basic'; username: string; password: string };

export interface MetricsEndpointOptions {
  auth?: MetricsAuth;
  exemplars: boolean;
  gzip: boolean;
  onError: (error: unknown) => void;
  /** What a scrape renders instead of the registry: every process's metrics added up (metrics.cluster). */
  aggregate?: () => Promise<MetricsRegistry>;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  // Compare equal-length buffers so the time taken does not reveal the length.
  return ab.length === bb.length ? timingSafeEqual(ab, bb) : (timingSafeEqual(bb, bb), false);
}

/**
 * Serves the scrape on raw Node request/response objects, before any
 * framework layer: a global prefix, guards, interceptors that wrap responses
 * or compression middleware never see it.
 */
export class MetricsEndpoint {
  private readonly expected: string | undefined;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly options: MetricsEndpointOptions,
  ) {
    const auth = options.auth;
    this.expected =
      auth === undefined
        ? undefined
        : auth.type === 'bearer'
          ? `Bearer ${auth.token}`
          : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  /** Answers one scrape. Never throws; a failure mid-stream aborts the response. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res
          .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' })
          .end('Method Not Allowed\n');
        return;
      }
      if (!this.authorized(req.headers.authorization)) {
        const scheme = this.options.auth?.type === 'basic' ? 'Basic' : 'Bearer';
        res
          .writeHead(401, {
            'www-authenticate': `${scheme} realm="metrics"`,
            'content-type': 'text/plain',
          })
          .end('Unauthorized\n');
        return;
      }
      const format = negotiateFormat(req.headers.accept);
      const gzip = this.options.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
      res.statusCode = 200;
      res.setHeader('content-type', CONTENT_TYPES[format]);
      res.setHeader('cache-control', 'no-store');
      res.setHeader('vary', 'Accept, Accept-Encoding');
      if (gzip) res.setHeader('content-encoding', 'gzip');
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const registry = this.options.aggregate ? await this.options.aggregate() : this.registry;
      const chunks = renderExposition(registry, format, { exemplars: this.options.exemplars });
      if (gzip) await this.pipeGzip(chunks, res);
      else await this.pipePlain(chunks, res);
    } catch (err) {
      this.options.onError(err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      } else {
        res.destroy(err instanceof Error ? err : undefined);
      }
    }
  }

  private authorized(header: string | undefined): boolean {
    if (this.expected === undefined) return true;
    return typeof header === 'string' && safeEqual(header.trim(), this.expected);
  }

  private async pipePlain(chunks: AsyncIterable<string>, res: ServerResponse): Promise<void> {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  }

  private async pipeGzip(chunks: AsyncIterable<string>, res: ServerResponse): Promise<void> {
    const gz = createGzip();
    gz.pipe(res);
    try {
      for await (const chunk of chunks) {
        if (res.destroyed) break;
        if (!gz.write(chunk)) await drained(gz);
      }
    } finally {
      gz.end();
    }
  }
}

function drained(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.removeListener('drain', done);
      stream.removeListener('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
