import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './promtool.js';

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningProcess {
  url: string;
  dir: string;
  output: () => string;
  stop(): Promise<void>;
}

async function waitReady(
  url: string,
  proc: ChildProcess,
  output: () => string,
  ms = 20000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`process exited early:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready at ${url} after ${ms} ms:\n${output()}`);
}

function stopper(proc: ChildProcess, dir: string) {
  return async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Starts a real Prometheus on a free loopback port with the given scrape/rule config. */
export async function startPrometheus(
  config: string,
  files: Record<string, string> = {},
): Promise<RunningProcess> {
  const bin = requireTool('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-prom-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  let out = '';
  const proc = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const output = () => out;
  const stop = stopper(proc, dir);
  try {
    await waitReady(`${url}/-/ready`, proc, output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, dir, output, stop };
}

/** Runs an instant PromQL query; returns the result vector. */
export async function promQuery(
  prom: RunningProcess,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
  if (body.status !== 'success') throw new Error(`query failed: ${body.error}`);
  return body.data.result;
}
