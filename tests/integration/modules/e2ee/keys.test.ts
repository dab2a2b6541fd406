/** /keys/upload, /keys/query, /keys/claim over HTTP on both engines. */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { makeUser } from '../../../helpers/fixtures.js';
import { makeDevice, sign, startE2eeServer, TestDevice } from './e2ee-fixtures.js';

void withAllDatabases(t, async (t, database) => {
  const server = await startE2eeServer(t, database);
  const claim = (token: string, body: unknown) =>
    server.request('POST', '/_matrix/client/v3/keys/claim', { token, body: { one_time_keys: body } });
  const query = (token: string, deviceKeys: unknown) =>
    server.request('POST', '/_matrix/client/v3/keys/query', { token, body: { device_keys: deviceKeys } });

  await t.test(
    'device keys signed by the device are stored and returned with the display name',
    async (t) => {
      const user = await makeUser(server, { deviceDisplayName: 'Alice phone' });
      const dev = new TestDevice(user);
      const up = await dev.upload(server, { device_keys: dev.deviceKeys() });
      t.same(up.body, { one_time_key_counts: { signed_curve25519: 0 } });
      const other = await makeUser(server);
      const res = await query(other.accessToken, { [dev.userId]: [] });
      t.equal(res.status, 200);
      const got = res.body.device_keys[dev.userId][dev.deviceId];
      t.same(got.keys, dev.deviceKeys()['keys']);
      t.same(got.unsigned, { device_display_name: 'Alice phone' });
      t.ok(got.signatures[dev.userId][`ed25519:${dev.deviceId}`], 'the self-signature is kept');
    },
  );

  await t.test('device keys for another user or device are refused', async (t) => {
    const dev = await makeDevice(server);
    const keys = dev.deviceKeys();
    const wrongDevice = sign({ ...keys, device_id: 'OTHER', signatures: undefined }, dev.userId, dev.key);
    const res = await dev.upload(server, { device_keys: wrongDevice });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
    const wrongUser = await dev.upload(server, { device_keys: { ...keys, user_id: '@mallory:test.local' } });
    t.same([wrongUser.status, wrongUser.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('device keys with a bad self-signature are refused', async (t) => {
    const dev = await makeDevice(server);
    const keys = dev.deviceKeys() as { keys: Record<string, string> };
    const tampered = { ...keys, keys: { ...keys.keys, [`curve25519:${dev.deviceId}`]: 'AAAA' } };
    const res = await dev.upload(server, { device_keys: tampered });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_SIGNATURE']);
    const q = await query(dev.user.accessToken, { [dev.userId]: [] });
    t.same(q.body.device_keys[dev.userId], {}, 'nothing was stored');
  });

  await t.test('one-time keys are counted; signed ones must be signed by the device', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    const res = await dev.upload(server, {
      one_time_keys: { ...dev.oneTimeKeys(5), 'curve25519:plain1': 'abcd' },
    });
    t.same(res.body.one_time_key_counts, { signed_curve25519: 5, curve25519: 1 });
    const forged = sign({ key: 'AAAA' }, dev.userId, new TestDevice(dev.user).key);
    const bad = await dev.upload(server, { one_time_keys: { 'signed_curve25519:forged': forged } });
    t.same([bad.status, bad.body.errcode], [400, 'M_INVALID_SIGNATURE']);
  });

  await t.test('re-uploading a one-time key is fine, changing it is not', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    const keys = dev.oneTimeKeys(1);
    await dev.upload(server, { one_time_keys: keys });
    const again = await dev.upload(server, { one_time_keys: keys });
    t.same(again.body.one_time_key_counts, { signed_curve25519: 1 });
    const id = Object.keys(keys)[0] as string;
    const changed = await dev.upload(server, {
      one_time_keys: { [id]: sign({ key: 'BBBB' }, dev.userId, dev.key) },
    });
    t.same([changed.status, changed.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('query: unknown users and devices are left out; device lists can be narrowed', async (t) => {
    const a = await makeDevice(server);
    await a.upload(server, { device_keys: a.deviceKeys() });
    const res = await query(a.user.accessToken, {
      [a.userId]: ['NOPE'],
      '@nobody:test.local': [],
      '@someone:remote.example': [],
    });
    t.same(res.body.device_keys[a.userId], {});
    t.same(res.body.device_keys['@nobody:test.local'], {});
    t.ok(res.body.failures['remote.example'], 'a remote server is reported as a failure');
    const one = await query(a.user.accessToken, { [a.userId]: [a.deviceId] });
    t.same(Object.keys(one.body.device_keys[a.userId]), [a.deviceId]);
  });

  await t.test(
    'claim hands each one-time key out once, oldest upload first, then the fallback key',
    async (t) => {
      const dev = await makeDevice(server);
      const claimer = await makeUser(server);
      await dev.upload(server, { device_keys: dev.deviceKeys() });
      const first = dev.oneTimeKeys(1);
      await dev.upload(server, { one_time_keys: first });
      const second = dev.oneTimeKeys(1);
      await dev.upload(server, { one_time_keys: second });
      const fallback = dev.oneTimeKeys(1, { fallback: true });
      await dev.upload(server, { fallback_keys: fallback });
      const req = { [dev.userId]: { [dev.deviceId]: 'signed_curve25519' } };
      const c1 = await claim(claimer.accessToken, req);
      t.same(c1.body.one_time_keys[dev.userId][dev.deviceId], first);
      const c2 = await claim(claimer.accessToken, req);
      t.same(c2.body.one_time_keys[dev.userId][dev.deviceId], second);
      const c3 = await claim(claimer.accessToken, req);
      t.same(
        c3.body.one_time_keys[dev.userId][dev.deviceId],
        fallback,
        'the fallback key when none are left',
      );
      const c4 = await claim(claimer.accessToken, req);
      t.same(c4.body.one_time_keys[dev.userId][dev.deviceId], fallback, 'the fallback key is reused');
      t.same(c4.body.failures, {});
      const none = await claim(claimer.accessToken, { [dev.userId]: { [dev.deviceId]: 'curve25519' } });
      t.same(none.body.one_time_keys, {}, 'nothing for an algorithm without keys');
    },
  );

  await t.test('20 concurrent claims of the last one-time key: exactly one gets it', async (t) => {
    const dev = await makeDevice(server);
    const claimer = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    const last = dev.oneTimeKeys(1);
    await dev.upload(server, { one_time_keys: last });
    const fallback = dev.oneTimeKeys(1, { fallback: true });
    await dev.upload(server, { fallback_keys: fallback });
    const req = { [dev.userId]: { [dev.deviceId]: 'signed_curve25519' } };
    const results = await Promise.all(Array.from({ length: 20 }, () => claim(claimer.accessToken, req)));
    t.ok(results.every((r) => r.status === 200));
    const got = results.map((r) => r.body.one_time_keys[dev.userId]?.[dev.deviceId]);
    t.equal(got.filter((k) => JSON.stringify(k) === JSON.stringify(last)).length, 1, 'one winner');
    t.equal(
      got.filter((k) => JSON.stringify(k) === JSON.stringify(fallback)).length,
      19,
      'the rest get the fallback',
    );
  });

  await t.test('concurrent claims over many keys never hand one key out twice', async (t) => {
    const dev = await makeDevice(server);
    const claimer = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    await dev.upload(server, { one_time_keys: dev.oneTimeKeys(10) });
    const req = { [dev.userId]: { [dev.deviceId]: 'signed_curve25519' } };
    const results = await Promise.all(Array.from({ length: 15 }, () => claim(claimer.accessToken, req)));
    const ids = results.flatMap((r) => Object.keys(r.body.one_time_keys[dev.userId]?.[dev.deviceId] ?? {}));
    t.equal(ids.length, 10, 'ten keys went out (no fallback uploaded)');
    t.equal(new Set(ids).size, 10, 'all different');
  });

  await t.test('a used fallback key disappears from the unused list until replaced', async (t) => {
    const dev = await makeDevice(server);
    const claimer = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    const fallback = dev.oneTimeKeys(1, { fallback: true });
    await dev.upload(server, { fallback_keys: fallback });
    const syncBody = async () =>
      (await server.request('GET', '/_matrix/client/v3/sync?timeout=0', { token: dev.user.accessToken }))
        .body;
    t.same((await syncBody()).device_unused_fallback_key_types, ['signed_curve25519']);
    await claim(claimer.accessToken, { [dev.userId]: { [dev.deviceId]: 'signed_curve25519' } });
    t.same((await syncBody()).device_unused_fallback_key_types, [], 'used');
    await dev.upload(server, { fallback_keys: fallback });
    t.same((await syncBody()).device_unused_fallback_key_types, [], 'the same key again stays used');
    await dev.upload(server, { fallback_keys: dev.oneTimeKeys(1, { fallback: true }) });
    t.same((await syncBody()).device_unused_fallback_key_types, ['signed_curve25519'], 'a new key is unused');
  });

  await t.test('sync reports the one-time key count of the syncing device', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, { device_keys: dev.deviceKeys(), one_time_keys: dev.oneTimeKeys(4) });
    const res = await server.request('GET', '/_matrix/client/v3/sync?timeout=0', {
      token: dev.user.accessToken,
    });
    t.same(res.body.device_one_time_keys_count, { signed_curve25519: 4 });
  });

  await t.test('logging a device out removes its keys', async (t) => {
    const dev = await makeDevice(server);
    const other = await makeUser(server);
    await dev.upload(server, { device_keys: dev.deviceKeys(), one_time_keys: dev.oneTimeKeys(2) });
    const out = await server.request('POST', '/_matrix/client/v3/logout', {
      token: dev.user.accessToken,
      body: {},
    });
    t.equal(out.status, 200);
    const q = await query(other.accessToken, { [dev.userId]: [] });
    t.same(q.body.device_keys[dev.userId], {});
    const c = await claim(other.accessToken, { [dev.userId]: { [dev.deviceId]: 'signed_curve25519' } });
    t.same(c.body.one_time_keys, {});
  });

  await t.test('uploads need a device and an access token', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/keys/upload', { body: {} });
    t.equal(res.status, 401);
  });
});
