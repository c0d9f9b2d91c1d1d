import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo, ROOT } from './demo-build.js';
import { eventually, rawRequest } from './http-client.js';
import { freePort } from './prometheus.js';

/** The built demo app (`.demo/example/main.js`) running as a process of its own. */
export interface DemoProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** stdout's lines, each parsed (throws on the first line that is not JSON). */
  lines(): Record<string, unknown>[];
  /** Sends `signal` and waits for the exit (SIGKILL after `boundMs`). */
  stop(signal?: NodeJS.Signals, boundMs?: number): Promise<{ code: number | null; ms: number }>;
}

let built = false;

/**
 * Builds the demo once per test file and starts it on a free port with
 * `env` (no built-in traffic, SQLite in a temp dir unless `env` says
 * otherwise); resolves once `/health/live` answers.
 */
export async function startDemo(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  /** The demo's stdout: a pipe the test reads (default), or a file descriptor. */
  stdout: 'pipe' | number = 'pipe',
): Promise<DemoProcess> {
  if (!built) buildDemo();
  built = true;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-demo-'));
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(process.execPath, [...nodeArgs, '.demo/example/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DEMO_TRAFFIC: '0',
      DEMO_SQLITE: join(dir, 'demo.sqlite'),
      // queues of its own: demos running side by side never take each other's jobs
      DEMO_QUEUE_PREFIX: `demo-${process.pid}-${port}`,
      ...env,
    },
    stdio: ['ignore', stdout, 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  exited.finally(() => rmSync(dir, { recursive: true, force: true })).catch(() => undefined);
  try {
    await eventually(async () => {
      if (proc.exitCode !== null) throw new Error(`demo exited early:\n${err}\n${out}`);
      return (await rawRequest(`${url}/health/live`).catch(() => ({ status: 0 }))).status === 200;
    }, 60_000);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    port,
    proc,
    stdout: () => out,
    stderr: () => err,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            throw new Error(`not a JSON line: ${JSON.stringify(l.slice(0, 300))}`);
          }
        }),
    stop: async (signal = 'SIGTERM', boundMs = 10_000) => {
      const start = Date.now();
      if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, ms: 0 };
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), boundMs);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: Date.now() - start };
    },
  };
}

/** How far the reliability suite goes: `bounded` in `npm test`, `full` in `npm run test:reliability`. */
export const FULL = process.env.RELIABILITY === 'full';
