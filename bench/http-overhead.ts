import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, processCpuNs } from './cpu.js';
import type { Variant } from './server.js';
import { VARIANTS } from './server.js';

export interface HttpBenchOptions {
  rounds: number;
  seconds: number;
  rate: number;
  warmupSeconds: number;
  /** Unmeasured traffic right before each measurement. */
  primeSeconds: number;
  serverCore: string | undefined;
}

interface Server {
  adapter: 'express' | 'fastify';
  variant: Variant;
  port: number;
  proc: ChildProcess;
}

export interface HttpRow {
  adapter: string;
  variant: Variant;
  workload: string;
  usPerRequest: number;
  ratio: number;
  samples: number[];
}

const WORKLOADS = {
  hello: [{ path: '/hello' }],
  param: Array.from({ length: 10 }, (_, i) => ({ path: `/orgs/org-${i % 4}/items/${100 + i}` })),
} as const;

function startServer(
  adapter: 'express' | 'fastify',
  variant: Variant,
  port: number,
  dir: string,
  core: string | undefined,
): Promise<Server> {
  const args = [
    join(import.meta.dirname, 'server.js'),
    variant,
    adapter,
    String(port),
    join(dir, `${adapter}-${variant}.log`),
  ];
  const proc = core
    ? spawn('taskset', ['-c', core, process.execPath, ...args])
    : spawn(process.execPath, args);
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve({ adapter, variant, port, proc });
    });
    proc.once('exit', (code) => reject(new Error(`${adapter}/${variant} exited ${code}: ${err}`)));
  });
}

async function measure(
  server: Server,
  workload: keyof typeof WORKLOADS,
  seconds: number,
  rate: number | undefined,
) {
  const before = processCpuNs(server.proc.pid!);
  const r = await autocannon({
    url: `http://127.0.0.1:${server.port}`,
    connections: 10,
    overallRate: rate,
    duration: seconds,
    requests: [...WORKLOADS[workload]],
  });
  const cpu = processCpuNs(server.proc.pid!) - before;
  if (r.errors || r.timeouts || r.non2xx) {
    throw new Error(
      `${server.adapter}/${server.variant}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`,
    );
  }
  return cpu / 1000 / r.requests.total;
}

/**
 * Server CPU time per request at a fixed rate below saturation, every variant
 * of both adapters measured in the same run, interleaved, over several
 * rounds; medians and ratios against the bare app of the same adapter.
 */
export async function runHttpOverhead(
  o: HttpBenchOptions,
  log: (s: string) => void,
): Promise<HttpRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nestobs-bench-'));
  const servers: Server[] = [];
  try {
    let port = 41000 + Math.floor(Math.random() * 1000);
    const only = process.env.BENCH_VARIANTS?.split(',');
    const adapters = (process.env.BENCH_ADAPTERS?.split(',') ?? ['express', 'fastify']) as (
      'express' | 'fastify'
    )[];
    for (const adapter of adapters) {
      for (const variant of VARIANTS) {
        if (variant === 'express-prom-bundle' && adapter === 'fastify') continue;
        if (only && variant !== 'bare' && !only.includes(variant)) continue;
        servers.push(await startServer(adapter, variant, port++, dir, o.serverCore));
      }
    }
    log(`started ${servers.length} servers; warming up (JIT) at full speed`);
    for (const s of servers) {
      for (const w of Object.keys(WORKLOADS))
        await measure(s, w as 'hello', o.warmupSeconds, undefined);
    }

    // Every server is measured once per round, in an order that rotates
    // between rounds, and each measurement follows a short unmeasured burst
    // (a server that sat idle while the others ran starts cold: the first
    // requests after a pause cost more). Ratios are taken per round against
    // the bare app of the same adapter in that round, then the median over
    // rounds, so this shared machine's slow drifts cancel out.
    const us = new Map<string, number[]>();
    const ratios = new Map<string, number[]>();
    const push = (m: Map<string, number[]>, k: string, v: number) =>
      m.set(k, [...(m.get(k) ?? []), v]);
    for (let round = 0; round < o.rounds; round++) {
      for (const workload of Object.keys(WORKLOADS) as (keyof typeof WORKLOADS)[]) {
        for (const adapter of adapters) {
          const group = servers.filter((s) => s.adapter === adapter);
          const order = group.map((_, i) => group[(i + round) % group.length]!);
          const measured = new Map<Variant, number>();
          for (const s of order) {
            await measure(s, workload, o.primeSeconds, o.rate);
            measured.set(s.variant, await measure(s, workload, o.seconds, o.rate));
          }
          const bare = measured.get('bare')!;
          for (const [variant, m] of measured) {
            push(us, `${adapter}|${variant}|${workload}`, m);
            push(ratios, `${adapter}|${variant}|${workload}`, m / bare);
          }
        }
      }
      log(`round ${round + 1}/${o.rounds} done`);
    }
    const rows: HttpRow[] = [];
    for (const [key, values] of us) {
      const [adapter, variant, workload] = key.split('|') as [string, Variant, string];
      rows.push({
        adapter,
        variant,
        workload,
        usPerRequest: median(values),
        ratio: variant === 'bare' ? 1 : median(ratios.get(key)!),
        samples: variant === 'bare' ? values : ratios.get(key)!,
      });
    }
    const order = (r: HttpRow) =>
      `${r.adapter}|${VARIANTS.indexOf(r.variant).toString().padStart(2, '0')}`;
    rows.sort((a, b) => order(a).localeCompare(order(b)));
    return rows;
  } finally {
    for (const s of servers) s.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
