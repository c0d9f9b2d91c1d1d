import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildDemo, ROOT } from './support/demo-build.js';
import { eventually, rawRequest } from './support/http-client.js';
import { freePort } from './support/prometheus.js';

/**
 * The README's first example (example/quickstart), started as the README
 * says: every line it writes to stdout is JSON, Nest's own start-up lines
 * included, and it closes cleanly on SIGTERM.
 */
describe("the README's quick start", () => {
  let proc: ChildProcess;
  let out = '';
  let url = '';

  beforeAll(async () => {
    buildDemo();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, [join(ROOT, '.demo/example/quickstart/main.js')], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(async () => {
      try {
        return (await rawRequest(`${url}/metrics`)).status === 200;
      } catch {
        return false;
      }
    }, 20000);
  }, 30000);

  afterAll(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });

  it('writes only JSON lines to stdout, from the first one, and exits on SIGTERM', async () => {
    await rawRequest(`${url}/nope`);
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    await exited;
    const lines = out.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    // Nest's own start-up lines, as JSON with the module's fields.
    expect(parsed[0]).toMatchObject({ service: 'api', site: 'acme.example' });
    expect(parsed.map((l) => l.message)).toEqual(
      expect.arrayContaining(['Starting Nest application...', 'GET unmatched 404']),
    );
    expect(parsed.some((l) => l.message === 'application shut down (SIGTERM)')).toBe(true);
  }, 20000);
});
