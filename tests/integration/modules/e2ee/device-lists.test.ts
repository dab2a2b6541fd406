/** Device-list tracking: /sync device_lists (changed/left) and GET /keys/changes, on both engines. */
import t from 'tap';
import { longPollWaiting } from '../../../helpers/long-poll.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import {
  createRoom,
  crossSigningKeys,
  join,
  leave,
  makeDevice,
  startE2eeServer,
  syncOnce,
  TestDevice,
} from './e2ee-fixtures.js';

void withAllDatabases(t, async (t, database) => {
  const server = await startE2eeServer(t, database);
  const changes = (token: string, from: string, to: string) =>
    server.request(
      'GET',
      `/_matrix/client/v3/keys/changes?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
      { token },
    );

  /** Alice and Bob in one room (encrypted or not does not matter, as in Synapse); each has a sync token. */
  async function pair(encrypted = true) {
    const alice = await makeDevice(server);
    const bob = await makeDevice(server);
    const roomId = await createRoom(server, alice.user.accessToken, {
      preset: 'public_chat',
      ...(encrypted
        ? {
            initial_state: [
              { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
            ],
          }
        : {}),
    });
    await join(server, bob.user.accessToken, roomId);
    const aliceSince = (await syncOnce(server, alice.user.accessToken)).next_batch as string;
    const bobSince = (await syncOnce(server, bob.user.accessToken)).next_batch as string;
    return { alice, bob, roomId, aliceSince, bobSince };
  }

  await t.test('an initial sync has no device_lists', async (t) => {
    const { alice } = await pair();
    t.notOk((await syncOnce(server, alice.user.accessToken)).device_lists);
  });

  await t.test("a room peer's key upload shows in changed; a stranger's does not", async (t) => {
    const { alice, bob, bobSince } = await pair();
    const stranger = await makeDevice(server);
    await stranger.upload(server, { device_keys: stranger.deviceKeys() });
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    const res = await syncOnce(server, bob.user.accessToken, bobSince);
    t.same(res.device_lists, { changed: [alice.userId], left: [] });
  });

  await t.test('own key changes show to the user too (their other devices)', async (t) => {
    const { alice, aliceSince } = await pair();
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    const res = await syncOnce(server, alice.user.accessToken, aliceSince);
    t.ok(res.device_lists.changed.includes(alice.userId));
  });

  await t.test('an unencrypted shared room counts as well', async (t) => {
    const { alice, bob, bobSince } = await pair(false);
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    t.same((await syncOnce(server, bob.user.accessToken, bobSince)).device_lists?.changed, [alice.userId]);
  });

  await t.test('a new cross-signing key shows in changed', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const cs = crossSigningKeys(alice.userId);
    await server.request('POST', '/_matrix/client/v3/keys/device_signing/upload', {
      token: alice.user.accessToken,
      body: cs.body,
    });
    t.same((await syncOnce(server, bob.user.accessToken, bobSince)).device_lists?.changed, [alice.userId]);
  });

  await t.test('a deleted device shows in changed', async (t) => {
    const { alice, bob, bobSince } = await pair();
    await server.request('POST', '/_matrix/client/v3/logout', { token: alice.user.accessToken, body: {} });
    t.same((await syncOnce(server, bob.user.accessToken, bobSince)).device_lists?.changed, [alice.userId]);
  });

  await t.test(
    'a user joining a room appears in changed for the members, and they for the joiner',
    async (t) => {
      const { alice, bob, roomId, aliceSince } = await pair();
      const carol = await makeDevice(server);
      const carolSince = (await syncOnce(server, carol.user.accessToken)).next_batch as string;
      await join(server, carol.user.accessToken, roomId);
      t.same((await syncOnce(server, alice.user.accessToken, aliceSince)).device_lists?.changed, [
        carol.userId,
      ]);
      const forCarol = await syncOnce(server, carol.user.accessToken, carolSince);
      t.same([...forCarol.device_lists.changed].sort(), [alice.userId, bob.userId].sort());
    },
  );

  await t.test('leaving the last shared room puts the user in left, for both sides', async (t) => {
    const { alice, bob, roomId, aliceSince, bobSince } = await pair();
    await leave(server, bob.user.accessToken, roomId);
    t.same((await syncOnce(server, alice.user.accessToken, aliceSince)).device_lists, {
      changed: [],
      left: [bob.userId],
    });
    t.same((await syncOnce(server, bob.user.accessToken, bobSince)).device_lists, {
      changed: [],
      left: [alice.userId],
    });
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    const after = (await syncOnce(server, bob.user.accessToken, bobSince)).device_lists;
    t.notOk(after?.changed.includes(alice.userId), 'no more news about alice once no room is shared');
  });

  await t.test('leaving one of two shared rooms is not a left', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const second = await createRoom(server, alice.user.accessToken, { preset: 'public_chat' });
    await join(server, bob.user.accessToken, second);
    const since = (await syncOnce(server, alice.user.accessToken)).next_batch as string;
    await leave(server, bob.user.accessToken, second);
    t.notOk((await syncOnce(server, alice.user.accessToken, since)).device_lists, 'still sharing a room');
    t.notOk(
      (await syncOnce(server, bob.user.accessToken, bobSince)).device_lists?.left.length,
      'for bob neither',
    );
  });

  await t.test('a waiting sync wakes when a room peer uploads keys', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const polling = longPollWaiting(server, bob.userId);
    const waiting = server.request(
      'GET',
      `/_matrix/client/v3/sync?since=${encodeURIComponent(bobSince)}&timeout=10000`,
      {
        token: bob.user.accessToken,
      },
    );
    await polling;
    const started = Date.now();
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    const res = await waiting;
    t.ok(Date.now() - started < 5000, 'woken, not timed out');
    t.same(res.body.device_lists?.changed, [alice.userId]);
  });

  await t.test('GET /keys/changes lists the same between two sync tokens', async (t) => {
    const { alice, bob, roomId, bobSince } = await pair();
    await alice.upload(server, { device_keys: alice.deviceKeys() });
    const carol = await makeDevice(server);
    await join(server, carol.user.accessToken, roomId);
    await leave(server, carol.user.accessToken, roomId);
    const to = (await syncOnce(server, bob.user.accessToken, bobSince)).next_batch as string;
    const res = await changes(bob.user.accessToken, bobSince, to);
    t.equal(res.status, 200);
    t.same(res.body, { changed: [alice.userId], left: [carol.userId] });
    const empty = await changes(bob.user.accessToken, to, to);
    t.same(empty.body, { changed: [], left: [] });
    const bad = await changes(bob.user.accessToken, 'garbage', to);
    t.same([bad.status, bad.body.errcode], [400, 'M_INVALID_PARAM']);
    const missing = await server.request('GET', `/_matrix/client/v3/keys/changes?from=${bobSince}`, {
      token: bob.user.accessToken,
    });
    t.equal(missing.status, 400);
  });

  const loginAs = async (dev: TestDevice, extra: Record<string, unknown> = {}) => {
    const res = await server.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: dev.userId },
        password: dev.user.password,
        ...extra,
      },
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
    return res.body as { access_token: string; device_id: string };
  };

  await t.test('a new device (login) shows in changed at once, before it uploads keys', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const stranger = await makeDevice(server);
    await loginAs(stranger);
    await loginAs(alice);
    const res = await syncOnce(server, bob.user.accessToken, bobSince);
    t.same(res.device_lists, { changed: [alice.userId], left: [] });
    const keysChanges = await changes(bob.user.accessToken, bobSince, res.next_batch as string);
    t.same(keysChanges.body, { changed: [alice.userId], left: [] }, 'and in /keys/changes');
    await loginAs(alice, { device_id: alice.deviceId });
    t.notOk(
      (await syncOnce(server, bob.user.accessToken, res.next_batch as string)).device_lists,
      'logging in again on an existing device is no change',
    );
  });

  await t.test('renaming a device shows in changed; the same name again does not', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const rename = (displayName: string) =>
      server.request('PUT', `/_matrix/client/v3/devices/${alice.deviceId}`, {
        token: alice.user.accessToken,
        body: { display_name: displayName },
      });
    t.equal((await rename('Alice laptop')).status, 200);
    const res = await syncOnce(server, bob.user.accessToken, bobSince);
    t.same(res.device_lists, { changed: [alice.userId], left: [] });
    const keysChanges = await changes(bob.user.accessToken, bobSince, res.next_batch as string);
    t.same(keysChanges.body, { changed: [alice.userId], left: [] }, 'and in /keys/changes');
    t.equal((await rename('Alice laptop')).status, 200);
    t.notOk((await syncOnce(server, bob.user.accessToken, res.next_batch as string)).device_lists);
  });

  await t.test('a waiting sync wakes when a room peer logs in on a new device', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const polling = longPollWaiting(server, bob.userId);
    const waiting = server.request(
      'GET',
      `/_matrix/client/v3/sync?since=${encodeURIComponent(bobSince)}&timeout=10000`,
      { token: bob.user.accessToken },
    );
    await polling;
    const started = Date.now();
    await loginAs(alice);
    const res = await waiting;
    t.ok(Date.now() - started < 5000, 'woken, not timed out');
    t.same(res.body.device_lists?.changed, [alice.userId]);
  });

  await t.test('a device added by logging in shows once it uploads keys', async (t) => {
    const { alice, bob, bobSince } = await pair();
    const login = await server.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: alice.userId },
        password: alice.user.password,
      },
    });
    const second = new TestDevice({
      ...alice.user,
      accessToken: login.body.access_token,
      deviceId: login.body.device_id,
    });
    await second.upload(server, { device_keys: second.deviceKeys() });
    t.same((await syncOnce(server, bob.user.accessToken, bobSince)).device_lists?.changed, [alice.userId]);
    const q = await server.request('POST', '/_matrix/client/v3/keys/query', {
      token: bob.user.accessToken,
      body: { device_keys: { [alice.userId]: [] } },
    });
    t.ok(q.body.device_keys[alice.userId][second.deviceId]);
  });
});
