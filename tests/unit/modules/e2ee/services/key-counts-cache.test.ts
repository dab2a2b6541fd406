/** KeyCountsCache: filled on first read, dropped by invalidate, never stores a read an invalidation overtook. */
import t from 'tap';
import {
  KeyCountsCache,
  type DeviceKeyCounts,
} from '../../../../../modules/e2ee/services/key-counts-cache.js';

const counts = (n: number, fallback: string[] = []): DeviceKeyCounts => ({
  oneTimeKeyCounts: { signed_curve25519: n },
  unusedFallbackKeyTypes: fallback,
});

/** A loader reading a mutable "table", counting reads; `hold()` makes the next reads wait until released. */
function fakeTable(initial: number) {
  const state = { n: initial, reads: 0, gate: undefined as Promise<void> | undefined };
  const load = async (): Promise<DeviceKeyCounts> => {
    state.reads++;
    const seen = state.n; // what the read saw, as a query would
    if (state.gate) await state.gate;
    return counts(seen);
  };
  const hold = (): (() => void) => {
    let release!: () => void;
    state.gate = new Promise<void>((r) => (release = r));
    return () => {
      state.gate = undefined;
      release();
    };
  };
  return { state, load, hold };
}

void t.test('the first read loads, the next ones come from memory', async (t) => {
  const table = fakeTable(3);
  const cache = new KeyCountsCache({ load: table.load });
  t.same(await cache.get('@a:x', 'D'), counts(3));
  t.same(await cache.get('@a:x', 'D'), counts(3));
  t.equal(table.state.reads, 1);
  t.same(await cache.get('@a:x', 'OTHER'), counts(3));
  t.equal(table.state.reads, 2, 'per device');
});

void t.test('concurrent readers share one read', async (t) => {
  const table = fakeTable(1);
  const cache = new KeyCountsCache({ load: table.load });
  const release = table.hold();
  const reads = Promise.all([cache.get('@a:x', 'D'), cache.get('@a:x', 'D'), cache.get('@a:x', 'D')]);
  release();
  t.same(await reads, [counts(1), counts(1), counts(1)]);
  t.equal(table.state.reads, 1);
});

void t.test('invalidate makes the next read load the new value', async (t) => {
  const table = fakeTable(5);
  const cache = new KeyCountsCache({ load: table.load });
  await cache.get('@a:x', 'D');
  table.state.n = 4;
  t.same(await cache.get('@a:x', 'D'), counts(5), 'not invalidated yet');
  cache.invalidate('@a:x', 'D');
  t.same(await cache.get('@a:x', 'D'), counts(4));
  t.equal(table.state.reads, 2);
});

void t.test('a read overtaken by an invalidation answers but is not stored', async (t) => {
  const table = fakeTable(5);
  const cache = new KeyCountsCache({ load: table.load });
  const release = table.hold();
  const before = cache.get('@a:x', 'D'); // reads 5, then waits
  table.state.n = 4; // a write commits...
  cache.invalidate('@a:x', 'D'); // ...and invalidates while the read is under way
  const after = cache.get('@a:x', 'D'); // a reader that came after the write must not join the old read
  release();
  t.same(await before, counts(5), 'the old read still answers its caller');
  t.same(await after, counts(4), 'the new reader sees the write');
  t.same(await cache.get('@a:x', 'D'), counts(4), 'and the stale value was never stored');
  t.equal(table.state.reads, 2);
});

void t.test('a stale read finishing last does not overwrite the fresh entry', async (t) => {
  const table = fakeTable(5);
  let releaseOld!: () => void;
  const oldGate = new Promise<void>((r) => (releaseOld = r));
  let first = true;
  const cache = new KeyCountsCache({
    load: async () => {
      if (!first) return table.load();
      first = false;
      const seen = table.state.n;
      await oldGate;
      return counts(seen);
    },
  });
  const stale = cache.get('@a:x', 'D');
  table.state.n = 4;
  cache.invalidate('@a:x', 'D');
  t.same(await cache.get('@a:x', 'D'), counts(4), 'fresh read done and stored');
  releaseOld();
  t.same(await stale, counts(5));
  t.same(await cache.get('@a:x', 'D'), counts(4), 'still the fresh value');
  t.equal(table.state.reads, 1, 'no further read: the fresh value was kept');
});

void t.test('a failed read is neither stored nor kept pending', async (t) => {
  let fail = true;
  let reads = 0;
  const cache = new KeyCountsCache({
    load: async () => {
      reads++;
      if (fail) throw new Error('database down');
      return counts(2);
    },
  });
  await t.rejects(cache.get('@a:x', 'D'), /database down/);
  fail = false;
  t.same(await cache.get('@a:x', 'D'), counts(2));
  t.equal(reads, 2);
});

void t.test('a loader throwing synchronously does not leave a pending read behind', async (t) => {
  let fail = true;
  const load = (): Promise<DeviceKeyCounts> => {
    if (fail) throw new Error('boom');
    return Promise.resolve(counts(1));
  };
  const cache = new KeyCountsCache({ load });
  await t.rejects(cache.get('@a:x', 'D'), /boom/);
  fail = false;
  t.same(await cache.get('@a:x', 'D'), counts(1));
});

void t.test('values handed out cannot change the cached entry', async (t) => {
  const cache = new KeyCountsCache({ load: async () => counts(7, ['signed_curve25519']) });
  const got = await cache.get('@a:x', 'D');
  t.ok(Object.isFrozen(got.oneTimeKeyCounts) && Object.isFrozen(got.unusedFallbackKeyTypes));
  t.throws(() => {
    (got.oneTimeKeyCounts as Record<string, number>)['signed_curve25519'] = 0;
  });
  t.same(await cache.get('@a:x', 'D'), counts(7, ['signed_curve25519']));
});

void t.test('the cache is bounded (least recently used goes) and entries expire', async (t) => {
  const table = fakeTable(1);
  const cache = new KeyCountsCache({ load: table.load, max: 2 });
  await cache.get('@a:x', 'A');
  await cache.get('@a:x', 'B');
  await cache.get('@a:x', 'A');
  await cache.get('@a:x', 'C'); // evicts B
  t.equal(cache.size, 2);
  const reads = table.state.reads;
  await cache.get('@a:x', 'A');
  t.equal(table.state.reads, reads, 'A is still there');
  await cache.get('@a:x', 'B');
  t.equal(table.state.reads, reads + 1, 'B was evicted');

  const short = new KeyCountsCache({ load: table.load, ttlMs: 20 });
  await short.get('@a:x', 'D');
  const before = table.state.reads;
  await new Promise((r) => setTimeout(r, 50));
  await short.get('@a:x', 'D');
  t.equal(table.state.reads, before + 1, 'reloaded after the TTL');
});
