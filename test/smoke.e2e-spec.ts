import { startTestApp } from './support/test-app.js';

it.each(['express', 'fastify'] as const)('smoke %s', async (kind) => {
  const t = await startTestApp(kind);
  try {
    for (const p of ['/orgs/5/items', '/nope', '/boom', '/denied', '/trace']) {
      const r = await fetch(t.url + p, { headers: { 'x-organization': 'acme' } });
      console.log(kind, p, r.status, r.headers.get('x-trace-id'), await r.text());
    }
    const r = await fetch(t.url + '/orgs/5/items', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', quantity: 2, organization: 'bodyorg' }),
    });
    console.log(kind, 'POST', r.status, await r.text());
    const m = await fetch(t.url + '/metrics');
    const text = await m.text();
    console.log(
      text
        .split('\n')
        .filter((l) => l.startsWith('http_') && !l.includes('_bucket'))
        .join('\n'),
    );
    console.log(t.logs.raw.join('\n'));
  } finally {
    await t.close();
  }
});
