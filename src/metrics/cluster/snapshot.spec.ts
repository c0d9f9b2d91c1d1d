import { Counter, Gauge, Registry as PromRegistry } from 'prom-client';
import { CATALOG } from '../catalog.js';
import { MetricsRegistry } from '../metrics-registry.js';
import { mergeSnapshots, takeSnapshot, type ProcessSnapshot } from './snapshot.js';

/** A snapshot as another process sends it: through JSON. */
const overTheWire = async (r: MetricsRegistry): Promise<ProcessSnapshot> =>
  JSON.parse(JSON.stringify(await takeSnapshot(r))) as ProcessSnapshot;

function worker(requests: number, active: number, depth: number, lag: number, breaker: number) {
  const r = new MetricsRegistry();
  const labels = { method: 'GET', endpoint: '/x', status: '200', org: 'acme' };
  r.counter(CATALOG.httpRequestsTotal).inc(labels, requests);
  for (let i = 0; i < requests; i++)
    r.histogram(CATALOG.httpRequestDurationSeconds).observe(
      { method: 'GET', endpoint: '/x' },
      0.02,
    );
  r.gauge(CATALOG.httpActiveRequests).set({ method: 'GET' }, active);
  r.gauge(CATALOG.queueDepth).set({ queue: 'default' }, depth);
  r.gauge(CATALOG.syncLagSeconds).set({ org: 'acme' }, lag);
  r.gauge(CATALOG.integrationCircuitBreakerState).set({ integration: 'partner' }, breaker);
  const prom = new PromRegistry();
  new Counter({ name: 'app_things_total', help: 'things', registers: [prom] }).inc(requests);
  new Gauge({ name: 'app_version', help: 'v', registers: [prom], aggregator: 'first' }).set(7);
  r.addPromRegistry(prom);
  return r;
}

describe('mergeSnapshots (metrics.cluster)', () => {
  it('sums counters and histograms, combines each gauge by its rule, prom-client metrics by theirs', async () => {
    const snaps = [
      await takeSnapshot(worker(3, 1, 40, 10, 0)),
      await overTheWire(worker(5, 2, 40, 4, 2)),
      await overTheWire(worker(7, 0, 41, 30, 0)),
    ];
    const m = mergeSnapshots(snaps, {});
    expect(
      m
        .counter(CATALOG.httpRequestsTotal)
        .get({ method: 'GET', endpoint: '/x', status: '200', org: 'acme' }),
    ).toBe(15);
    const h = m
      .histogram(CATALOG.httpRequestDurationSeconds)
      .get({ method: 'GET', endpoint: '/x' });
    expect(h.count).toBe(15);
    expect(h.sum).toBeCloseTo(0.3);
    expect(m.gauge(CATALOG.httpActiveRequests).get({ method: 'GET' })).toBe(3); // sum
    expect(m.gauge(CATALOG.queueDepth).get({ queue: 'default' })).toBe(41); // max: one Redis
    expect(m.gauge(CATALOG.syncLagSeconds).get({ org: 'acme' })).toBe(4); // min: the latest success
    expect(m.gauge(CATALOG.integrationCircuitBreakerState).get({ integration: 'partner' })).toBe(2); // max: the worst
    expect(m.gauge(CATALOG.clusterProcesses).get()).toBe(3);
    const foreign = await m.promRegistries[0]!.getMetricsAsJSON();
    expect(foreign.find((x) => x.name === 'app_things_total')!.values[0]!.value).toBe(15);
    expect(foreign.find((x) => x.name === 'app_version')!.values[0]!.value).toBe(7);
  });

  it('a label value is kept apart per process even past one process cap', async () => {
    const a = new MetricsRegistry({ labels: { maxValues: 2 } });
    const b = new MetricsRegistry({ labels: { maxValues: 2 } });
    for (const org of ['a1', 'a2']) a.counter(CATALOG.jobsEnqueuedTotal).inc({ queue: 'q', org });
    for (const org of ['b1', 'b2']) b.counter(CATALOG.jobsEnqueuedTotal).inc({ queue: 'q', org });
    const m = mergeSnapshots([await takeSnapshot(a), await overTheWire(b)], {});
    expect(m.counter(CATALOG.jobsEnqueuedTotal).series.size).toBe(4);
  });
});
