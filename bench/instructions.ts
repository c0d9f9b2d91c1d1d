import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Variant } from './server.js';

/**
 * Instructions per request under valgrind's callgrind: a figure that does not
 * drift with the machine's load, unlike CPU seconds. Each server runs under
 * callgrind; it is warmed up (V8 has optimised the path), its counters are
 * zeroed (`callgrind_control -z`), exactly N requests are sent one after the
 * other on a keep-alive connection, the counters are dumped
 * (`callgrind_control -d`) and the total is divided by N.
 */

export interface InstructionRow {
  adapter: string;
  variant: Variant;
  node: string;
  /** Instructions per request, median of the runs. */
  perRequest: number;
  /** Every run's figure. */
  runs: number[];
  /** Median ratio against bare of the same adapter and Node, run for run. */
  ratio: number;
}

export interface InstructionOptions {
  adapters: string[];
  variants: Variant[];
  /** Node binaries to run the servers with (label → path). */
  nodes: Record<string, string>;
  runs: number;
  warmup: number;
  requests: number;
  path: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function push<K>(m: Map<K, number[]>, k: K, v: number): void {
  const xs = m.get(k);
  if (xs) xs.push(v);
  else m.set(k, [v]);
}

function requireTool(name: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    throw new Error(`${name} is not installed (apt-get install -y valgrind)`);
  }
}

async function send(port: number, path: string, n: number, agent: Agent): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.once('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      });
      req.once('error', reject);
      req.end();
    });
  }
}

/** Total instructions (Ir) in a callgrind dump. */
function totalIr(file: string): number {
  const text = readFileSync(file, 'utf8');
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

async function startUnderCallgrind(
  node: string,
  server: string,
  variant: Variant,
  adapter: string,
  port: number,
  dir: string,
): Promise<{ proc: ChildProcess; out: string }> {
  const out = join(dir, `cg-${adapter}-${variant}-${port}.out`);
  const proc = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      '--dump-instr=no',
      '--collect-atstart=yes',
      node,
      server,
      variant,
      adapter,
      String(port),
      join(dir, `${adapter}-${variant}.log`),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${adapter}/${variant}: no ready\n${err}`)),
      180_000,
    );
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`${adapter}/${variant} exited ${code}\n${err}`)));
  });
  return { proc, out };
}

/** One measurement: instructions per request of one server. */
async function measureOnce(
  node: string,
  server: string,
  variant: Variant,
  adapter: string,
  port: number,
  o: InstructionOptions,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-cg-'));
  const { proc, out } = await startUnderCallgrind(node, server, variant, adapter, port, dir);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await send(port, o.path, o.warmup, agent);
    const pid = String(proc.pid);
    if (spawnSync('callgrind_control', ['-z', pid]).status !== 0)
      throw new Error('callgrind_control -z failed');
    await send(port, o.path, o.requests, agent);
    if (spawnSync('callgrind_control', ['-d', pid]).status !== 0)
      throw new Error('callgrind_control -d failed');
    // `-d` writes <out>.<n>; the counters were zeroed before the N requests.
    const base = out.slice(dir.length + 1);
    const files = readdirSync(dir).filter((f) => f.startsWith(base + '.'));
    if (files.length === 0) throw new Error(`no callgrind dump for ${adapter}/${variant}`);
    return totalIr(join(dir, files.sort()[0]!)) / o.requests;
  } finally {
    agent.destroy();
    proc.kill('SIGKILL');
    await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runInstructions(
  server: string,
  o: InstructionOptions,
): Promise<InstructionRow[]> {
  requireTool('valgrind');
  requireTool('callgrind_control');
  let port = Number(process.env.CG_PORT ?? 47100);
  const rows: InstructionRow[] = [];
  for (const [nodeLabel, node] of Object.entries(o.nodes)) {
    for (const adapter of o.adapters) {
      const runs = new Map<Variant, number[]>();
      const ratios = new Map<Variant, number[]>();
      for (let r = 0; r < o.runs; r++) {
        const bare = await measureOnce(node, server, 'bare', adapter, port++, o);
        push(runs, 'bare', bare);
        for (const v of o.variants) {
          if (v === 'bare') continue;
          if (v === 'express-prom-bundle' && adapter === 'fastify') continue;
          const x = await measureOnce(node, server, v, adapter, port++, o);
          push(runs, v, x);
          push(ratios, v, x / bare);
          process.stderr.write(
            `  ${nodeLabel} ${adapter} ${v}: ${(x / 1000).toFixed(1)}k (bare ${(bare / 1000).toFixed(1)}k)\n`,
          );
        }
      }
      for (const [variant, xs] of runs) {
        rows.push({
          adapter,
          variant,
          node: nodeLabel,
          perRequest: median(xs),
          runs: xs,
          ratio: variant === 'bare' ? 1 : median(ratios.get(variant)!),
        });
      }
    }
  }
  return rows;
}

export function instructionsTable(rows: InstructionRow[]): string {
  const lines = [
    '| Node | adapter | variant | instructions/request (median) | × bare | runs |',
    '|---|---|---|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.node} | ${r.adapter} | ${r.variant} | ${(r.perRequest / 1000).toFixed(1)}k | ${r.ratio.toFixed(3)} | ${r.runs.map((x) => (x / 1000).toFixed(1) + 'k').join(', ')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * `npm run bench:instructions`. Environment: CG_SERVER (another build's
 * .bench/bench/server.js, to compare commits), CG_ADAPTERS (express,fastify),
 * CG_VARIANTS (bare,obs-metrics,obs-metrics-trace,obs-full), CG_RUNS (3),
 * CG_WARMUP (3000), CG_REQUESTS (2000), CG_NODES (label=path,...; default the
 * running node).
 */
async function main(): Promise<void> {
  const env = process.env;
  const list = (v: string | undefined, d: string) => (v ?? d).split(',').filter(Boolean);
  const nodes = Object.fromEntries(
    list(env.CG_NODES, `${process.version}=${process.execPath}`).map(
      (kv) => kv.split('=') as [string, string],
    ),
  );
  const rows = await runInstructions(
    process.env.CG_SERVER ?? join(import.meta.dirname, 'server.js'),
    {
      adapters: list(env.CG_ADAPTERS, 'express,fastify'),
      variants: list(env.CG_VARIANTS, 'bare,obs-metrics,obs-metrics-trace,obs-full') as Variant[],
      nodes,
      runs: Number(env.CG_RUNS ?? 3),
      warmup: Number(env.CG_WARMUP ?? 3000),
      requests: Number(env.CG_REQUESTS ?? 2000),
      path: env.CG_PATH ?? '/orgs/42/items/7',
    },
  );
  process.stdout.write(instructionsTable(rows) + '\n');
}

if (process.argv[1]?.endsWith('instructions.js')) void main();
