import { createAccessCache, type SessionState } from '../../src/modules/auth/access-cache';
import type { AccessChannel, AccessInvalidation } from '../../src/modules/auth/access-channel';

/** A channel whose liveness and generation the test sets, as Redis going down and back would. */
function fakeChannel() {
  const handlers: ((i: AccessInvalidation) => void)[] = [];
  const downs: (() => void)[] = [];
  const state = { live: true, generation: 0 };
  const channel: AccessChannel = {
    live: () => state.live,
    generation: () => state.generation,
    publish: async (i) => handlers.forEach((h) => h(i)),
    onInvalidation: (h) => void handlers.push(h),
    onDown: (h) => void downs.push(h),
    settle: () => Promise.resolve(),
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return {
    channel,
    down() {
      state.live = false;
      state.generation += 1;
      downs.forEach((h) => h());
    },
    up() {
      state.live = true;
      state.generation += 1;
    },
  };
}

function counted(value: SessionState | null) {
  const loader = Object.assign(async () => {
    loader.calls += 1;
    return value;
  }, { calls: 0 });
  return loader;
}

describe('the access cache rules', () => {
  it('serves a cached session without reading the store, and never after its invalidation', async () => {
    const { channel } = fakeChannel();
    const cache = createAccessCache({ channel, maxEntries: 10, ttlMs: 60_000 });
    const load = counted({ userId: 'u1' });
    await cache.session('s1', load);
    await cache.session('s1', load);
    expect(load.calls).toBe(1);
    await cache.invalidate({ sessions: ['s1'] });
    const revoked = counted(null);
    expect(await cache.session('s1', revoked)).toBeNull();
    expect(revoked.calls).toBe(1);
    // A refused session is not cached either: the next check reads the store again.
    await cache.session('s1', revoked);
    expect(revoked.calls).toBe(2);
  });

  it('does not cache a store read that an invalidation overtook', async () => {
    const { channel } = fakeChannel();
    const cache = createAccessCache({ channel, maxEntries: 10, ttlMs: 60_000 });
    let release!: () => void;
    const slow = async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return { userId: 'u1' }; // read before the revocation landed
    };
    const inFlight = cache.session('s1', slow);
    await new Promise((resolve) => setImmediate(resolve));
    await cache.invalidate({ sessions: ['s1'] });
    release();
    expect(await inFlight).toEqual({ userId: 'u1' });
    const after = counted(null);
    expect(await cache.session('s1', after)).toBeNull();
    expect(after.calls).toBe(1);
  });

  it('reads the store while the channel is down, and trusts nothing cached before it went down once back', async () => {
    const fake = fakeChannel();
    const cache = createAccessCache({ channel: fake.channel, maxEntries: 10, ttlMs: 60_000 });
    const load = counted({ userId: 'u1' });
    await cache.session('s1', load);
    fake.down();
    await cache.session('s1', load);
    await cache.session('s1', load);
    expect(load.calls).toBe(3);
    fake.up();
    await cache.session('s1', load);
    expect(load.calls).toBe(4);
    await cache.session('s1', load);
    expect(load.calls).toBe(4);
  });

  it('is bounded (least recently used goes first) and entries end with the TTL', async () => {
    let now = 0;
    const { channel } = fakeChannel();
    const cache = createAccessCache({ channel, maxEntries: 2, ttlMs: 1_000, now: () => now });
    const load = counted({ userId: 'u1' });
    await cache.session('s1', load);
    await cache.session('s2', load);
    await cache.session('s1', load);
    await cache.session('s3', load); // evicts s2
    expect(load.calls).toBe(3);
    await cache.session('s1', load);
    expect(load.calls).toBe(3);
    await cache.session('s2', load);
    expect(load.calls).toBe(4);
    now = 1_001;
    await cache.session('s1', load);
    expect(load.calls).toBe(5);
  });
});
