import { LastSyncStore, MAX_LOCAL_ORGS } from './last-sync-store.js';

describe('LastSyncStore', () => {
  it('keeps the later time of an organization', () => {
    const store = new LastSyncStore(undefined, 'k', () => undefined);
    store.record('acme', 2000);
    store.record('acme', 1000);
    expect(store.local.get('acme')).toBe(2000);
  });

  it(`remembers at most ${MAX_LOCAL_ORGS} organizations, forgetting the least recently synced`, () => {
    const store = new LastSyncStore(undefined, 'k', () => undefined);
    store.record('first', 1);
    store.record('second', 2);
    for (let i = 0; i < MAX_LOCAL_ORGS + 500; i++) {
      store.record(`org-${i}`, 10 + i);
      if (i === MAX_LOCAL_ORGS) store.record('second', 5); // synced again: now among the recent
    }
    expect(store.local.size).toBe(MAX_LOCAL_ORGS);
    expect(store.local.has('first')).toBe(false);
    expect(store.local.get('second')).toBe(5);
    expect(store.local.has(`org-${MAX_LOCAL_ORGS + 499}`)).toBe(true);
  });
});
