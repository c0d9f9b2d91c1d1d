import type { DestinationStream } from 'pino';

/** What the batcher needs of pino's destination (a SonicBoom). */
export interface FlushableDestination extends DestinationStream {
  flush?(cb?: (err?: Error) => void): void;
  flushSync?(): void;
}

/**
 * Collects log lines into batches of about `limit` characters before they go
 * to pino's destination, which then makes one write call per batch.
 *
 * Why not SonicBoom's own `minLength` buffering: on every write it measures
 * the UTF-8 length of its whole pending buffer (flattening the string first),
 * so each line cost grew with the buffer — about 9,000 instructions per line
 * at 4 KB (callgrind). Here a line costs a string append; the destination
 * sees one write per batch.
 *
 * Flushed when a batch is full, every `intervalMs`, on `flush()`, and before
 * the process exits (its 'exit' listener runs before pino's own, which then
 * flushes the destination synchronously), so no line is lost.
 */
export class LineBatcher implements FlushableDestination {
  private pending = '';
  private stopped = false;
  private readonly timer: NodeJS.Timeout;
  private readonly ref = new WeakRef(this);

  constructor(
    private readonly dest: FlushableDestination,
    private readonly limit = 4096,
    intervalMs = 100,
  ) {
    const ref = this.ref;
    this.timer = setInterval(() => ref.deref()?.push(), intervalMs);
    this.timer.unref();
    watchExit(ref);
  }

  write(line: string): boolean {
    if (this.stopped) {
      // after close: straight to the destination, which pino flushes at exit
      this.dest.write(line);
      return true;
    }
    this.pending += line;
    if (this.pending.length >= this.limit) this.push();
    return true;
  }

  /** Hands the pending lines to the destination. */
  push(): void {
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.dest.write(batch);
  }

  flush(cb?: (err?: Error) => void): void {
    this.push();
    if (this.dest.flush) this.dest.flush(cb);
    else cb?.();
  }

  flushSync(): void {
    this.push();
    this.dest.flushSync?.();
  }

  /**
   * Pushes what is pending and stops batching: later lines go straight to
   * the destination (which stays open).
   */
  stop(): void {
    this.push();
    this.stopped = true;
    clearInterval(this.timer);
    live.delete(this.ref);
  }
}

/** Batchers to push at exit, held weakly: one process listener for all of them. */
const live = new Set<WeakRef<LineBatcher>>();
let listening = false;

function watchExit(ref: WeakRef<LineBatcher>): void {
  live.add(ref);
  if (listening) return;
  listening = true;
  // prepended: runs before pino's own exit hook flushes the destination
  const pushAll = (): void => {
    for (const r of live) {
      const b = r.deref();
      if (b === undefined) live.delete(r);
      else b.push();
    }
  };
  process.prependListener('exit', pushAll);
  process.prependListener('beforeExit', pushAll);
}
