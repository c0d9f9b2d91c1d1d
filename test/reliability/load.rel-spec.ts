import autocannon from 'autocannon';
import { FULL, startDemo, type DemoProcess } from '../support/demo-process.js';
import { abortedRequest, eventually, rawRequest } from '../support/http-client.js';
import { parseExposition, sumOf, type Sample } from '../support/prom-text.js';
import { requireRedis } from '../support/redis.js';
import { report } from '../support/reliability-report.js';

// The demo under a mixed load: every request counted once, every access line
// written whole, nothing left active, nothing lost at SIGTERM, memory flat.

const MIX = [
  { method: 'GET', path: '/orgs/acme/items' }, // 200, a database query
  { method: 'GET', path: '/no/such/route' }, // 404
  { method: 'GET', path: '/flaky' }, // 500 a third of the time
  { method: 'GET', path: '/orgs/acme/report' }, // 401 from a guard
  {
    method: 'POST',
    path: '/orgs/globex/items',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"load"}',
  }, // 201, an insert
  { method: 'GET', path: '/orgs/acme/items/not-a-number' }, // 400 from a pipe
  {
    method: 'POST',
    path: '/orgs/acme/items',
    headers: { 'content-type': 'application/json' },
    body: '{bad',
  }, // 400, malformed body
];

const scrape = async (url: string): Promise<Sample[]> =>
  parseExposition((await rawRequest(`${url}/metrics`)).body);

/** HTTP requests the module counted, /health polls excluded. */
const counted = (s: Sample[]) =>
  s
    .filter((x) => x.name === 'http_requests_total' && !x.labels.endpoint?.startsWith('/health'))
    .reduce((a, x) => a + x.value, 0);

const accessLines = (lines: Record<string, unknown>[]) =>
  lines.filter(
    (l) => typeof l.endpoint === 'string' && !(l.endpoint as string).startsWith('/health'),
  );

describe('the demo under load', () => {
  let demo: DemoProcess;
  beforeAll(async () => {
    await requireRedis();
    demo = await startDemo({}, ['--expose-gc']);
  }, 120_000);
  afterAll(async () => {
    await demo?.stop('SIGKILL');
  });

  const amount = FULL ? 60_000 : 3_000;
  const aborts = FULL ? 300 : 30;

  it(`counts ${amount} mixed requests and ${aborts} client aborts exactly once, and logs each on one JSON line`, async () => {
    const before = counted(await scrape(demo.url));
    const [result] = await Promise.all([
      autocannon({ url: demo.url, connections: 8, amount, requests: MIX, timeout: 30 }),
      Promise.all(
        Array.from({ length: aborts }, (_, i) =>
          new Promise((r) => setTimeout(r, i * 5)).then(() =>
            abortedRequest(`${demo.url}/slow?ms=500`, 50),
          ),
        ),
      ),
    ]);
    expect(result.errors).toBe(0);
    expect(result.requests.sent).toBe(amount);
    const responses = Object.values(result.statusCodeStats).reduce((a, s) => a + s.count, 0);
    expect(responses).toBe(amount);

    // the aborted requests finish on the server 500 ms later
    let s: Sample[] = [];
    await eventually(async () => {
      s = await scrape(demo.url);
      return sumOf(s, 'http_active_requests') === 0 && counted(s) - before === amount + aborts;
    }, 10_000).catch(() => undefined);
    expect(counted(s) - before).toBe(amount + aborts);
    expect(sumOf(s, 'http_requests_total', { status: '499' })).toBe(aborts);
    expect(sumOf(s, 'http_active_requests')).toBe(0);
    for (const code of ['200', '201', '400', '401', '404', '500'])
      expect(sumOf(s, 'http_requests_total', { status: code })).toBeGreaterThan(0);

    // the access lines of these requests are written (batches flush within 100 ms)
    let lines: Record<string, unknown>[] = [];
    await eventually(() => {
      lines = demo.lines();
      return accessLines(lines).length >= amount + aborts;
    }, 5_000).catch(() => undefined);
    expect(accessLines(lines)).toHaveLength(amount + aborts);
    expect(accessLines(lines).filter((l) => l.status === 499)).toHaveLength(aborts);
    report('load', {
      requests: amount,
      aborts,
      requestsPerSecond: Math.round(result.requests.average),
      p99LatencyMs: result.latency.p99,
      logLines: lines.length,
    });
  }, 300_000);

  it('stays flat in memory under steady traffic (soak)', async () => {
    const seconds = FULL ? 300 : 30;
    const samples: { t: number; rss: number; heap: number }[] = [];
    const t0 = Date.now();
    // every 5 s: a full GC in the demo (SIGUSR2, node --expose-gc), then its heap
    const sample = async () => {
      demo.proc.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      const s = await scrape(demo.url);
      samples.push({
        t: (Date.now() - t0) / 1000,
        rss: sumOf(s, 'process_resident_memory_bytes'),
        heap: sumOf(s, 'nodejs_heap_size_used_bytes'),
      });
    };
    let stop = false;
    const sampling = (async () => {
      while (!stop) {
        await sample();
        await new Promise((r) => setTimeout(r, 4700));
      }
    })();
    const result = await autocannon({
      url: demo.url,
      connections: 4,
      duration: seconds,
      overallRate: 400,
      requests: MIX,
    });
    stop = true;
    await sampling;
    expect(result.errors).toBe(0);
    // after the first 5 s of warm-up: least-squares slope in MB per minute
    const used = samples.filter((x) => x.t >= 5);
    const slope = (key: 'rss' | 'heap') => {
      const n = used.length;
      const mt = used.reduce((a, x) => a + x.t, 0) / n;
      const mv = used.reduce((a, x) => a + x[key], 0) / n;
      const num = used.reduce((a, x) => a + (x.t - mt) * (x[key] - mv), 0);
      const den = used.reduce((a, x) => a + (x.t - mt) ** 2, 0);
      return ((num / den) * 60) / 2 ** 20;
    };
    const mb = (v: number) => +(v / 2 ** 20).toFixed(1);
    const mean = (xs: { heap: number }[]) => xs.reduce((a, x) => a + x.heap, 0) / xs.length;
    const figures = {
      seconds,
      requests: result.requests.total,
      rssStartMB: mb(used[0].rss),
      rssEndMB: mb(used[used.length - 1].rss),
      heapAfterGcStartMB: mb(used[0].heap),
      heapAfterGcEndMB: mb(used[used.length - 1].heap),
      rssSlopeMBPerMin: +slope('rss').toFixed(2),
      heapSlopeMBPerMin: +slope('heap').toFixed(2),
      // the heap after GC, mean of the last three samples less the first three
      heapGrowthMB: mb(mean(used.slice(-3)) - mean(used.slice(0, 3))),
      heapAfterGcSamplesMB: used.map((x) => mb(x.heap)),
    };
    report('soak', figures);
    expect(used.length).toBeGreaterThanOrEqual(5);
    // Live objects in flight move the post-GC heap by about a megabyte, so a
    // short run can only catch a leak of ~500 bytes per request (12,000
    // requests: 6 MB); the full run (120,000 requests) one of ~30 bytes.
    expect(figures.heapGrowthMB).toBeLessThan(FULL ? 4 : 6);
  }, 600_000);

  it('flushes every line at SIGTERM under load, and exits within the bound', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the soak's last lines are out
    const from = demo.lines().length;
    const running = autocannon({
      url: demo.url,
      connections: 8,
      duration: 4,
      requests: MIX,
      timeout: 5,
    });
    await new Promise((r) => setTimeout(r, 1500));
    const { code, ms } = await demo.stop('SIGTERM');
    const result = await running;
    expect(ms).toBeLessThan(8_000);
    expect(code === 0 || demo.proc.signalCode === 'SIGTERM').toBe(true);
    const lines = demo.lines(); // every line parses
    const at = lines.findIndex((l) => l.message === 'application shut down (SIGTERM)');
    expect(at).toBeGreaterThan(-1);
    // every response the clients received was logged before the exit
    const responses = Object.values(result.statusCodeStats).reduce((a, s) => a + s.count, 0);
    expect(responses).toBeGreaterThan(0);
    const logged = accessLines(lines.slice(from)).length;
    expect(logged).toBeGreaterThanOrEqual(responses);
    report('sigterm', { stopMs: ms, responses, accessLines: logged });
  }, 60_000);
});
