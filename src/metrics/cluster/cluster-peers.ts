import { lstatSync, mkdirSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG } from '../catalog.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { mergeSnapshots, takeSnapshot, type ProcessSnapshot } from './snapshot.js';

export interface ClusterSettings {
  /** Directory the processes of one service share (one Unix socket each). */
  dir: string;
  /** How long a scrape waits for each other process. */
  timeoutMs: number;
  /** This process's socket name in `dir` (default: its pid; tests run several in one process). */
  name?: string;
}

/**
 * The default directory: one per service name and parent process, so the
 * workers of one Node cluster primary (or of one PM2 daemon) find each other
 * and two services on one host do not.
 */
export function defaultClusterDir(serviceName: string): string {
  const safe = serviceName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return join(tmpdir(), `nestjs-observability-${safe}-${process.ppid}`);
}

/**
 * Lets any process of a Node cluster or PM2 cluster answer a scrape for all
 * of them. Each process listens on a Unix socket in a shared directory and
 * answers with a snapshot of its metrics; the process that gets the scrape
 * (whichever the cluster hands the connection to) asks every other one,
 * adds the snapshots up (`mergeSnapshots`) and renders the result.
 *
 * No primary process is needed (PM2's daemon runs none of the app's code),
 * nothing leaves the host, and the directory is private to the user.
 */
export class ClusterPeers {
  private server: Server | undefined;
  private readonly path: string;
  private readonly own: string;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly settings: ClusterSettings,
  ) {
    this.own = `${settings.name ?? process.pid}.sock`;
    this.path = join(settings.dir, this.own);
  }

  /** Starts answering the other processes. */
  async start(): Promise<void> {
    mkdirSync(this.settings.dir, { recursive: true, mode: 0o700 });
    checkPrivate(this.settings.dir);
    removeFile(this.path); // a process of this pid that died before
    const server = createServer((sock) => {
      sock.on('error', () => undefined);
      takeSnapshot(this.registry).then(
        (snap) => sock.end(JSON.stringify(snap)),
        () => sock.destroy(),
      );
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    removeFile(this.path);
    try {
      rmdirSync(this.settings.dir); // the last process out removes the directory
    } catch {
      // others are still there
    }
  }

  /** This process's metrics and every other process's, added up. */
  async aggregate(): Promise<MetricsRegistry> {
    const [own, others] = await Promise.all([takeSnapshot(this.registry), this.gather()]);
    return mergeSnapshots([own, ...others], { ...this.registry.defaultLabels });
  }

  private async gather(): Promise<ProcessSnapshot[]> {
    let files: string[];
    try {
      files = readdirSync(this.settings.dir);
    } catch {
      return [];
    }
    const asks = files
      .filter((f) => f.endsWith('.sock') && f !== this.own)
      .map((f) => this.ask(join(this.settings.dir, f)));
    return (await Promise.all(asks)).filter((s): s is ProcessSnapshot => s !== undefined);
  }

  /** One other process's snapshot; undefined (and counted) when it does not answer in time. */
  private ask(path: string): Promise<ProcessSnapshot | undefined> {
    return new Promise((resolve) => {
      let data = '';
      let done = false;
      const finish = (snap: ProcessSnapshot | undefined, reason?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (reason !== undefined)
          this.registry.counter(CATALOG.collectorErrorsTotal).inc({ collector: 'cluster', reason });
        resolve(snap);
      };
      const sock = connect(path);
      const timer = setTimeout(() => finish(undefined, 'timeout'), this.settings.timeoutMs);
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (data += d));
      sock.on('end', () => {
        try {
          finish(JSON.parse(data) as ProcessSnapshot);
        } catch {
          finish(undefined, 'error');
        }
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        // a socket file nobody listens on: its process is gone
        if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') {
          removeFile(path);
          finish(undefined);
        } else finish(undefined, 'error');
      });
    });
  }
}

/**
 * The directory must be this user's and closed to others: in a shared temp
 * directory another user could otherwise have made it first, to read the
 * metrics or to answer with false ones.
 */
function checkPrivate(dir: string): void {
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new Error(
      `nestjs-observability: metrics.cluster directory ${dir} must be a directory of this user ` +
        `with mode 0700 (it is ${(st.mode & 0o777).toString(8)}, owner ${st.uid}); remove it or set metrics.cluster.dir`,
    );
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}
