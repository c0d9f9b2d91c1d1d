/**
 * Wall-clock time from a `performance.now()` reading the caller has taken
 * anyway. `Date.now()` is a call into V8's runtime (~190 instructions), and a
 * request needed two (its access line, its exemplar); adding an offset costs
 * nothing. The offset is taken from `Date.now()` again once a second of
 * monotonic time, so a step of the system clock (NTP, a resumed VM) shows in
 * the timestamps within a second, as it would with `Date.now()`.
 */
export class WallClock {
  private offset = 0;
  private resyncAt = -Infinity;

  constructor(private readonly dateNow: () => number = Date.now) {}

  /** Whole milliseconds since the epoch at `t`, a `performance.now()` reading. */
  at(t: number): number {
    if (!(t < this.resyncAt)) {
      this.offset = this.dateNow() - t;
      this.resyncAt = t + 1000;
    }
    return Math.floor(this.offset + t);
  }
}
