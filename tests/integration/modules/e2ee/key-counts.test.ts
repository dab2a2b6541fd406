/**
 * /sync's device_one_time_keys_count and device_unused_fallback_key_types come from memory, and stay exact
 * through uploads, claims by other users, fallback key use and device deletion; on both engines.
 */
import type { Knex } from 'knex';
import t from 'tap';
import { makeUser } from '../../../helpers/fixtures.js';
import type { TestServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { makeDevice, startE2eeServer, syncOnce, TestDevice } from './e2ee-fixtures.js';

/** Counts the queries touching the one-time and fallback key tables while `fn` runs. */
async function keyTableQueries(server: TestServer, fn: () => Promise<void>): Promise<number> {
  const db: Knex = server.kernel.db;
  let n = 0;
  const listener = (q: { sql?: string }) => {
    if (q.sql !== undefined && /e2ee_(one_time|fallback)_keys/.test(q.sql)) n++;
  };
  db.on('query', listener);
  try {
    await fn();
  } finally {
    db.removeListener('query', listener);
  }
  return n;
}

void withAllDatabases(t, async (t, database) => {
  const server = await startE2eeServer(t, database);
  const claim = (token: string, dev: TestDevice, algorithm = 'signed_curve25519') =>
    server.request('POST', '/_matrix/client/v3/keys/claim', {
      token,
      body: { one_time_keys: { [dev.userId]: { [dev.deviceId]: algorithm } } },
    });
  const keysOf = async (dev: TestDevice, since?: string) => {
    const body = await syncOnce(server, dev.user.accessToken, since);
    return {
      next: body.next_batch as string,
      counts: body.device_one_time_keys_count as Record<string, number>,
      fallback: body.device_unused_fallback_key_types as string[],
    };
  };

  await t.test('repeated syncs do not query the key tables', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, {
      device_keys: dev.deviceKeys(),
      one_time_keys: dev.oneTimeKeys(3),
      fallback_keys: dev.oneTimeKeys(1, { fallback: true }),
    });
    const { next } = await keysOf(dev);
    let since = next;
    const queries = await keyTableQueries(server, async () => {
      for (let i = 0; i < 5; i++) {
        const got = await keysOf(dev, since);
        t.same(got.counts, { signed_curve25519: 3 });
        t.same(got.fallback, ['signed_curve25519']);
        since = got.next;
      }
    });
    t.equal(queries, 0, 'five incremental syncs, no query on e2ee_one_time_keys or e2ee_fallback_keys');
    const cold = await makeDevice(server);
    t.ok((await keyTableQueries(server, () => keysOf(cold).then(() => undefined))) > 0, 'a first sync reads');
  });

  await t.test('upload, claims by another user over HTTP, fallback use: every sync exact', async (t) => {
    const dev = await makeDevice(server);
    const bob = await makeUser(server);
    const up = await dev.upload(server, { device_keys: dev.deviceKeys(), one_time_keys: dev.oneTimeKeys(3) });
    t.same(up.body.one_time_key_counts, { signed_curve25519: 3 });
    let got = await keysOf(dev);
    t.same(got.counts, { signed_curve25519: 3 });
    t.same(got.fallback, []);

    await dev.upload(server, { one_time_keys: dev.oneTimeKeys(2) });
    got = await keysOf(dev, got.next);
    t.same(got.counts, { signed_curve25519: 5 }, 'a second upload adds up');

    await dev.upload(server, { fallback_keys: dev.oneTimeKeys(1, { fallback: true }) });
    got = await keysOf(dev, got.next);
    t.same(got.fallback, ['signed_curve25519'], 'the fallback key shows as unused');

    for (let left = 4; left >= 0; left--) {
      const c = await claim(bob.accessToken, dev);
      t.equal(c.status, 200);
      got = await keysOf(dev, got.next);
      t.same(got.counts, { signed_curve25519: left }, `after a claim: ${left} left`);
      t.same(got.fallback, ['signed_curve25519'], 'the fallback key is not touched while one-time keys last');
    }

    const c = await claim(bob.accessToken, dev);
    t.match(Object.keys(c.body.one_time_keys[dev.userId][dev.deviceId])[0], /^signed_curve25519:/);
    got = await keysOf(dev, got.next);
    t.same(got.fallback, [], 'the used fallback key disappears');
    t.same(got.counts, { signed_curve25519: 0 });

    await dev.upload(server, { one_time_keys: dev.oneTimeKeys(1), fallback_keys: dev.oneTimeKeys(1) });
    got = await keysOf(dev, got.next);
    t.same(got.counts, { signed_curve25519: 1 });
    t.same(got.fallback, ['signed_curve25519'], 'a new fallback key is unused');
  });

  await t.test('a claim causes one read on the next sync, then none', async (t) => {
    const dev = await makeDevice(server);
    const bob = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys(), one_time_keys: dev.oneTimeKeys(2) });
    let { next } = await keysOf(dev);
    await claim(bob.accessToken, dev);
    const queries: number[] = [];
    for (let i = 0; i < 3; i++) {
      queries.push(
        await keyTableQueries(server, async () => {
          const got = await keysOf(dev, next);
          t.same(got.counts, { signed_curve25519: 1 });
          next = got.next;
        }),
      );
    }
    t.ok(queries[0]! > 0, 'the first sync after the claim reads');
    t.same(queries.slice(1), [0, 0], 'the next ones do not');
  });

  await t.test('concurrent claims leave the count exact', async (t) => {
    const dev = await makeDevice(server);
    const bob = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys(), one_time_keys: dev.oneTimeKeys(10) });
    const { next } = await keysOf(dev);
    // Syncs racing the claims must not leave a stale count behind.
    await Promise.all([
      ...Array.from({ length: 7 }, () => claim(bob.accessToken, dev)),
      ...Array.from({ length: 5 }, () => keysOf(dev, next)),
    ]);
    t.same((await keysOf(dev, next)).counts, { signed_curve25519: 3 });
  });

  await t.test('a deleted device comes back with no keys', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, {
      device_keys: dev.deviceKeys(),
      one_time_keys: dev.oneTimeKeys(4),
      fallback_keys: dev.oneTimeKeys(1, { fallback: true }),
    });
    t.same((await keysOf(dev)).counts, { signed_curve25519: 4 });
    const out = await server.request('POST', '/_matrix/client/v3/logout', {
      token: dev.user.accessToken,
      body: {},
    });
    t.equal(out.status, 200);
    const login = await server.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: dev.userId },
        password: dev.user.password,
        device_id: dev.deviceId,
      },
    });
    t.equal(login.status, 200);
    t.equal(login.body.device_id, dev.deviceId, 'the same device id again');
    const again = new TestDevice({ ...dev.user, accessToken: login.body.access_token });
    const got = await keysOf(again);
    t.same(got.counts, { signed_curve25519: 0 });
    t.same(got.fallback, []);
  });
});
