import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo } from './support/demo-build.js';
import { eventually, rawRequest } from './support/http-client.js';
import { CATALOG } from '../src/index.js';
import { SPEC_DEFINITIONS } from '../src/metrics/catalog.js';
import { parseExposition, sumOf } from './support/prom-text.js';
import { freePort } from './support/prometheus.js';
import { promtoolCheckMetrics } from './support/promtool.js';
import { requireRedis } from './support/redis.js';

const root = join(__dirname, '..');

// The README's `npm run demo`, as a user runs it: built, started, scraped, stopped with SIGTERM.
describe('the demo app', () => {
  let proc: ChildProcess;
  let url: string;
  let out = '';
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-demo-'));

  beforeAll(async () => {
    await requireRedis();
    buildDemo();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, ['.demo/example/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        DEMO_TRAFFIC: '1',
        DEMO_SQLITE: join(dir, 'demo.sqlite'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(
      async () => (await rawRequest(`${url}/health`).catch(() => ({ status: 0 }))).status === 200,
      30000,
    );
  }, 120000);

  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports database, redis and workers healthy', async () => {
    const body = JSON.parse((await rawRequest(`${url}/health`)).body);
    expect(body.status).toBe('healthy');
    expect(Object.keys(body.checks).sort()).toEqual(['database', 'redis', 'workers']);
  });

  it("has samples in every one of the specification's metric families within a minute, and passes promtool", async () => {
    let text = '';
    let missing: string[] = [];
    let counts = { http: 0, partner: 0, delivered: 0 };
    await eventually(async () => {
      text = (await rawRequest(`${url}/metrics`)).body;
      const s = parseExposition(text);
      const names = new Set(s.map((x) => x.name.replace(/_(bucket|count|sum)$/, '')));
      missing = SPEC_DEFINITIONS.map((d) => d.name).filter((n) => !names.has(n));
      counts = {
        http: sumOf(s, 'http_requests_total'),
        partner: sumOf(s, CATALOG.integrationRequestsTotal.name, { integration: 'partner' }),
        delivered: sumOf(s, CATALOG.socketioMessagesDeliveredTotal.name),
      };
      return missing.length === 0 && counts.http > 10 && counts.partner > 0 && counts.delivered > 0;
    }, 60000).catch(() => undefined);
    expect(missing).toEqual([]);
    expect(SPEC_DEFINITIONS).toHaveLength(31);
    expect(counts.http).toBeGreaterThan(10);
    expect(counts.partner).toBeGreaterThan(0);
    expect(counts.delivered).toBeGreaterThan(0);
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
  }, 70000);

  it('writes only JSON lines to stdout, and exits cleanly on SIGTERM within a few seconds', async () => {
    const start = Date.now();
    const exited = new Promise<[number | null, string | null]>((r) =>
      proc.once('exit', (code, signal) => r([code, signal])),
    );
    proc.kill('SIGTERM');
    const [code, signal] = await exited;
    expect(Date.now() - start).toBeLessThan(5000);
    // Nest runs its shutdown hooks, then re-raises the signal it handled.
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    // The shutdown hooks ran, and the buffered log lines were flushed. Not
    // necessarily the last line: a request of the demo's own traffic that was
    // in flight can finish (and write its access line) a moment after.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const at = parsed.findIndex((l) => l.message === 'application shut down (SIGTERM)');
    expect(at).toBeGreaterThan(-1);
    expect(parsed[at]).toMatchObject({ signal: 'SIGTERM' });
    for (const later of parsed.slice(at + 1)) expect(later).toHaveProperty('endpoint');
  }, 20000);
});
