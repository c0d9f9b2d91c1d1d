import { StatusTable } from './status-table.js';

describe('StatusTable', () => {
  it('gives back what was set for each status, past the listed ones too', () => {
    const t = new StatusTable<string>();
    const statuses = [200, 404, 500, 201, 204, 301, 302, 400, 401, 403, 499, 503, 999, 100];
    for (const s of statuses) t.set(s, `v${s}`);
    for (const s of statuses) expect(t.get(s)).toBe(`v${s}`);
    expect(t.get(418)).toBeUndefined();
  });

  it('replaces a value in place, listed or not', () => {
    const t = new StatusTable<number>();
    for (let s = 200; s < 220; s++) t.set(s, s);
    t.set(201, -1);
    t.set(219, -2);
    expect(t.get(201)).toBe(-1);
    expect(t.get(219)).toBe(-2);
    expect(t.get(218)).toBe(218);
  });
});
