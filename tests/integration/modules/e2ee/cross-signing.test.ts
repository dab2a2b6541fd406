/** Cross-signing keys and signatures over HTTP on both engines. */
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import type { TestServer } from '../../../helpers/start-server.js';
import {
  crossSigningKeys,
  ed25519Key,
  makeDevice,
  sign,
  startE2eeServer,
  type TestDevice,
} from './e2ee-fixtures.js';

const UPLOAD = '/_matrix/client/v3/keys/device_signing/upload';
const SIGNATURES = '/_matrix/client/v3/keys/signatures/upload';

async function withKeys(server: TestServer, localpart?: string) {
  const dev = await makeDevice(server, localpart);
  await dev.upload(server, { device_keys: dev.deviceKeys() });
  const cs = crossSigningKeys(dev.userId);
  const res = await server.request('POST', UPLOAD, { token: dev.user.accessToken, body: cs.body });
  if (res.status !== 200) throw new Error(`upload failed: ${res.text}`);
  return { dev, cs };
}

function password(dev: TestDevice, session: string) {
  return {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: dev.userId },
    password: dev.user.password,
    session,
  };
}

void withAllDatabases(t, async (t, database) => {
  const server = await startE2eeServer(t, database);
  const query = (dev: TestDevice, userId: string) =>
    server.request('POST', '/_matrix/client/v3/keys/query', {
      token: dev.user.accessToken,
      body: { device_keys: { [userId]: [] } },
    });

  await t.test('the first upload needs no UIA and /keys/query returns the keys', async (t) => {
    const { dev, cs } = await withKeys(server);
    const other = await makeDevice(server);
    const mine = await query(dev, dev.userId);
    t.same(mine.body.master_keys[dev.userId], cs.body.master_key);
    t.same(mine.body.self_signing_keys[dev.userId], cs.body.self_signing_key);
    t.same(
      mine.body.user_signing_keys[dev.userId],
      cs.body.user_signing_key,
      'the owner sees the user-signing key',
    );
    const theirs = await query(other, dev.userId);
    t.same(theirs.body.master_keys[dev.userId], cs.body.master_key);
    t.same(theirs.body.self_signing_keys[dev.userId], cs.body.self_signing_key);
    t.same(theirs.body.user_signing_keys, {}, 'nobody else sees it');
  });

  await t.test('uploading the same keys again needs no UIA; new keys need a password', async (t) => {
    const { dev, cs } = await withKeys(server);
    const same = await server.request('POST', UPLOAD, { token: dev.user.accessToken, body: cs.body });
    t.equal(same.status, 200, 'idempotent retry');
    const fresh = crossSigningKeys(dev.userId);
    const challenge = await server.request('POST', UPLOAD, { token: dev.user.accessToken, body: fresh.body });
    t.equal(challenge.status, 401);
    t.ok(
      (challenge.body.flows as { stages: string[] }[]).some((f) => f.stages.includes('m.login.password')),
      'offers m.login.password',
    );
    const wrong = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { ...fresh.body, auth: { ...password(dev, challenge.body.session), password: 'wrong' } },
    });
    t.equal(wrong.status, 401, 'a wrong password does not replace the keys');
    const done = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { ...fresh.body, auth: password(dev, challenge.body.session) },
    });
    t.equal(done.status, 200, done.text);
    t.same((await query(dev, dev.userId)).body.master_keys[dev.userId], fresh.body.master_key);
  });

  await t.test('a self-signing key not signed by the master key is refused', async (t) => {
    const dev = await makeDevice(server);
    const cs = crossSigningKeys(dev.userId);
    const forged = sign(
      {
        user_id: dev.userId,
        usage: ['self_signing'],
        keys: { [cs.selfSigning.keyId]: cs.selfSigning.publicKeyB64 },
      },
      dev.userId,
      ed25519Key(),
    );
    const res = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { master_key: cs.body.master_key, self_signing_key: forged },
    });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_SIGNATURE']);
  });

  await t.test('a self-signing key without any master key is M_MISSING_PARAM', async (t) => {
    const dev = await makeDevice(server);
    const cs = crossSigningKeys(dev.userId);
    const res = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { self_signing_key: cs.body.self_signing_key },
    });
    t.same([res.status, res.body.errcode], [400, 'M_MISSING_PARAM']);
  });

  await t.test('malformed keys are M_INVALID_PARAM', async (t) => {
    const dev = await makeDevice(server);
    const cs = crossSigningKeys(dev.userId);
    const wrongUsage = { ...cs.body.master_key, usage: ['self_signing'] };
    const res = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { master_key: wrongUsage },
    });
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
    const otherUser = { ...cs.body.master_key, user_id: '@else:test.local' };
    const res2 = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { master_key: otherUser },
    });
    t.same([res2.status, res2.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('a key whose public key is a device id of the user is 403', async (t) => {
    const key = ed25519Key();
    const deviceId = key.publicKeyB64;
    const dev = await makeDevice(server);
    const login = await server.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: dev.userId },
        password: dev.user.password,
        device_id: deviceId,
      },
    });
    t.equal(login.status, 200, login.text);
    const master = { user_id: dev.userId, usage: ['master'], keys: { [`ed25519:${deviceId}`]: deviceId } };
    const res = await server.request('POST', UPLOAD, {
      token: dev.user.accessToken,
      body: { master_key: master },
    });
    t.same([res.status, res.body.errcode], [403, 'M_FORBIDDEN']);
  });

  await t.test('the self-signing key signs a device; everyone sees the signature', async (t) => {
    const { dev, cs } = await withKeys(server);
    const other = await makeDevice(server);
    const signed = sign(dev.deviceKeys(), dev.userId, cs.selfSigning);
    const res = await server.request('POST', SIGNATURES, {
      token: dev.user.accessToken,
      body: { [dev.userId]: { [dev.deviceId]: signed } },
    });
    t.same(res.body, { failures: {} });
    const q = await query(other, dev.userId);
    const device = q.body.device_keys[dev.userId][dev.deviceId];
    t.ok(device.signatures[dev.userId][cs.selfSigning.keyId], 'the cross-signature is on the device');
    t.ok(device.signatures[dev.userId][`ed25519:${dev.deviceId}`], 'and its self-signature');
  });

  await t.test('a device signs its master key', async (t) => {
    const { dev, cs } = await withKeys(server);
    const signed = sign(cs.body.master_key, dev.userId, dev.key);
    const res = await server.request('POST', SIGNATURES, {
      token: dev.user.accessToken,
      body: { [dev.userId]: { [cs.master.publicKeyB64]: signed } },
    });
    t.same(res.body, { failures: {} });
    const q = await query(dev, dev.userId);
    t.ok(q.body.master_keys[dev.userId].signatures[dev.userId][`ed25519:${dev.deviceId}`]);
  });

  await t.test(
    "a user-signing signature on another user's master key is seen only by the signer",
    async (t) => {
      const alice = await withKeys(server);
      const bob = await withKeys(server);
      const carol = await makeDevice(server);
      const signed = sign(bob.cs.body.master_key, alice.dev.userId, alice.cs.userSigning);
      const res = await server.request('POST', SIGNATURES, {
        token: alice.dev.user.accessToken,
        body: { [bob.dev.userId]: { [bob.cs.master.publicKeyB64]: signed } },
      });
      t.same(res.body, { failures: {} });
      const seenByAlice = (await query(alice.dev, bob.dev.userId)).body.master_keys[bob.dev.userId];
      t.ok(
        seenByAlice.signatures[alice.dev.userId]?.[alice.cs.userSigning.keyId],
        'alice sees her signature',
      );
      const seenByCarol = (await query(carol, bob.dev.userId)).body.master_keys[bob.dev.userId];
      t.notOk(seenByCarol.signatures?.[alice.dev.userId], 'carol does not');
      const seenByBob = (await query(bob.dev, bob.dev.userId)).body.master_keys[bob.dev.userId];
      t.notOk(seenByBob.signatures?.[alice.dev.userId], 'nor does bob');
    },
  );

  await t.test('signature failures are reported per key', async (t) => {
    const alice = await withKeys(server);
    const bob = await withKeys(server);
    const forgedDevice = sign(
      alice.dev.deviceKeys(),
      alice.dev.userId,
      ed25519Key(alice.cs.selfSigning.publicKeyB64),
    );
    const tamperedDevice = {
      ...sign(alice.dev.deviceKeys(), alice.dev.userId, alice.cs.selfSigning),
      algorithms: [],
    };
    const forgedMaster = sign(
      bob.cs.body.master_key,
      alice.dev.userId,
      ed25519Key(alice.cs.userSigning.publicKeyB64),
    );
    const goodOnMaster = sign(alice.cs.body.master_key, alice.dev.userId, alice.dev.key);
    const res = await server.request('POST', SIGNATURES, {
      token: alice.dev.user.accessToken,
      body: {
        [alice.dev.userId]: {
          [alice.dev.deviceId]: forgedDevice,
          NOSUCHDEVICE: forgedDevice,
          [alice.cs.master.publicKeyB64]: goodOnMaster,
        },
        [bob.dev.userId]: { [bob.cs.master.publicKeyB64]: forgedMaster, notbobskey: forgedMaster },
      },
    });
    t.equal(res.status, 200);
    const f = res.body.failures;
    t.equal(f[alice.dev.userId][alice.dev.deviceId].errcode, 'M_INVALID_SIGNATURE');
    t.equal(f[alice.dev.userId]['NOSUCHDEVICE'].errcode, 'M_NOT_FOUND');
    t.notOk(f[alice.dev.userId][alice.cs.master.publicKeyB64], 'the valid one is accepted');
    t.equal(f[bob.dev.userId][bob.cs.master.publicKeyB64].errcode, 'M_INVALID_SIGNATURE');
    t.equal(f[bob.dev.userId]['notbobskey'].errcode, 'M_NOT_FOUND');
    const tampered = await server.request('POST', SIGNATURES, {
      token: alice.dev.user.accessToken,
      body: { [alice.dev.userId]: { [alice.dev.deviceId]: tamperedDevice } },
    });
    t.equal(
      tampered.body.failures[alice.dev.userId][alice.dev.deviceId].errcode,
      'M_INVALID_SIGNATURE',
      'an object differing from the stored keys is refused',
    );
    const q = await query(bob.dev, alice.dev.userId);
    t.notOk(
      q.body.device_keys[alice.dev.userId][alice.dev.deviceId].signatures[alice.dev.userId][
        alice.cs.selfSigning.keyId
      ],
      'no forged signature was stored',
    );
  });

  await t.test(
    'e2eeApi: cross-signing public keys are reserved device ids; device-list changes by hand',
    async (t) => {
      const { dev, cs } = await withKeys(server);
      const api = server.kernel.container.cradle.e2eeApi;
      t.equal(await api.isCrossSigningKey(dev.userId, cs.master.publicKeyB64), true);
      t.equal(await api.isCrossSigningKey(dev.userId, cs.userSigning.publicKeyB64), true);
      t.equal(await api.isCrossSigningKey(dev.userId, dev.deviceId), false);
      const feed = server.kernel.container.cradle.deviceListsFeed;
      const before = await feed.currentPosition();
      await api.markDeviceListChanged(dev.userId);
      t.equal(await feed.currentPosition(), before + 1, 'a new device_lists position');
    },
  );

  await t.test('signing without a self-signing key is M_MISSING_PARAM', async (t) => {
    const dev = await makeDevice(server);
    await dev.upload(server, { device_keys: dev.deviceKeys() });
    const res = await server.request('POST', SIGNATURES, {
      token: dev.user.accessToken,
      body: { [dev.userId]: { [dev.deviceId]: sign(dev.deviceKeys(), dev.userId, ed25519Key()) } },
    });
    t.equal(res.body.failures[dev.userId][dev.deviceId].errcode, 'M_MISSING_PARAM');
  });
});
