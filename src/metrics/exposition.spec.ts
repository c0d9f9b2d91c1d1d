import { CATALOG } from './catalog.js';
import { negotiateFormat, renderExposition, renderExpositionToString } from './exposition.js';
import { MetricsRegistry } from './metrics-registry.js';

describe('exposition', () => {
  it('escapes label values and help text', async () => {
    const r = new MetricsRegistry();
    r.gauge(CATALOG.syncLagSeconds).set({ org: 'a"b\\c\nd' }, 1);
    const text = await renderExpositionToString(r, 'text');
    expect(text).toContain('sync_lag_seconds{org="a\\"b\\\\c\\nd"} 1');
  });

  it('renders cumulative histogram buckets, sum and count', async () => {
    const r = new MetricsRegistry();
    const h = r.histogram(CATALOG.socketioRedisLatencySeconds);
    h.observe(undefined, 0.0001);
    h.observe(undefined, 0.003);
    h.observe(undefined, 7);
    const text = await renderExpositionToString(r, 'text');
    expect(text).toContain('socketio_redis_latency_seconds_bucket{le="0.0005"} 1\n');
    expect(text).toContain('socketio_redis_latency_seconds_bucket{le="0.005"} 2\n');
    expect(text).toContain('socketio_redis_latency_seconds_bucket{le="1"} 2\n');
    expect(text).toContain('socketio_redis_latency_seconds_bucket{le="+Inf"} 3\n');
    expect(text).toContain('socketio_redis_latency_seconds_count 3\n');
  });

  it('names counter families without _total in OpenMetrics and ends with # EOF', async () => {
    const r = new MetricsRegistry();
    r.counter(CATALOG.jobsRetriedTotal).inc({ queue: 'q', method: 'm' });
    const om = await renderExpositionToString(r, 'openmetrics');
    expect(om).toContain('# TYPE jobs_retried counter\n');
    expect(om).toContain('jobs_retried_total{queue="q",method="m"} 1\n');
    expect(om.endsWith('# EOF\n')).toBe(true);
    const text = await renderExpositionToString(r, 'text');
    expect(text).toContain('# TYPE jobs_retried_total counter\n');
    expect(text).not.toContain('# EOF');
  });

  it('adds default labels to every sample', async () => {
    const r = new MetricsRegistry({ defaultLabels: { service: 'api' } });
    r.gauge(CATALOG.dlqDepth).set(undefined, 2);
    r.gauge(CATALOG.queueDepth).set({ queue: 'q' }, 1);
    const text = await renderExpositionToString(r, 'text');
    expect(text).toContain('dlq_depth{service="api"} 2\n');
    expect(text).toContain('queue_depth{service="api",queue="q"} 1\n');
  });

  it('negotiates OpenMetrics only when asked', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('text/plain')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0')).toBe('openmetrics');
  });

  it('yields in chunks inside a large family', async () => {
    const r = new MetricsRegistry({ labels: { maxValues: 100_000 } });
    const g = r.gauge(CATALOG.syncQueueDepth);
    for (let i = 0; i < 20_000; i++) g.set({ org: `org-${i}` }, i);
    let chunks = 0;
    let text = '';
    for await (const c of renderExposition(r, 'text', { chunkSize: 16 * 1024 })) {
      chunks++;
      text += c;
    }
    expect(chunks).toBeGreaterThan(10);
    expect(text.split('\n').filter((l) => l.startsWith('sync_queue_depth{')).length).toBe(20_000);
  });
});
