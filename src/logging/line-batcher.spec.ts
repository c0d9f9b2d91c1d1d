import { LineBatcher } from './line-batcher.js';

class Sink {
  writes: string[] = [];
  flushed = 0;
  write(s: string): void {
    this.writes.push(s);
  }
  flushSync(): void {
    this.flushed++;
  }
}

describe('LineBatcher', () => {
  it('passes lines on in order, one write per full batch', () => {
    const sink = new Sink();
    const b = new LineBatcher(sink, 100, 60_000);
    const lines = Array.from({ length: 25 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(10)}"}\n`);
    for (const l of lines) b.write(l);
    expect(sink.writes.length).toBeGreaterThan(0);
    expect(sink.writes.length).toBeLessThan(lines.length);
    b.stop();
    expect(sink.writes.join('')).toBe(lines.join(''));
  });

  it('pushes a partial batch on the timer', async () => {
    const sink = new Sink();
    const b = new LineBatcher(sink, 4096, 20);
    b.write('{"a":1}\n');
    expect(sink.writes).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(sink.writes).toEqual(['{"a":1}\n']);
    b.stop();
  });

  it('flushSync pushes what is pending, then flushes the destination', () => {
    const sink = new Sink();
    const b = new LineBatcher(sink, 4096, 60_000);
    b.write('x\n');
    b.flushSync();
    expect(sink.writes).toEqual(['x\n']);
    expect(sink.flushed).toBe(1);
    b.stop();
  });

  it('after stop, lines go straight to the destination (none held back)', () => {
    const sink = new Sink();
    const b = new LineBatcher(sink, 4096, 60_000);
    b.write('before\n');
    b.stop();
    b.write('after\n');
    expect(sink.writes).toEqual(['before\n', 'after\n']);
  });

  it("pushes pending lines on the process's exit, before pino's hook runs", () => {
    const sink = new Sink();
    const b = new LineBatcher(sink, 4096, 60_000);
    b.write('last words\n');
    process.emit('exit', 0);
    expect(sink.writes).toEqual(['last words\n']);
    b.stop();
  });
});
