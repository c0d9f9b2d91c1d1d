import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** The largest change between a run's two measured windows (see measureOnce). */
  drift: number;
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
  /** Requests per window, by adapter. */
  requests: Record<string, number>;
  path: string;
}

/**
 * Requests per window. Express's figures alternate by ~2.5 % between windows
 * of 1,000 (its bare app most of all), so its windows are 3,000.
 */
const DEFAULT_REQUESTS: Record<string, number> = { express: 3000, fastify: 1000 };

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
      '--instr-atstart=no',
      node,
      ...nodeFlags(),
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

/** Extra Node/V8 flags for the servers (CG_NODE_FLAGS, space-separated; none by default). */
function nodeFlags(): string[] {
  return (process.env.CG_NODE_FLAGS ?? '').split(' ').filter(Boolean);
}

/** One server's figure: the last window, and how far it moved from the one before. */
interface Measurement {
  perRequest: number;
  /** |last − previous| / previous: the server had settled when this is small. */
  drift: number;
}

function control(pid: number, ...args: string[]): void {
  const r = spawnSync('callgrind_control', [...args, String(pid)]);
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} failed`);
}

/**
 * One measurement: instructions per request of one server. The warm-up runs
 * with instrumentation off (`--instr-atstart=no`): valgrind then runs the
 * server several times faster, so a long warm-up is affordable, and V8's heap
 * and tiering settle into the state they reach at native speed (at 3,000
 * instrumented requests they had not: figures then moved by ±20 % from one
 * window to the next with the major GCs and compilations still under way).
 * Then three windows of N requests are counted; the last is the figure and
 * the change from the one before tells whether the server had settled. (The
 * first window is not used: switching instrumentation on slows the server
 * down some fifty times, and V8 recompiles a few functions in the first
 * thousand requests after, ~10k instructions per request on Express.)
 */
async function measureOnce(
  node: string,
  server: string,
  variant: Variant,
  adapter: string,
  port: number,
  o: InstructionOptions,
): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-cg-'));
  const { proc, out } = await startUnderCallgrind(node, server, variant, adapter, port, dir);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const pid = proc.pid!;
    await send(port, o.path, o.warmup, agent);
    control(pid, '-i', 'on');
    const windows: number[] = [];
    const n = o.requests[adapter] ?? 1000;
    for (let w = 1; w <= 3; w++) {
      control(pid, '-z');
      await send(port, o.path, n, agent);
      control(pid, '-d');
      // `-d` writes <out>.<n>; the counters were zeroed before the N requests.
      const dump = `${out}.${w}`;
      if (!existsSync(dump)) throw new Error(`no callgrind dump ${dump} for ${adapter}/${variant}`);
      // CG_KEEP=<dir>: keep each dump for callgrind_annotate (per-function diffs).
      if (process.env.CG_KEEP)
        copyFileSync(dump, join(process.env.CG_KEEP, `${adapter}-${variant}-${port}-${w}.cg`));
      windows.push(totalIr(dump) / n);
    }
    const [, previous, last] = windows as [number, number, number];
    return { perRequest: last, drift: Math.abs(last - previous) / previous };
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
      const drifts = new Map<Variant, number[]>();
      const measure = async (v: Variant): Promise<number> => {
        const m = await measureOnce(node, server, v, adapter, port++, o);
        push(runs, v, m.perRequest);
        push(drifts, v, m.drift);
        process.stderr.write(
          `  ${nodeLabel} ${adapter} ${v}: ${(m.perRequest / 1000).toFixed(1)}k` +
            ` (drift ${(m.drift * 100).toFixed(2)} %)\n`,
        );
        return m.perRequest;
      };
      for (let r = 0; r < o.runs; r++) {
        const bare = await measure('bare');
        for (const v of o.variants) {
          if (v === 'bare') continue;
          if (v === 'express-prom-bundle' && adapter === 'fastify') continue;
          push(ratios, v, (await measure(v)) / bare);
        }
      }
      for (const [variant, xs] of runs) {
        rows.push({
          adapter,
          variant,
          node: nodeLabel,
          perRequest: median(xs),
          runs: xs,
          drift: Math.max(...drifts.get(variant)!),
          ratio: variant === 'bare' ? 1 : median(ratios.get(variant)!),
        });
      }
    }
  }
  return rows;
}

export function instructionsTable(rows: InstructionRow[]): string {
  const lines = [
    '| Node | adapter | variant | instructions/request (median) | × bare | runs | drift |',
    '|---|---|---|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.node} | ${r.adapter} | ${r.variant} | ${(r.perRequest / 1000).toFixed(1)}k | ${r.ratio.toFixed(3)} | ${r.runs.map((x) => (x / 1000).toFixed(1) + 'k').join(', ')} | ${(r.drift * 100).toFixed(2)} % |`,
    );
  }
  return lines.join('\n');
}

/**
 * `npm run bench:instructions`. Environment: CG_SERVER (another build's
 * .bench/bench/server.js, to compare commits), CG_ADAPTERS (express,fastify),
 * CG_VARIANTS (bare,obs-metrics,obs-metrics-trace,obs-full), CG_RUNS (3),
 * CG_KEEP (a directory that keeps every dump), CG_WARMUP (12000, uninstrumented), CG_REQUESTS (per
 * window, three windows; 3000 on Express, 1000 on Fastify), CG_NODE_FLAGS, CG_NODES (label=path,...; default the
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
      warmup: Number(env.CG_WARMUP ?? 12_000),
      requests: Object.fromEntries(
        Object.entries(DEFAULT_REQUESTS).map(([a, n]) => [a, Number(env.CG_REQUESTS ?? n)]),
      ),
      path: env.CG_PATH ?? '/orgs/42/items/7',
    },
  );
  process.stdout.write(instructionsTable(rows) + '\n');
}

if (process.argv[1]?.endsWith('instructions.js')) void main();
