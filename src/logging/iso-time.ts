let lastMs = -1;
let lastIso = '';

/**
 * The current time as ISO 8601. Under load many lines share a millisecond, so
 * the formatted string is reused within it (formatting costs more than the
 * rest of a short log line's timestamp handling).
 */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
