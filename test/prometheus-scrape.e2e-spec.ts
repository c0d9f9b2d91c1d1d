import { eventually, rawRequest } from './support/http-client.js';
import type { RunningProcess } from './support/prometheus.js';
import { promQuery, startPrometheus } from './support/prometheus.js';
import type { TestApp } from './support/test-app.js';
import { startTestApp } from './support/test-app.js';

// The spec's "Metrics collection" scenario against a real Prometheus: make
// requests, let Prometheus scrape (OpenMetrics, as it negotiates), query it.
describe.each(['express', 'fastify'] as const)(
  'a real Prometheus scraping the %s app',
  (adapter) => {
    let app: TestApp;
    let prom: RunningProcess;
    const token = 'scrape-token-1';

    beforeAll(async () => {
      app = await startTestApp(adapter, {
        options: { metrics: { auth: { type: 'bearer', token } } },
      });
      const target = new URL(app.url).host;
      prom = await startPrometheus(`
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: app
    authorization:
      credentials: ${token}
    static_configs:
      - targets: ['${target}']
`);
    }, 60000);

    afterAll(async () => {
      await prom?.stop();
      await app?.close();
    });

    it('sees exactly the requests made, with exemplars carrying their trace IDs', async () => {
      for (let i = 0; i < 7; i++) {
        await rawRequest(`${app.url}/orgs/${i}/items`, {
          headers: { 'x-organization': 'acme', 'x-trace-id': `prom-trace-${i}` },
        });
      }
      await rawRequest(`${app.url}/boom`);
      const q = 'sum(http_requests_total{endpoint="/orgs/:orgId/items",org="acme",status="200"})';
      await eventually(async () => (await promQuery(prom, q))[0]?.value[1] === '7', 15000);
      expect((await promQuery(prom, 'sum(http_requests_total{status="500"})'))[0]?.value[1]).toBe(
        '1',
      );
      expect((await promQuery(prom, 'up{job="app"}'))[0]?.value[1]).toBe('1');

      const now = Date.now() / 1000;
      const res = await fetch(
        `${prom.url}/api/v1/query_exemplars?query=${encodeURIComponent(
          'http_request_duration_seconds_bucket{endpoint="/orgs/:orgId/items"}',
        )}&start=${now - 300}&end=${now + 60}`,
      );
      const body = (await res.json()) as {
        data: { exemplars: { labels: { trace_id: string } }[] }[];
      };
      const traces = body.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      expect(traces.length).toBeGreaterThan(0);
      for (const t of traces) expect(t).toMatch(/^prom-trace-\d$/);
    }, 30000);
  },
);
