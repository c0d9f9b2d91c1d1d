import { performance } from 'node:perf_hooks';
import { WallClock } from './wall-clock.js';

describe('WallClock', () => {
  it('agrees with Date.now() to the millisecond', () => {
    const clock = new WallClock();
    for (let i = 0; i < 50; i++) {
      const before = Date.now();
      const t = clock.at(performance.now());
      const after = Date.now();
      expect(t).toBeGreaterThanOrEqual(before - 1);
      expect(t).toBeLessThanOrEqual(after);
      expect(Number.isInteger(t)).toBe(true);
    }
  });

  it('adds the offset within a second and reads the wall clock again after one', () => {
    let wall = 1_700_000_000_000;
    let reads = 0;
    const clock = new WallClock(() => {
      reads++;
      return wall;
    });
    expect(clock.at(500.25)).toBe(wall);
    expect(clock.at(900.75)).toBe(wall + 400);
    expect(reads).toBe(1);
    // the system clock steps back an hour: seen at the next second, not before
    wall -= 3_600_000;
    expect(clock.at(1_499)).toBe(wall + 3_600_000 + 998);
    expect(clock.at(1_500.25)).toBe(wall);
    expect(reads).toBe(2);
  });

  it('survives a NaN reading without sticking to it', () => {
    const clock = new WallClock(() => 1_000_000);
    expect(clock.at(Number.NaN)).toBeNaN();
    expect(clock.at(10)).toBe(1_000_000);
  });
});
