import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './prometheus.js';

/** Debian's PostgreSQL server binaries (package postgresql). */
function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort() : [];
  const dir = versions.length ? join(base, versions[versions.length - 1]!, 'bin') : '';
  if (!dir || !existsSync(join(dir, 'postgres')))
    throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)');
  return dir;
}

/**
 * As root, the server must run as another user (postgres refuses root).
 * setpriv execs (runuser forks and would stand between us and the signals).
 */
const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', '--', cmd, ...args]]
    : [cmd, args];

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, trust auth,
 * a free loopback port) that the test can stop and start again.
 */
export class OwnPostgres {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
  ) {}

  /** `postgres://…` URL of the server's `postgres` database (with a password it does not check). */
  get url(): string {
    return `postgres://postgres:pg-secret-pw@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<OwnPostgres> {
    const bin = pgBin();
    const dir = mkdtempSync(join(tmpdir(), 'nestobs-pg-'));
    chmodSync(dir, 0o777);
    const data = join(dir, 'data');
    const [cmd, args] = asPostgres(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
    ]);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout}`);
    return new OwnPostgres(await freePort(), dir, bin);
  }

  async start(): Promise<void> {
    const [cmd, args] = asPostgres(join(this.bin, 'postgres'), [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.port),
      '-h',
      '127.0.0.1',
      '-k',
      this.dir,
      '-c',
      'fsync=off',
    ]);
    this.proc = spawn(cmd, args, { stdio: 'ignore' });
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const ready = spawnSync(join(this.bin, 'pg_isready'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(this.port),
      ]);
      if (ready.status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`own PostgreSQL on ${this.port} did not start`);
  }

  /** Stops the server at once (SIGQUIT: immediate shutdown, as a crash would). */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGQUIT');
    await exited;
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
