import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG } from '../catalog.js';
import { MetricsRegistry } from '../metrics-registry.js';
import { ClusterPeers } from './cluster-peers.js';

describe('ClusterPeers', () => {
  let base: string;
  beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'nestobs-peers-'))));
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const worker = (n: number) => {
    const r = new MetricsRegistry();
    r.counter(CATALOG.jobsEnqueuedTotal).inc({ queue: 'q', org: 'acme' }, n);
    return r;
  };

  it('adds up the processes that answer, skips and cleans up those that are gone', async () => {
    const dir = join(base, 'group');
    const peers = [1, 2, 3].map(
      (n) => new ClusterPeers(worker(n), { dir, timeoutMs: 1000, name: `w${n}` }),
    );
    for (const p of peers) await p.start();
    writeFileSync(join(dir, 'gone.sock'), ''); // a process that died without cleaning up
    try {
      const merged = await peers[0]!.aggregate();
      expect(merged.counter(CATALOG.jobsEnqueuedTotal).get({ queue: 'q', org: 'acme' })).toBe(6);
      expect(merged.gauge(CATALOG.clusterProcesses).get()).toBe(3);
      await peers[2]!.stop();
      const after = await peers[1]!.aggregate();
      expect(after.counter(CATALOG.jobsEnqueuedTotal).get({ queue: 'q', org: 'acme' })).toBe(3);
    } finally {
      for (const p of peers) await p.stop();
    }
  });

  it('refuses a directory other users can open', async () => {
    const dir = join(base, 'open');
    const p = new ClusterPeers(worker(1), { dir, timeoutMs: 1000 });
    await p.start();
    await p.stop();
    // stop removed it; make it again, open to everyone
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await expect(new ClusterPeers(worker(1), { dir, timeoutMs: 1000 }).start()).rejects.toThrow(
      /must be a directory of this user with mode 0700 \(it is 777/,
    );
  });
});
