import { Counter, Registry } from 'prom-client';
import { CATALOG } from '../src/index.js';
import { MetricsRegistry } from '../src/metrics/metrics-registry.js';
import { renderExpositionToString } from '../src/metrics/exposition.js';
import { median } from './cpu.js';

export interface ScrapeRow {
  series: number;
  oursMs: number;
  promClientMs: number;
  ratio: number;
  /** Median over runs of the longest stall within each run. */
  oursMaxStallMs: number;
  promClientMaxStallMs: number;
  bytes: number;
}

/** Longest gap between event-loop turns while `fn` runs. */
async function maxStall(fn: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let max = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    max = Math.max(max, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await fn();
  running = false;
  max = Math.max(max, performance.now() - last);
  await new Promise((r) => setImmediate(r));
  return max;
}

function fill(n: number): { ours: MetricsRegistry; prom: Registry } {
  const ours = new MetricsRegistry({ labels: { maxValues: n } });
  const prom = new Registry();
  const def = CATALOG.httpRequestsTotal;
  const theirs = new Counter({
    name: def.name,
    help: def.help,
    labelNames: [...def.labelNames],
    registers: [prom],
  });
  const family = ours.counter(def);
  for (let i = 0; i < n; i++) {
    const labels = {
      method: 'GET',
      endpoint: `/api/items/${i % 50}`,
      status: '200',
      org: `org-${i}`,
    };
    family.inc(labels, i);
    theirs.inc(labels, i);
  }
  return { ours, prom };
}

/**
 * `/metrics` serialisation of 1k, 10k and 100k series (http_requests_total,
 * four labels): this library's chunked writer against prom-client's
 * `registry.metrics()`, in the same process and run, and the longest
 * event-loop stall each causes.
 */
export async function runScrapeBench(runs: number, log: (s: string) => void): Promise<ScrapeRow[]> {
  const rows: ScrapeRow[] = [];
  for (const n of [1_000, 10_000, 100_000]) {
    const { ours, prom } = fill(n);
    const oursT: number[] = [];
    const promT: number[] = [];
    const oursStall: number[] = [];
    const promStall: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so warm caches favour neither.
      const order = i % 2 === 0 ? ['ours', 'prom'] : ['prom', 'ours'];
      for (const which of order) {
        const start = performance.now();
        let stall: number;
        if (which === 'ours') {
          stall = await maxStall(
            async () => (bytes = (await renderExpositionToString(ours, 'text')).length),
          );
          oursT.push(performance.now() - start);
          oursStall.push(stall);
        } else {
          stall = await maxStall(() => prom.metrics());
          promT.push(performance.now() - start);
          promStall.push(stall);
        }
      }
    }
    const row: ScrapeRow = {
      series: n,
      oursMs: median(oursT),
      promClientMs: median(promT),
      ratio: median(oursT) / median(promT),
      oursMaxStallMs: median(oursStall),
      promClientMaxStallMs: median(promStall),
      bytes,
    };
    log(
      `scrape ${n} series: ours ${row.oursMs.toFixed(1)} ms, prom-client ${row.promClientMs.toFixed(1)} ms`,
    );
    rows.push(row);
  }
  return rows;
}
