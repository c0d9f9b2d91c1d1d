import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generate } from '../src/ops/generate.js';
import type { GenerateOptions } from '../src/ops/ops.options.js';

export interface StackOptions {
  /** Folder for the generated files and the Prometheus/Alertmanager data. */
  dir: string;
  appPort: number;
  prometheusPort: number;
  alertmanagerPort: number;
  /** Generator options on top of the stack's own (ports, job, scrape interval). */
  generate?: GenerateOptions;
  /** Extra environment for the demo app. */
  env?: Record<string, string>;
  /** Extra Prometheus flags (a test sets a short `--rules.alert.resend-delay`). */
  prometheusArgs?: string[];
  /** Where the demo's compiled entry point is. */
  demoEntry: string;
  /** Receives every line the three processes print. */
  onOutput?: (source: string, line: string) => void;
}

export interface Stack {
  appUrl: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  stop(): Promise<void>;
}

function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (!found) {
    throw new Error(
      `${name} is not installed. On Debian/Ubuntu: apt-get install -y prometheus prometheus-alertmanager`,
    );
  }
  return found;
}

async function waitReady(
  url: string,
  proc: ChildProcess,
  name: string,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`${name} exited early (code ${proc.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready at ${url} after ${ms} ms`);
}

/**
 * The demo with a real Prometheus and Alertmanager on the generated files
 * (`npm run demo:stack`, and the alerting end-to-end test): every process on
 * 127.0.0.1, every one stopped by `stop()`.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const prometheusBin = requireBinary('prometheus');
  const alertmanagerBin = requireBinary('prometheus-alertmanager');
  const appTarget = `127.0.0.1:${o.appPort}`;
  const files = await generate({
    service: 'demo',
    selector: 'job="demo"',
    ...o.generate,
    scrape: {
      job: 'demo',
      targets: [appTarget],
      interval: '5s',
      alertmanagers: [`127.0.0.1:${o.alertmanagerPort}`],
      ...o.generate?.scrape,
    },
    prometheusUrl: `http://127.0.0.1:${o.prometheusPort}`,
  });
  for (const f of files) {
    mkdirSync(dirname(join(o.dir, f.path)), { recursive: true });
    writeFileSync(join(o.dir, f.path), f.content);
  }
  const procs: [string, ChildProcess][] = [];
  const track = (name: string, p: ChildProcess) => {
    procs.push([name, p]);
    for (const s of [p.stdout, p.stderr]) {
      let buf = '';
      s?.on('data', (d: Buffer) => {
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) !== -1) {
          o.onOutput?.(name, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    return p;
  };
  const stop = async () => {
    await Promise.all(
      procs.map(async ([, p]) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 8000);
        await exited;
        clearTimeout(t);
      }),
    );
  };
  try {
    const app = track(
      'app',
      spawn(process.execPath, [o.demoEntry], {
        env: { ...process.env, PORT: String(o.appPort), ...o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const am = track(
      'alertmanager',
      spawn(
        alertmanagerBin,
        [
          `--config.file=${join(o.dir, 'alertmanager/alertmanager.yml')}`,
          `--storage.path=${join(o.dir, 'alertmanager-data')}`,
          `--web.listen-address=127.0.0.1:${o.alertmanagerPort}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    const prom = track(
      'prometheus',
      spawn(
        prometheusBin,
        [
          `--config.file=${join(o.dir, 'prometheus/prometheus.yml')}`,
          `--storage.tsdb.path=${join(o.dir, 'prometheus-data')}`,
          `--web.listen-address=127.0.0.1:${o.prometheusPort}`,
          '--enable-feature=exemplar-storage',
          '--log.level=warn',
          ...(o.prometheusArgs ?? []),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    const stack = {
      appUrl: `http://${appTarget}`,
      prometheusUrl: `http://127.0.0.1:${o.prometheusPort}`,
      alertmanagerUrl: `http://127.0.0.1:${o.alertmanagerPort}`,
      stop,
    };
    await waitReady(`${stack.alertmanagerUrl}/-/ready`, am, 'alertmanager');
    await waitReady(`${stack.prometheusUrl}/-/ready`, prom, 'prometheus');
    await waitReady(`${stack.appUrl}/health/live`, app, 'demo app', 60_000);
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}
