import { performance } from 'node:perf_hooks';
import { appendFileSync, closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** What happened to lines the destination did not take. */
export interface LogWriterEvents {
  /** A write failed (EPIPE, ENOSPC, EBADF, ...): its lines were dropped. */
  onWriteError(code: string, lines: number): void;
  /** Lines dropped because `bufferLimit` characters were already waiting. */
  onOverflow(lines: number): void;
}

export interface LogWriterSettings {
  /** `stdout`, `stderr` or a file path (appended to; its directory is created). */
  target: string;
  /** Write every line before the log call returns. */
  sync: boolean;
  /** Characters held while the destination is slow or failing; later lines are dropped and counted. */
  bufferLimit: number;
  /** Batch size in characters (one write call per batch). */
  batchChars?: number;
  /** A partial batch is written after this long. */
  intervalMs?: number;
}

/** How long a synchronous write waits in all for a destination that says EAGAIN. */
const SYNC_RETRY_MS = 1000;
/** A write under way this long means the reader has stopped reading. */
const STUCK_MS = 1000;

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

const newlines = (s: string | Uint8Array): number => {
  let n = 0;
  if (typeof s === 'string') {
    for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  } else {
    for (let i = s.indexOf(10); i !== -1; i = s.indexOf(10, i + 1)) n++;
  }
  return n;
};

const codeOf = (err: unknown): string =>
  typeof (err as { code?: unknown })?.code === 'string'
    ? (err as { code: string }).code
    : 'UNKNOWN';

/**
 * The JSON logger's destination: pino hands it one line per call; lines are
 * batched (one `write(2)` per batch of about 4 KB or every 100 ms) and
 * written without blocking the event loop.
 *
 * Why not pino's SonicBoom: a failing destination must never stop the
 * service nor grow memory without bound. SonicBoom re-emits write errors
 * other than EPIPE (an 'error' nobody listens to crashes the process), keeps
 * every unwritten line in memory, and its exit-time flushSync() retries a
 * failing write forever (a full disk hangs the exit). Here a failed write
 * drops its batch and counts it, at most `bufferLimit` characters wait, and
 * the exit flush gives up after one failed attempt (or a second of EAGAIN).
 * Its per-line cost was also higher (it measured the UTF-8 length of its
 * whole pending buffer on every line: ~9,000 instructions a line at 4 KB).
 */
export class LogWriter {
  private fd: number;
  private pending = '';
  private writing = false;
  /** When the write under way started (performance.now()). */
  private writingSince = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly ref = new WeakRef(this);
  private readonly batchChars: number;
  private readonly ownsFd: boolean;

  constructor(
    private readonly settings: LogWriterSettings,
    private readonly events: LogWriterEvents,
  ) {
    const t = settings.target;
    this.ownsFd = t !== 'stdout' && t !== 'stderr';
    if (this.ownsFd) mkdirSync(dirname(t), { recursive: true });
    this.fd = t === 'stdout' ? 1 : t === 'stderr' ? 2 : openSync(t, 'a');
    this.batchChars = settings.batchChars ?? 4096;
    if (!settings.sync) {
      const ref = this.ref;
      this.timer = setInterval(() => ref.deref()?.push(), settings.intervalMs ?? 100);
      this.timer.unref();
      watchExit(ref);
    }
  }

  /** pino's destination interface: one line (with its newline) per call. */
  write(line: string): boolean {
    if (this.closed && this.ownsFd) {
      // a line after shutdown (a request that finished late): straight to the file
      this.writeNow(line, (s) => appendFileSync(this.settings.target, s));
      return true;
    }
    if (this.settings.sync) {
      this.writeNow(line, (s) => this.writeAllSync(s));
      return true;
    }
    if (this.pending.length >= this.settings.bufferLimit) {
      this.events.onOverflow(newlines(line));
      return true;
    }
    this.pending += line;
    if (this.pending.length >= this.batchChars) this.push();
    return true;
  }

  /** Starts writing what is pending, unless a write is already under way. */
  push(): void {
    if (this.writing || this.pending === '' || this.fd < 0) return;
    const batch = Buffer.from(this.pending);
    this.pending = '';
    this.writing = true;
    this.writingSince = performance.now();
    this.writeAsync(batch);
  }

  private writeAsync(buf: Buffer): void {
    write(this.fd, buf, 0, buf.length, null, (err, n) => {
      if (err) {
        const code = codeOf(err);
        if (code === 'EAGAIN' || code === 'EBUSY') {
          // the reader is behind: try the same bytes again shortly
          setTimeout(() => this.writeAsync(buf), 10).unref();
          return;
        }
        this.events.onWriteError(code, newlines(buf));
        // the next attempt waits for the next batch or the timer, so a
        // destination that keeps failing costs one failed write per batch
        return this.idle();
      }
      if (n < buf.length) return this.writeAsync(buf.subarray(n));
      this.idle();
      if (this.pending.length >= this.batchChars) this.push();
    });
  }

  private idle(): void {
    this.writing = false;
    if (this.pending !== '' && this.idleWaiters.length > 0) return this.push();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private writeNow(s: string, how: (s: string) => void): void {
    try {
      how(s);
    } catch (err) {
      this.events.onWriteError(codeOf(err), newlines(s));
    }
  }

  /** Writes all of `s` synchronously: EAGAIN retried for up to a second, any other error thrown. */
  private writeAllSync(s: string): void {
    let buf = Buffer.from(s);
    const giveUp = Date.now() + SYNC_RETRY_MS;
    while (buf.length > 0) {
      try {
        buf = buf.subarray(writeSync(this.fd, buf));
      } catch (err) {
        const code = codeOf(err);
        if ((code !== 'EAGAIN' && code !== 'EBUSY') || Date.now() > giveUp) throw err;
        sleep(1);
      }
    }
  }

  /**
   * Writes what is pending synchronously (at exit: no event loop is left).
   * Not when a write has been under way for a second: the reader has stopped
   * reading, and a synchronous write to a full pipe could block the exit
   * forever; those lines are counted as dropped (`stuck`).
   */
  flushSync(): void {
    if (this.pending === '' || this.fd < 0) return;
    const s = this.pending;
    this.pending = '';
    if (this.writing && performance.now() - this.writingSince > STUCK_MS) {
      this.events.onWriteError('stuck', newlines(s));
      return;
    }
    this.writeNow(s, (x) => this.writeAllSync(x));
  }

  /** Calls back once everything pending has been written (or dropped). */
  flush(cb?: (err?: Error) => void): void {
    if (!this.writing && this.pending === '') {
      cb?.();
      return;
    }
    if (cb) this.idleWaiters.push(() => cb());
    this.push();
  }

  /**
   * Writes what is pending and waits for it, at most `timeoutMs` (a reader
   * that never reads must not hold up shutdown). Later lines still reach the
   * destination. Files are closed; a later line is appended on its own.
   */
  close(timeoutMs = 2000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.finishClose();
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      timer.unref();
      this.flush(finish);
    });
  }

  private finishClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.ownsFd) return;
    this.flushSync();
    if (this.timer) clearInterval(this.timer);
    live.delete(this.ref);
    const fd = this.fd;
    this.fd = -1;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }
}

/** Writers to flush at exit, held weakly: one process listener for all of them. */
const live = new Set<WeakRef<LogWriter>>();
let listening = false;

function watchExit(ref: WeakRef<LogWriter>): void {
  live.add(ref);
  if (listening) return;
  listening = true;
  process.prependListener('exit', () => {
    for (const r of live) r.deref()?.flushSync();
  });
  process.prependListener('beforeExit', () => {
    for (const r of live) {
      const w = r.deref();
      if (w === undefined) live.delete(r);
      else w.push();
    }
  });
}
