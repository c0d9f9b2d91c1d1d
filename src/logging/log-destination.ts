import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import { CATALOG } from '../metrics/catalog.js';
import type { CounterFamily } from '../metrics/families.js';
import type { MetricsRegistry } from '../metrics/metrics-registry.js';
import type { DestinationSettings, OwnedDestination } from './json-logger.js';
import { LogWriter } from './log-writer.js';

/**
 * Counts lines the destination did not take, by reason (the write's error
 * code, or `buffer_full`), in `CATALOG.logLinesDroppedTotal`. The destination
 * exists before the registry: counts made before `attach` are kept.
 */
class DroppedLines {
  private family: CounterFamily<'reason'> | undefined;
  private readonly early = new Map<string, number>();
  private readonly warned = new Set<string>();

  constructor(private readonly where: string) {}

  attach(registry: MetricsRegistry): void {
    this.family = registry.counter(CATALOG.logLinesDroppedTotal);
    for (const [reason, n] of this.early) this.family.with({ reason }).value += n;
    this.early.clear();
  }

  add(reason: string, lines: number): void {
    if (this.family) this.family.with({ reason }).value += lines;
    else this.early.set(reason, (this.early.get(reason) ?? 0) + lines);
    if (this.warned.has(reason)) return;
    this.warned.add(reason);
    // Said once per reason, on stderr: the log destination is what failed.
    const line = `nestjs-observability: log lines to ${this.where} are being dropped (${reason}); counted in ${CATALOG.logLinesDroppedTotal.name}\n`;
    try {
      writeSync(this.where === 'stderr' ? 1 : 2, line);
    } catch {
      // nowhere left to say it; the counter still says it
    }
  }
}

/** Opens the JSON logger's destination (see LogWriter for why not SonicBoom). */
export function openDestination(logging: DestinationSettings): OwnedDestination {
  const dest = logging.destination;
  const dropped = new DroppedLines(typeof dest === 'string' ? dest : 'the log stream');
  if (typeof dest !== 'string') return ownStream(dest, dropped);
  const writer = new LogWriter(
    { target: dest, sync: logging.sync, bufferLimit: logging.bufferLimit },
    {
      onWriteError: (code, lines) => dropped.add(code, lines),
      onOverflow: (lines) => dropped.add('buffer_full', lines),
    },
  );
  return { stream: writer, close: () => writer.close(), attach: (r) => dropped.attach(r) };
}

/**
 * An app's own destination stream, guarded: a `write` that throws or an
 * 'error' it emits costs that line (counted), never the log call, the
 * request around it, or the process.
 */
function ownStream(dest: DestinationStream, dropped: DroppedLines): OwnedDestination {
  const s = dest as DestinationStream & {
    on?: (event: string, fn: (err: unknown) => void) => unknown;
    flush?: (cb?: (err?: Error) => void) => void;
    flushSync?: () => void;
  };
  const codeOf = (err: unknown) => String((err as { code?: unknown })?.code ?? 'stream_error');
  if (typeof s.on === 'function') s.on('error', (err: unknown) => dropped.add(codeOf(err), 1));
  const owned = { close: async () => undefined, attach: (r: MetricsRegistry) => dropped.attach(r) };
  // pino.multistream() and the like read what pino sets on the stream itself
  // (lastLevel, lastMsg...): passed as they are
  if ((s as unknown as Record<symbol, unknown>)[Symbol.for('pino.metadata')])
    return { stream: s, ...owned };
  const guarded: DestinationStream & { flush?: unknown; flushSync?: unknown } = {
    write(line: string) {
      try {
        s.write(line);
      } catch (err) {
        dropped.add(codeOf(err), 1);
      }
    },
  };
  if (typeof s.flush === 'function') guarded.flush = s.flush.bind(s);
  if (typeof s.flushSync === 'function') guarded.flushSync = s.flushSync.bind(s);
  return { stream: guarded, ...owned };
}
