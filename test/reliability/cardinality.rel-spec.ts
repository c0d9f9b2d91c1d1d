import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { RoomsGateway } from '../../example/realtime.js';
import { CATALOG, MetricsService } from '../../src/index.js';
import { Integrations, IntegrationsObservabilityModule } from '../../src/integrations/index.js';
import { SocketIoObservabilityModule } from '../../src/socketio/index.js';
import { SyncMetrics, SyncObservabilityModule } from '../../src/sync/index.js';
import { FULL } from '../support/demo-process.js';
import { eventually, rawRequest } from '../support/http-client.js';
import { PartnerServer } from '../support/partner-server.js';
import { parseExposition } from '../support/prom-text.js';
import { promtoolCheckMetrics } from '../support/promtool.js';
import { report } from '../support/reliability-report.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

// A flood of distinct values on every label source: series stop at the caps
// (one overflow series past them) and memory stops growing with them.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const CAP = 200; // labels.maxValues for this app
const N = FULL ? 20_000 : 2_000; // distinct values per source and phase

describe('a cardinality attack on every label source', () => {
  const partner = new PartnerServer();
  let t: TestApp;
  let port: number;
  let client: Socket;
  let received = 0;

  beforeAll(async () => {
    await partner.start();
    t = await startTestApp('express', {
      options: { labels: { maxValues: CAP } },
      imports: [
        IntegrationsObservabilityModule.forRoot({
          integrations: { partner: { baseUrl: partner.url + '/v1' } },
          logFailures: false,
        }),
        SyncObservabilityModule.forRoot(),
        SocketIoObservabilityModule.forRoot({ serverId: 'cardinality' }),
      ],
      providers: [RoomsGateway],
      setup: (app) => {
        app.useWebSocketAdapter(new IoAdapter(app));
      },
    });
    port = Number(new URL(t.url).port);
    // a connected client: the events the app emits are delivered to it
    client = ioClient(t.url, { transports: ['websocket'] });
    client.onAny(() => received++);
    await new Promise<void>((r, j) => {
      client.once('connect', () => r());
      client.once('connect_error', j);
    });
  });
  afterAll(async () => {
    client.close();
    await t.close();
    await partner.stop();
  });

  /** One phase: N new distinct values on each source. */
  async function attack(phase: number): Promise<void> {
    const deliveredBefore = received;
    const sync = t.app.get(SyncMetrics);
    const integrations = t.app.get(Integrations);
    const io = t.app.get(RoomsGateway).server;
    const batch = 50;
    for (let i = 0; i < N; i += batch) {
      const jobs: Promise<unknown>[] = [];
      for (let j = i; j < i + batch && j < N; j++) {
        const v = `p${phase}-v${j}`;
        // organizations (header) and paths (unmatched and matched)
        jobs.push(
          rawRequest(`http://127.0.0.1:${port}/${v}/x`, { headers: { 'x-organization': v } }),
          rawRequest(`http://127.0.0.1:${port}/orgs/${v}/items`),
          // an integration's endpoints: paths no route template names
          integrations.fetch('partner', `/search/${v}`).then((r) => r.arrayBuffer()),
        );
        // doctypes, operations and organizations of the sync layer
        sync.delta(`Doctype${v}`, `op${v}`, v);
        sync.conflict(`Doctype${v}`, `strategy${v}`);
        sync.setQueueDepth(v, j);
        sync.succeeded(v);
        // event types the app emits
        io.emit(`event-${v}`, 1);
      }
      await Promise.all(jobs);
    }
    // the client has every event: nothing is left in Socket.IO's buffers
    await eventually(() => received - deliveredBefore === N, 30_000);
  }

  /** Empties what the test itself keeps (log capture, partner's request list). */
  function dropTestRecords(): void {
    t.logs.clear();
    partner.hits.length = 0;
  }

  it(`keeps every family at its cap, and memory flat, with ${N} distinct values per source, twice`, async () => {
    const metrics = t.app.get(MetricsService);
    dropTestRecords();
    const base = heapAfterGc();
    await attack(1);
    dropTestRecords();
    const afterFirst = heapAfterGc();
    await attack(2);
    dropTestRecords();
    const afterSecond = heapAfterGc();

    const text = await metrics.scrape();
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: '' });
    const samples = parseExposition(text);
    const families = [
      CATALOG.httpRequestsTotal.name,
      CATALOG.integrationRequestsTotal.name,
      CATALOG.syncDeltasTotal.name,
      CATALOG.syncConflictsTotal.name,
      CATALOG.syncQueueDepth.name,
      CATALOG.socketioMessagesDeliveredTotal.name,
    ];
    const series: Record<string, number> = {};
    for (const f of families) series[f] = samples.filter((s) => s.name === f).length;
    for (const f of families) {
      // at least the cap was reached, never much more
      expect(series[f]).toBeGreaterThanOrEqual(CAP);
      // per label at most CAP values plus the overflow value; the product of
      // the other labels' few values bounds the rest
      for (const label of new Set(
        samples.filter((s) => s.name === f).flatMap((s) => Object.keys(s.labels)),
      )) {
        const values = new Set(samples.filter((s) => s.name === f).map((s) => s.labels[label]));
        expect(values.size).toBeLessThanOrEqual(CAP + 1);
      }
    }
    const overflow = samples
      .filter((s) => s.name === CATALOG.labelOverflowTotal.name)
      .reduce((a, s) => a + s.value, 0);
    expect(overflow).toBeGreaterThan(N);
    // the exposition itself stays small
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBeLessThan(8 * 2 ** 20);
    // the second phase (as many new values again) adds no memory to speak of
    const mb = (v: number) => +(v / 2 ** 20).toFixed(2);
    const figures = {
      distinctValuesPerSource: 2 * N,
      labelCap: CAP,
      series,
      overflowObservations: overflow,
      expositionKB: Math.round(bytes / 1024),
      heapGrowthFirstPhaseMB: mb(afterFirst - base),
      heapGrowthSecondPhaseMB: mb(afterSecond - afterFirst),
    };
    report('cardinality', figures);
    expect(afterSecond - afterFirst).toBeLessThan(2 * 2 ** 20);
    // the app is still answering, with an ordinary status
    expect((await rawRequest(`${t.url}/orgs/acme/items`)).status).toBe(200);
  }, 600_000);
});
