import { createServer, type Server } from 'node:http';

/**
 * A fake partner API the demo serves itself on 127.0.0.1, so the
 * integration metrics have something real to measure: customers (sometimes
 * slow), invoices (sometimes failing) and an OAuth token that expires.
 */
export async function startPartnerApi(port = 0): Promise<{ url: string; server: Server }> {
  let invoices = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, body: unknown, delayMs = 0) =>
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, delayMs);
    if (path === '/oauth/token') {
      // Short-lived tokens, so the expiry gauge visibly counts down in the demo.
      const ttl = Number(process.env.DEMO_TOKEN_TTL_SECONDS ?? 120);
      return send(200, { access_token: `tok-${Date.now()}`, expires_in: ttl });
    }
    if (path.startsWith('/v1/customers/')) {
      return send(
        200,
        { id: path.split('/')[3] },
        Math.random() < 0.1 ? 1200 : 20 + Math.random() * 60,
      );
    }
    if (path === '/v1/invoices') {
      // Every fifth invoice fails upstream.
      return ++invoices % 5 === 0 ? send(502, { error: 'upstream' }) : send(201, { ok: true }, 30);
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
