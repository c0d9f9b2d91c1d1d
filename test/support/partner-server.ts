import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/** What the partner received: method, path and headers of every request. */
export interface PartnerHit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * A local HTTP server standing in for an external API (tests only):
 * `/v1/customers/:id` 200, `/v1/fail` 500, `/v1/missing` 404,
 * `/v1/slow?ms=N` answers after N ms, `/v1/switch` answers with whatever
 * `mode` says (status and delay), set by the test.
 */
export class PartnerServer {
  readonly hits: PartnerHit[] = [];
  mode = { status: 200, delayMs: 0 };
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.hits.push({ method: req.method ?? 'GET', path, headers: req.headers });
      const reply = (status: number, delayMs = 0) => {
        const t = setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status, path }));
        }, delayMs);
        res.on('close', () => clearTimeout(t));
      };
      if (path.startsWith('/v1/fail')) reply(500);
      else if (path.startsWith('/v1/missing')) reply(404);
      else if (path.startsWith('/v1/slow'))
        reply(200, Number(new URL(path, 'http://x').searchParams.get('ms') ?? 1000));
      else if (path.startsWith('/v1/switch')) reply(this.mode.status, this.mode.delayMs);
      else reply(200);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  hitsTo(prefix: string): PartnerHit[] {
    return this.hits.filter((h) => h.path.startsWith(prefix));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
