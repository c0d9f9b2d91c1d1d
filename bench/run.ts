import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { HttpRow } from './http-overhead.js';
import { runHttpOverhead } from './http-overhead.js';
import { runCardinalityAttack } from './cardinality.js';
import { runScrapeBench } from './scrape.js';
import { runDbBench } from './db.js';
import { runJobsBench } from './jobs.js';
import { runOutboundBench } from './outbound.js';
import { runSocketIoBench } from './socketio.js';
import { tmpdir } from 'node:os';

/**
 * `npm run bench`: every measurement of the project, as ratios against a
 * baseline measured in the same run (this machine has 2 cores and is noisy).
 * The load generator runs on core 0, the servers on core 1.
 *
 * Environment: BENCH_ROUNDS (5), BENCH_SECONDS (2), BENCH_WARMUP (3), BENCH_RATE (1000 req/s),
 * BENCH_ONLY (comma list of sections: http).
 */

const root = join(import.meta.dirname, '..', '..');
const resultsDir = join(root, 'bench', 'results');

function pinSelf(): string | undefined {
  const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
  if (!hasTaskset || cpus().length < 2) return undefined;
  if (process.env.BENCH_PINNED !== '1') {
    const r = spawnSync(
      'taskset',
      ['-c', '0', process.execPath, '--expose-gc', ...process.argv.slice(1)],
      {
        stdio: 'inherit',
        env: { ...process.env, BENCH_PINNED: '1' },
      },
    );
    process.exit(r.status ?? 1);
  }
  return '1';
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${execFileSync('uname', ['-sr']).toString().trim()}`;
}

const fmt = (n: number, d = 1) => n.toFixed(d);

function httpTable(rows: HttpRow[]): string {
  const lines = [
    '| adapter | variant | hello: µs CPU/req | × bare | param route: µs CPU/req | × bare |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const key = (r: HttpRow) => `${r.adapter}|${r.variant}`;
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(key(r))) continue;
    seen.add(key(r));
    const hello = rows.find((x) => key(x) === key(r) && x.workload === 'hello')!;
    const param = rows.find((x) => key(x) === key(r) && x.workload === 'param')!;
    lines.push(
      `| ${r.adapter} | ${r.variant} | ${fmt(hello.usPerRequest)} | ${fmt(hello.ratio, 2)} | ${fmt(param.usPerRequest)} | ${fmt(param.ratio, 2)} |`,
    );
  }
  return lines.join('\n');
}

/** Puts the results between the bench markers of docs/benchmarks.md (a full run only). */
function updateReadme(md: string): void {
  const path = join(root, 'docs', 'benchmarks.md');
  const readme = readFileSync(path, 'utf8');
  const start = readme.indexOf('<!-- bench:start -->');
  const end = readme.indexOf('<!-- bench:end -->');
  if (start === -1 || end < start) return;
  const body = md.replace(/^# Benchmark results\n\n/, '').replace(/^## /gm, '#### ');
  writeFileSync(path, `${readme.slice(0, start)}<!-- bench:start -->\n${body}${readme.slice(end)}`);
}

async function main(): Promise<void> {
  const serverCore = pinSelf();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const seconds = Number(process.env.BENCH_SECONDS ?? 2);
  const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 3);
  const rate = Number(process.env.BENCH_RATE ?? 1000);
  const only = new Set(
    (process.env.BENCH_ONLY ?? 'http,scrape,cardinality,db,jobs,outbound,socketio').split(','),
  );
  const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
  const sections: string[] = [
    `# Benchmark results`,
    ``,
    `Machine: ${machine()}. Load generator on core 0, servers on core ${serverCore ?? '(unpinned)'}.`,
    `Command: \`npm run bench\` (BENCH_ROUNDS=${rounds}, BENCH_SECONDS=${seconds}, BENCH_RATE=${rate}). ${new Date().toISOString()}`,
  ];
  const json: Record<string, unknown> = { machine: machine(), rounds, seconds, rate };

  if (only.has('http')) {
    log(`HTTP overhead: ${rounds} rounds × ${seconds}s at ${rate} req/s`);
    const rows = await runHttpOverhead(
      { rounds, seconds, rate, warmupSeconds, primeSeconds: 1, serverCore },
      log,
    );
    json.http = rows;
    sections.push(
      '',
      '## HTTP instrumentation overhead',
      '',
      `Server CPU time per request (all threads, from /proc/<pid>/task/*/schedstat) at ${rate} req/s in ${seconds}-second windows, each after 1 s of unmeasured traffic, every server once per round in rotating order, ${rounds} rounds. "× bare" is the median over rounds of the variant's CPU per request divided by the bare app's (same adapter, same round); the µs columns are medians and drift with the machine.`,
      '',
      httpTable(rows),
    );
  }

  if (only.has('scrape')) {
    log('scrape serialisation');
    const rows = await runScrapeBench(Number(process.env.BENCH_SCRAPE_RUNS ?? 7), log);
    json.scrape = rows;
    sections.push(
      '',
      '## /metrics serialisation',
      '',
      '`http_requests_total` with N series (four labels). Median wall time of alternating runs in one process (CPU-bound, single thread); the stall is the longest gap between event-loop turns during a scrape (median over runs). prom-client renders synchronously, this library yields every 64 KB.',
      '',
      '| series | this library (ms) | prom-client `registry.metrics()` (ms) | × prom-client | longest stall, ours (ms) | longest stall, prom-client (ms) | exposition size |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.series.toLocaleString('en')} | ${fmt(r.oursMs)} | ${fmt(r.promClientMs)} | ${fmt(r.ratio, 2)} | ${fmt(r.oursMaxStallMs)} | ${fmt(r.promClientMaxStallMs)} | ${(r.bytes / 2 ** 20).toFixed(1)} MiB |`,
      ),
    );
  }

  if (only.has('cardinality')) {
    const n = Number(process.env.BENCH_ATTACK ?? 1_000_000);
    log(`cardinality attack: ${n} requests`);
    const r = runCardinalityAttack(n);
    json.cardinality = r;
    sections.push(
      '',
      '## Cardinality attack',
      '',
      `${r.requests.toLocaleString('en')} requests, each with a new path (half matching \`/orgs/:orgId/items\`, half matching no route) and a new organization, through the HTTP instrumentation core (default caps: 500 values per label).`,
      '',
      '| metric | series after the attack |',
      '|---|---:|',
      ...Object.entries(r.seriesByMetric).map(([k, v]) => `| \`${k}\` | ${v} |`),
      `| **all** | **${r.totalSeries}** |`,
      '',
      `Observations collapsed into \`__overflow__\`: ${r.overflowObservations.toLocaleString('en')}. Heap after GC: ${r.heapBeforeMiB} MiB before, ${r.heapAfterGcMiB} MiB after; RSS ${r.rssBeforeMiB} → ${r.rssAfterMiB} MiB.`,
    );
  }

  if (only.has('db')) {
    log('database subscriber overhead');
    const rows = await runDbBench(Number(process.env.BENCH_DB_ROUNDS ?? 7), log);
    json.db = rows;
    sections.push(
      '',
      '## Database query subscriber',
      '',
      'Repository `findOneBy` calls per second on two identical DataSources, one with the query subscriber, in alternating batches in one process (SQLite in memory: 5000 queries a batch; PostgreSQL on 127.0.0.1: 1000). "× plain" is the median over batches of instrumented / plain throughput.',
      '',
      '| database | plain (queries/s) | with subscriber (queries/s) | × plain |',
      '|---|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.database} | ${fmt(r.plainQps, 0)} | ${fmt(r.instrumentedQps, 0)} | ${fmt(r.ratio, 3)} |`,
      ),
    );
  }

  if (only.has('jobs')) {
    log('job instrumentation overhead');
    const r = await runJobsBench(
      Number(process.env.BENCH_JOBS_ROUNDS ?? 5),
      join(tmpdir(), `nestobs-bench-jobs-${process.pid}.log`),
      log,
    );
    if (r) {
      json.jobs = r;
      sections.push(
        '',
        '## Job instrumentation',
        '',
        `- Per job attempt (in process, a trivial async job, two JSON log lines to a file): ${fmt(r.perJob.plainUs, 2)} µs CPU bare, ${fmt(r.perJob.instrumentedUs, 2)} µs instrumented: **${fmt(r.perJob.overheadUs, 1)} µs** added.`,
        `- Real BullMQ worker on local Redis, ${r.bullmq.jobs} jobs (concurrency 20), process CPU per job: ${fmt(r.bullmq.plainCpuUsPerJob, 0)} µs without, ${fmt(r.bullmq.instrumentedCpuUsPerJob, 0)} µs with the instrumentation (enqueue counting, trace propagation, org counts in Redis, metrics and logs): **× ${fmt(r.bullmq.ratio, 2)}**.`,
        `- Queue gauges read at scrape time (\`queue_depth\`, \`dlq_depth\`, \`org_jobs\`), median of 20 reads: ${r.gauges.map((g) => `${fmt(g.collectMs, 2)} ms with ${g.jobsInQueue.toLocaleString('en')} jobs waiting`).join(', ')}.`,
      );
    }
  }

  if (only.has('outbound')) {
    log('outbound call instrumentation overhead');
    const rows = await runOutboundBench(Number(process.env.BENCH_OUTBOUND_ROUNDS ?? 5), log);
    json.outbound = rows;
    sections.push(
      '',
      '## Outbound calls',
      '',
      'CPU of the calling process per outbound call to a local partner API (in a child process), 2000 calls 10 at a time, inside a trace context, with and without the integration instrumentation (diagnostics-channel subscribers, endpoint template, trace headers, two metrics). Alternating batches; "×" is the median of per-round ratios.',
      '',
      '| client | plain (µs CPU/call) | instrumented (µs CPU/call) | × plain |',
      '|---|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.client} | ${fmt(r.plainUsPerCall)} | ${fmt(r.instrumentedUsPerCall)} | ${fmt(r.ratio, 3)} |`,
      ),
    );
  }

  if (only.has('socketio')) {
    log('Socket.IO broadcast overhead');
    const rows = await runSocketIoBench(Number(process.env.BENCH_SOCKETIO_ROUNDS ?? 5), log);
    json.socketio = rows;
    sections.push(
      '',
      '## Socket.IO broadcasts',
      '',
      'Server CPU per broadcast to a room of 20 clients (in-memory adapter, clients in a child process), 2000 broadcasts a batch, with and without the instrumentation (per-socket outgoing listener for `socketio_messages_delivered_total`, handler trace context). Alternating batches; "×" is the median of per-round ratios.',
      '',
      '| clients in room | plain (µs CPU/broadcast) | instrumented (µs CPU/broadcast) | × plain |',
      '|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.clients} | ${fmt(r.plainUsPerBroadcast)} | ${fmt(r.instrumentedUsPerBroadcast)} | ${fmt(r.ratio, 3)} |`,
      ),
    );
  }

  const md = sections.join('\n') + '\n';
  process.stdout.write('\n' + md);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'latest.md'), md);
  writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
  if (process.env.BENCH_README !== '0' && only.size >= 7) updateReadme(md);
  log(`written to bench/results/latest.md and latest.json`);
}

void main();
