import { request } from 'node:http';
import { io, type Socket } from 'socket.io-client';

/**
 * A light built-in traffic generator (DEMO_TRAFFIC=1), so /metrics and the
 * logs show data right away. Sends to 127.0.0.1 only, about 4 requests a
 * second, keeps three Socket.IO clients in their organizations' rooms with a
 * broadcast every 2 s, and stops with the app.
 */
export function startTraffic(port: number): () => void {
  const orgs = ['acme', 'globex', 'initech'];
  const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)]!;
  const calls: (() => {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
  })[] = [
    () => ({ method: 'GET', path: `/orgs/${pick(orgs)}/items` }),
    () => ({
      method: 'POST',
      path: `/orgs/${pick(orgs)}/items`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `widget-${Math.floor(Math.random() * 1000)}` }),
    }),
    () => ({
      method: 'GET',
      path: `/orgs/${pick(orgs)}/items/${1 + Math.floor(Math.random() * 5)}`,
    }),
    () => ({
      method: 'GET',
      path: `/orgs/${pick(orgs)}/report`,
      headers: Math.random() < 0.5 ? { authorization: 'Bearer demo' } : {},
    }),
    () => ({ method: 'GET', path: '/flaky' }),
    () => ({ method: 'GET', path: `/orgs/${pick(orgs)}/stats` }),
    () => ({ method: 'POST', path: `/orgs/${pick(orgs)}/reports` }),
    () => ({ method: 'POST', path: `/orgs/${pick(orgs)}/alerts` }),
    () => ({ method: 'POST', path: `/orgs/${pick(orgs)}/imports` }),
    () => ({ method: 'GET', path: `/no-such-page-${Math.floor(Math.random() * 100)}` }),
    () => ({
      method: 'GET',
      path: `/orgs/${pick(orgs)}/partner/customers/${1 + Math.floor(Math.random() * 500)}`,
    }),
    () => ({ method: 'POST', path: `/orgs/${pick(orgs)}/partner/invoices` }),
  ];
  const timer = setInterval(() => {
    const c = pick(calls)();
    const org = c.path.split('/')[2];
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: c.method,
        path: c.path,
        headers: { ...c.headers, ...(org ? { 'x-organization': org } : {}) },
      },
      (res) => res.resume(),
    );
    req.on('error', () => undefined);
    req.end(c.body);
  }, 250);
  timer.unref();
  const sockets: Socket[] = orgs.map((org) => {
    const s = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      auth: { organization: org },
    });
    s.on('connect', () => s.emit('join', org));
    return s;
  });
  const broadcasts = setInterval(() => {
    const from = pick(sockets);
    from.emit('notify', { room: pick(orgs), event: pick(['notification', 'sync']), text: 'hello' });
  }, 2000);
  broadcasts.unref();
  return () => {
    clearInterval(timer);
    clearInterval(broadcasts);
    for (const s of sockets) s.disconnect();
  };
}
