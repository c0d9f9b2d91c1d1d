/** A pino destination that keeps every line, parsed (tests only). */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];

  write(chunk: string): boolean {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    return true;
  }

  /** Lines whose fields include `match`. */
  where(match: Record<string, unknown>): Record<string, unknown>[] {
    return this.lines.filter((l) => Object.entries(match).every(([k, v]) => l[k] === v));
  }

  clear(): void {
    this.lines.length = 0;
    this.raw.length = 0;
  }
}
