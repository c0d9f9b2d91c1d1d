import { fork, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import pino from 'pino';
import { TraceContext } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { Integrations } from '../src/integrations/index.js';
import { resolveIntegrationsOptions } from '../src/integrations/integrations.options.js';
import { median } from './cpu.js';

export interface OutboundRow {
  client: 'fetch' | 'node:http';
  plainUsPerCall: number;
  instrumentedUsPerCall: number;
  ratio: number;
}

/** A partner API in a child process, so its CPU is not counted. */
function startPartner(): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(
    '-e',
    [
      `require('node:http').createServer((q, s) => s.end('{"ok":true}')).listen(0, '127.0.0.1', function () { process.send(this.address().port) })`,
    ],
    { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  return new Promise((resolve) =>
    child.once('message', (port) => resolve({ url: `http://127.0.0.1:${String(port)}`, child })),
  );
}

function httpGet(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
}

/** CPU µs of this process per call, `n` calls, 10 at a time. */
async function cpuPerCall(call: () => Promise<unknown>, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, call));
  const d = process.cpuUsage(start);
  return (d.user + d.system) / n;
}

/**
 * Outbound calls with and without the integration instrumentation (channel
 * subscribers, endpoint templating, trace headers, metrics), alternating
 * batches in one process, all inside a trace context as in a request.
 */
export async function runOutboundBench(
  rounds: number,
  log: (s: string) => void,
): Promise<OutboundRow[]> {
  const { url, child } = await startPartner();
  const trace = new TraceContext();
  const registry = new MetricsRegistry();
  const options = resolveIntegrationsOptions({
    integrations: { partner: { baseUrl: url, routes: ['/v1/customers/:id'] } },
  });
  const deps = {
    registry,
    trace,
    log: pino({ level: 'silent' }),
    traceHeader: 'x-trace-id',
    fallbackOrg: 'system',
  };
  const clients = {
    fetch: () =>
      fetch(`${url}/v1/customers/${Math.floor(Math.random() * 1000)}`).then((r) => r.text()),
    'node:http': () => httpGet(`${url}/v1/customers/${Math.floor(Math.random() * 1000)}`),
  } as const;
  const n = 2000;
  const rows: OutboundRow[] = [];
  try {
    for (const [client, call] of Object.entries(clients) as [
      OutboundRow['client'],
      () => Promise<unknown>,
    ][]) {
      const inContext = () => trace.run(call);
      await cpuPerCall(inContext, n); // warm-up
      const plain: number[] = [];
      const inst: number[] = [];
      for (let r = 0; r < rounds; r++) {
        plain.push(await cpuPerCall(inContext, n));
        const integrations = await Integrations.create(options, deps);
        inst.push(await cpuPerCall(inContext, n));
        integrations.onApplicationShutdown();
      }
      const ratios = plain.map((p, i) => inst[i]! / p);
      rows.push({
        client,
        plainUsPerCall: median(plain),
        instrumentedUsPerCall: median(inst),
        ratio: median(ratios),
      });
      log(
        `outbound ${client}: ${median(plain).toFixed(1)} vs ${median(inst).toFixed(1)} µs CPU/call`,
      );
    }
  } finally {
    child.kill();
  }
  return rows;
}
