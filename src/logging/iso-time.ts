let lastMs = -1;
let lastIso = '';
let lastSecond = -1;
/** `YYYY-MM-DDTHH:MM:SS.` of `lastSecond`. */
let secondPrefix = '';
/** `000Z` … `999Z`: the tail of a timestamp, one string per millisecond. */
export const MS_TAIL = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z`);

/**
 * The current time as ISO 8601 (UTC, milliseconds). Formatting a date is the
 * costly part of a short log line's timestamp, so it is done once a second:
 * within a second only the milliseconds change, and within a millisecond
 * the whole string is reused.
 */
export function isoNow(): string {
  const now = Date.now();
  if (now === lastMs) return lastIso;
  lastMs = now;
  const ms = now % 1000;
  const second = now - ms;
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = isoSecond(second);
  }
  lastIso = secondPrefix + MS_TAIL[ms]!;
  return lastIso;
}

/** `YYYY-MM-DDTHH:MM:SS.` of a whole second (milliseconds since the epoch). */
export function isoSecond(second: number): string {
  return new Date(second).toISOString().slice(0, 20);
}
