import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogWriter } from './log-writer.js';

class Counts {
  errors = new Map<string, number>();
  overflow = 0;
  readonly events = {
    onWriteError: (code: string, lines: number) =>
      this.errors.set(code, (this.errors.get(code) ?? 0) + lines),
    onOverflow: (lines: number) => (this.overflow += lines),
  };
}

const line = (i: number, pad = 40) => `{"n":${i},"pad":"${'x'.repeat(pad)}"}\n`;

describe('LogWriter', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nestobs-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every line in order, in batches, and appends lines that come after close', async () => {
    const file = join(dir, 'sub', 'app.log');
    const counts = new Counts();
    const w = new LogWriter({ target: file, sync: false, bufferLimit: 1 << 20 }, counts.events);
    const lines = Array.from({ length: 500 }, (_, i) => line(i));
    for (const l of lines) w.write(l);
    await w.close();
    w.write(line(500));
    expect(readFileSync(file, 'utf8')).toBe(lines.join('') + line(500));
    expect(counts.errors.size).toBe(0);
  });

  it('writes a partial batch on its timer', async () => {
    const file = join(dir, 'app.log');
    const w = new LogWriter(
      { target: file, sync: false, bufferLimit: 1 << 20, intervalMs: 20 },
      new Counts().events,
    );
    w.write(line(1));
    expect(readFileSync(file, 'utf8')).toBe('');
    await new Promise((r) => setTimeout(r, 150));
    expect(readFileSync(file, 'utf8')).toBe(line(1));
    await w.close();
  });

  it('in sync mode, a line is on disk when write returns', async () => {
    const file = join(dir, 'app.log');
    const w = new LogWriter(
      { target: file, sync: true, bufferLimit: 1 << 20 },
      new Counts().events,
    );
    w.write(line(1));
    expect(readFileSync(file, 'utf8')).toBe(line(1));
    await w.close();
  });

  it.each([false, true])(
    'on a full disk (/dev/full, sync %s) drops and counts lines, never throws',
    async (sync) => {
      const counts = new Counts();
      const w = new LogWriter({ target: '/dev/full', sync, bufferLimit: 1 << 20 }, counts.events);
      for (let i = 0; i < 300; i++) w.write(line(i));
      await new Promise<void>((r) => w.flush(() => r()));
      w.flushSync();
      await w.close();
      expect(counts.errors.get('ENOSPC')).toBe(300);
      expect(counts.overflow).toBe(0);
    },
  );

  it('holds at most bufferLimit characters for a reader that stops reading, and counts the rest', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // the reader end first (non-blocking), so the writer's open does not wait
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const counts = new Counts();
    const limit = 64 * 1024;
    const w = new LogWriter({ target: fifo, sync: false, bufferLimit: limit }, counts.events);
    const total = 20_000; // ~1 MB: far more than the pipe (64 KB) and the limit hold
    for (let i = 0; i < total; i++) {
      w.write(line(i));
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(counts.overflow).toBeGreaterThan(0);
    // now read everything the writer still gets through
    let got = '';
    const buf = Buffer.alloc(1 << 16);
    const closing = w.close(5000);
    let done = false;
    void closing.then(() => (done = true));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      let n = 0;
      try {
        n = readSync(reader, buf);
      } catch {
        n = 0; // EAGAIN: empty for now
      }
      if (n > 0) got += buf.toString('utf8', 0, n);
      else if (done) break;
      else await new Promise((r) => setTimeout(r, 5));
    }
    closeSync(reader);
    const read = got.split('\n').filter((l) => l !== '');
    for (const l of read) expect(() => JSON.parse(l)).not.toThrow();
    // every line is either delivered whole or counted as dropped
    expect(read.length + counts.overflow).toBe(total);
    expect(read.length).toBeGreaterThan(0);
  }, 20_000);
});
