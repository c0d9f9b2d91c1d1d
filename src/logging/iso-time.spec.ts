import { isoNow } from './iso-time.js';

describe('isoNow', () => {
  afterEach(() => jest.useRealTimers());

  it.each([
    Date.UTC(2026, 10, 30, 18, 13, 2, 0),
    Date.UTC(2026, 10, 30, 18, 13, 2, 7),
    Date.UTC(2026, 10, 30, 18, 13, 2, 42),
    Date.UTC(2026, 10, 30, 18, 13, 2, 999),
    Date.UTC(2026, 11, 31, 23, 59, 59, 999),
    Date.UTC(2027, 0, 1, 0, 0, 0, 1),
  ])('formats %p exactly as toISOString', (t) => {
    jest.useFakeTimers({ now: t });
    expect(isoNow()).toBe(new Date(t).toISOString());
  });

  it('follows the clock across milliseconds and seconds', () => {
    const t = Date.UTC(2026, 10, 30, 18, 13, 2, 998);
    jest.useFakeTimers({ now: t });
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push(isoNow());
      jest.setSystemTime(t + i + 1);
    }
    expect(seen).toEqual([0, 1, 2, 3].map((i) => new Date(t + i).toISOString()));
  });
});
