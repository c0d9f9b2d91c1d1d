import { CATALOG, SPEC_DEFINITIONS } from './catalog.js';
import { renderExpositionToString } from './exposition.js';
import { MetricsRegistry } from './metrics-registry.js';

describe('the catalog', () => {
  it('holds the 31 metric families of the spec, each name once', () => {
    expect(SPEC_DEFINITIONS).toHaveLength(31);
    const names = Object.values(CATALOG).map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps the spec buckets for request and query latency', () => {
    expect(CATALOG.httpRequestDurationSeconds.buckets).toEqual([
      0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]);
    expect(CATALOG.dbQueryDurationSeconds.buckets).toEqual([
      0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5,
    ]);
  });

  it('records the spec name wherever Prometheus conventions forced another', () => {
    const renamed = Object.values(CATALOG).filter((d) => 'specName' in d);
    expect(renamed.map((d) => [d.specName, d.name])).toEqual([
      ['org_job_count', 'org_jobs'],
      ['socketio_connections_total', 'socketio_connections'],
      ['socketio_rooms_total', 'socketio_rooms'],
      ['socketio_messages_published', 'socketio_messages_published_total'],
      ['socketio_messages_delivered', 'socketio_messages_delivered_total'],
      ['socketio_redis_latency_ms', 'socketio_redis_latency_seconds'],
    ]);
  });
});

describe('MetricsRegistry', () => {
  it('counts, sets and observes by label object', () => {
    const r = new MetricsRegistry();
    const c = r.counter(CATALOG.syncDeltasTotal);
    c.inc({ doctype: 'Invoice', org: 'acme', operation: 'insert' });
    c.inc({ doctype: 'Invoice', org: 'acme', operation: 'insert' }, 2);
    expect(c.get({ doctype: 'Invoice', org: 'acme', operation: 'insert' })).toBe(3);
    const g = r.gauge(CATALOG.syncLagSeconds);
    g.set({ org: 'acme' }, 12);
    g.dec({ org: 'acme' }, 2);
    expect(g.get({ org: 'acme' })).toBe(10);
    const h = r.histogram(CATALOG.dbQueryDurationSeconds);
    for (const v of [0.0005, 0.003, 0.003, 2, 9])
      h.observe({ doctype: 'Item', operation: 'select' }, v);
    expect(h.get({ doctype: 'Item', operation: 'select' })).toEqual({
      count: 5,
      sum: 0.0005 + 0.003 + 0.003 + 2 + 9,
      buckets: {
        '0.001': 1,
        '0.005': 3,
        '0.01': 3,
        '0.05': 3,
        '0.1': 3,
        '0.5': 3,
        '1': 3,
        '5': 4,
        '+Inf': 5,
      },
    });
  });

  it('ignores and counts bad values instead of throwing', () => {
    const r = new MetricsRegistry();
    const c = r.counter(CATALOG.syncConflictsTotal);
    expect(() => c.inc({ doctype: 'a', strategy: 'b' }, -1)).not.toThrow();
    expect(() => c.inc({ doctype: 'a', strategy: 'b' }, NaN)).not.toThrow();
    expect(() => r.gauge(CATALOG.syncLagSeconds).set({ org: 'x' }, Infinity)).not.toThrow();
    expect(c.get({ doctype: 'a', strategy: 'b' })).toBe(0);
    expect(
      r
        .counter(CATALOG.instrumentationErrorsTotal)
        .get({ component: 'metrics:sync_conflicts_total' }),
    ).toBe(2);
  });

  it('caps distinct values per label, collapsing the rest and counting the overflow', () => {
    const r = new MetricsRegistry({
      labels: { maxValues: 2, maxValuesPerLabel: { integration: 3 } },
    });
    const c = r.counter(CATALOG.integrationRequestsTotal);
    for (let i = 0; i < 10; i++) c.inc({ integration: `i${i % 5}`, endpoint: '/x', status: 'ok' });
    const values = [...c.series.values()].map((s) => s.labelValues[0]).sort();
    expect(values).toEqual(['__overflow__', 'i0', 'i1', 'i2']);
    expect(c.get({ integration: '__overflow__', endpoint: '/x', status: 'ok' })).toBe(4);
    expect(
      r
        .counter(CATALOG.labelOverflowTotal)
        .get({ metric: 'integration_requests_total', label: 'integration' }),
    ).toBe(4);
  });

  it('sums the values that collapse into a gauge overflow series, per scrape, and frees the slots of removed series', () => {
    const r = new MetricsRegistry({ labels: { maxValues: 2 } });
    const g = r.gauge(CATALOG.orgJobs);
    const entries = (counts: Record<string, number>) =>
      Object.entries(counts).map(([org, n]) => [{ org, queue: 'q' }, n] as const);
    g.replaceAll(entries({ a: 1, b: 2, c: 30, d: 4 }));
    expect(g.get({ org: '__overflow__', queue: 'q' })).toBe(34);
    expect(g.get({ org: 'a', queue: 'q' })).toBe(1);
    g.replaceAll(entries({ a: 1, b: 2, c: 30, d: 4 }));
    expect(g.get({ org: '__overflow__', queue: 'q' })).toBe(34); // not 68: per scrape
    // a and b are gone: their slots are free for c and d, and the overflow series disappears
    g.replaceAll(entries({ c: 5, d: 6 }));
    expect([...g.series.values()].map((s) => `${s.labelValues[0]}=${s.value}`).sort()).toEqual([
      'c=5',
      'd=6',
    ]);
    // remove() frees a slot too
    g.remove({ org: 'c', queue: 'q' });
    g.set({ org: 'e', queue: 'q' }, 9);
    expect(g.get({ org: 'e', queue: 'q' })).toBe(9);
  });

  it('truncates long label values', () => {
    const r = new MetricsRegistry({ labels: { maxLength: 10 } });
    r.gauge(CATALOG.syncQueueDepth).set({ org: 'x'.repeat(50) }, 1);
    expect([...r.gauge(CATALOG.syncQueueDepth).series.values()][0]!.labelValues[0]).toBe(
      'x'.repeat(10),
    );
  });

  it('truncates raw values on the hot path (seriesOf) too, never inside a surrogate pair', () => {
    const r = new MetricsRegistry({ labels: { maxLength: 10 } });
    const family = r.gauge(CATALOG.syncQueueDepth);
    const a = family.seriesOf(['y'.repeat(50)]);
    expect(a.labelValues).toEqual(['y'.repeat(10)]);
    expect(family.seriesOf(['y'.repeat(60)])).toBe(a);
    // '𝌆' is two UTF-16 units: a cut at 10 would leave half of the fifth
    const b = family.seriesOf(['a' + '𝌆'.repeat(10)]);
    expect(b.labelValues).toEqual(['a' + '𝌆'.repeat(4)]);
    expect(family.series.size).toBe(2);
  });

  it('lets the app define its own metrics, and rejects a conflicting redefinition', () => {
    const r = new MetricsRegistry();
    const def = {
      name: 'orders_total',
      type: 'counter',
      help: 'Orders',
      group: 'http',
      labelNames: ['kind'],
    } as const;
    r.counter(def).inc({ kind: 'a' });
    expect(r.counter({ ...def }).get({ kind: 'a' })).toBe(1);
    expect(() => r.define({ ...def, labelNames: ['other'] })).toThrow('already defined');
    expect(() => r.define({ ...def, name: 'bad-name' })).toThrow('Invalid metric name');
    expect(() => r.define({ ...def, name: 'h', type: 'histogram', buckets: [2, 1] })).toThrow(
      'increasing buckets',
    );
  });

  it('times out a hanging collector without failing the scrape, and marks it stale', async () => {
    const errors: string[] = [];
    const r = new MetricsRegistry({
      collectorTimeoutMs: 50,
      onCollectorError: (c) => errors.push(c),
    });
    r.addCollector({ name: 'hangs', collect: () => new Promise(() => undefined) });
    r.addCollector({ name: 'throws', collect: () => Promise.reject(new Error('no redis')) });
    r.addCollector({
      name: 'works',
      collect: () => r.gauge(CATALOG.queueDepth).set({ queue: 'q' }, 4),
    });
    const start = Date.now();
    const text = await renderExpositionToString(r, 'text');
    expect(Date.now() - start).toBeLessThan(1000);
    expect(text).toContain('queue_depth{queue="q"} 4');
    expect(text).toContain('observability_collector_stale{collector="hangs"} 1');
    expect(text).toContain('observability_collector_stale{collector="throws"} 1');
    expect(text).toContain('observability_collector_stale{collector="works"} 0');
    expect(text).toContain(
      'observability_collector_errors_total{collector="hangs",reason="timeout"} 1',
    );
    expect(errors.sort()).toEqual(['hangs', 'throws']);
  });

  it('does not start a collector again while its last run still hangs', async () => {
    const r = new MetricsRegistry({ collectorTimeoutMs: 20 });
    let calls = 0;
    r.addCollector({ name: 'stuck', collect: () => new Promise(() => void calls++) });
    await r.collect();
    await r.collect();
    await r.collect();
    expect(calls).toBe(1);
    expect(
      r.counter(CATALOG.collectorErrorsTotal).get({ collector: 'stuck', reason: 'hung' }),
    ).toBe(2);
  });

  it('shares one collector run between concurrent scrapes', async () => {
    const r = new MetricsRegistry();
    let runs = 0;
    r.addCollector({
      name: 'slow',
      collect: () => new Promise((res) => setTimeout(() => res(void runs++), 30)),
    });
    await Promise.all([r.collect(), r.collect(), r.collect()]);
    expect(runs).toBe(1);
  });
});
