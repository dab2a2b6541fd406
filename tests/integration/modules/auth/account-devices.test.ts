import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { login, makeUser, openRegistrationConfig, passwordAuth } from '../../../helpers/fixtures.js';

const WHOAMI = '/_matrix/client/v3/account/whoami';

void t.test('account and devices on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...openRegistrationConfig } });

    await t.test('password change: UIA m.login.password, other devices logged out by default', async (t) => {
      const alice = await makeUser(server);
      const other = await login(server, alice);
      const first = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: alice.accessToken,
        body: { new_password: 'new-secret' },
      });
      t.equal(first.status, 401);
      t.same(first.body.flows, [{ stages: ['m.login.password'] }]);
      const wrong = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: alice.accessToken,
        body: {
          new_password: 'new-secret',
          auth: { ...passwordAuth(alice, first.body.session), password: 'nope' },
        },
      });
      t.equal(wrong.status, 401);
      t.equal(wrong.body.errcode, 'M_FORBIDDEN');
      t.equal(wrong.body.session, first.body.session);
      const ok = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: alice.accessToken,
        body: { new_password: 'new-secret', auth: passwordAuth(alice, first.body.session) },
      });
      t.equal(ok.status, 200);
      t.equal(
        (await server.request('GET', WHOAMI, { token: alice.accessToken })).status,
        200,
        'own token kept',
      );
      t.equal(
        (await server.request('GET', WHOAMI, { token: other.accessToken })).body.errcode,
        'M_UNKNOWN_TOKEN',
      );
      const oldPw = await server.request('POST', '/_matrix/client/v3/login', {
        body: { type: 'm.login.password', user: alice.userId, password: alice.password },
      });
      t.equal(oldPw.status, 403);
      const newPw = await login(server, { userId: alice.userId, password: 'new-secret' });
      t.type(newPw.accessToken, 'string');
    });

    await t.test('password change with logout_devices: false keeps other sessions', async (t) => {
      const bob = await makeUser(server);
      const other = await login(server, bob);
      const first = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: bob.accessToken,
        body: { new_password: 'x2', logout_devices: false },
      });
      const ok = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: bob.accessToken,
        body: { new_password: 'x2', logout_devices: false, auth: passwordAuth(bob, first.body.session) },
      });
      t.equal(ok.status, 200);
      t.equal((await server.request('GET', WHOAMI, { token: other.accessToken })).status, 200);
    });

    await t.test('UIA as another user is refused', async (t) => {
      const alice = await makeUser(server);
      const mallory = await makeUser(server);
      const first = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: mallory.accessToken,
        body: { new_password: 'x' },
      });
      const r = await server.request('POST', '/_matrix/client/v3/account/password', {
        token: mallory.accessToken,
        body: { new_password: 'x', auth: passwordAuth(alice, first.body.session) },
      });
      t.equal(r.status, 403);
    });

    await t.test('devices: list, get, rename, last seen', async (t) => {
      const carol = await makeUser(server, { deviceId: 'PHONE', deviceDisplayName: 'phone' });
      const laptop = await login(server, carol, { device_id: 'LAPTOP' });
      const list = await server.request('GET', '/_matrix/client/v3/devices', { token: carol.accessToken });
      t.equal(list.status, 200);
      const ids = list.body.devices.map((d: { device_id: string }) => d.device_id).sort();
      t.same(ids, ['LAPTOP', 'PHONE']);
      const phone = list.body.devices.find((d: { device_id: string }) => d.device_id === 'PHONE');
      t.equal(phone.display_name, 'phone');
      t.equal(
        phone.last_seen_ip,
        '127.0.0.1',
        'last seen comes from requests (batched, shown before the flush)',
      );
      t.type(phone.last_seen_ts, 'number');
      const one = await server.request('GET', '/_matrix/client/v3/devices/LAPTOP', {
        token: carol.accessToken,
      });
      t.equal(one.body.device_id, 'LAPTOP');
      t.notOk('display_name' in one.body);
      const renamed = await server.request('PUT', '/_matrix/client/v3/devices/LAPTOP', {
        token: carol.accessToken,
        body: { display_name: 'work laptop' },
      });
      t.equal(renamed.status, 200);
      t.equal(
        (await server.request('GET', '/_matrix/client/v3/devices/LAPTOP', { token: laptop.accessToken })).body
          .display_name,
        'work laptop',
      );
      const missing = await server.request('GET', '/_matrix/client/v3/devices/NOPE', {
        token: carol.accessToken,
      });
      t.equal(missing.status, 404);
      const putMissing = await server.request('PUT', '/_matrix/client/v3/devices/NOPE', {
        token: carol.accessToken,
        body: { display_name: 'x' },
      });
      t.equal(putMissing.status, 404);
      await server.kernel.container.cradle.authSessions.flushLastSeen();
      const stored = await server.kernel.container.cradle.authStore.devices.get(carol.userId, 'PHONE');
      t.equal(stored?.lastSeenIp, '127.0.0.1', 'flushed to the database');
    });

    await t.test('deleting devices needs UIA and removes their tokens', async (t) => {
      const dave = await makeUser(server);
      const second = await login(server, dave);
      const third = await login(server, dave);
      const deleted: string[][] = [];
      server.kernel.container.cradle.authApi.onDeviceDeleted(
        async (e) => void deleted.push([...e.deviceIds]),
      );
      const path = `/_matrix/client/v3/devices/${second.deviceId}`;
      const first = await server.request('DELETE', path, { token: dave.accessToken, body: {} });
      t.equal(first.status, 401);
      const ok = await server.request('DELETE', path, {
        token: dave.accessToken,
        body: { auth: passwordAuth(dave, first.body.session) },
      });
      t.equal(ok.status, 200);
      t.equal(
        (await server.request('GET', WHOAMI, { token: second.accessToken })).body.errcode,
        'M_UNKNOWN_TOKEN',
      );
      t.same(deleted, [[second.deviceId]], 'deviceDeleted listeners are told');

      const bulkFirst = await server.request('POST', '/_matrix/client/v3/delete_devices', {
        token: dave.accessToken,
        body: { devices: [third.deviceId, 'UNKNOWN'] },
      });
      t.equal(bulkFirst.status, 401);
      const bulk = await server.request('POST', '/_matrix/client/v3/delete_devices', {
        token: dave.accessToken,
        body: { devices: [third.deviceId, 'UNKNOWN'], auth: passwordAuth(dave, bulkFirst.body.session) },
      });
      t.equal(bulk.status, 200);
      t.equal(
        (await server.request('GET', WHOAMI, { token: third.accessToken })).body.errcode,
        'M_UNKNOWN_TOKEN',
      );
      const left = await server.request('GET', '/_matrix/client/v3/devices', { token: dave.accessToken });
      t.same(
        left.body.devices.map((d: { device_id: string }) => d.device_id),
        [dave.deviceId],
      );
      const noDevices = await server.request('POST', '/_matrix/client/v3/delete_devices', {
        token: dave.accessToken,
        body: {},
      });
      t.equal(noDevices.body.errcode, 'M_MISSING_PARAM');
    });

    await t.test(
      'deviceCreated and deviceRenamed listeners are told of new devices and new names',
      async (t) => {
        const created: { userId: string; deviceId: string }[] = [];
        const renamed: { userId: string; deviceId: string; displayName: string }[] = [];
        const api = server.kernel.container.cradle.authApi;
        api.onDeviceCreated(async (e) => void created.push({ ...e }));
        api.onDeviceRenamed(async (e) => void renamed.push({ ...e }));
        const gina = await makeUser(server, { deviceId: 'FIRST' });
        t.same(created, [{ userId: gina.userId, deviceId: 'FIRST' }], 'registration creates a device');
        const second = await login(server, gina);
        t.same(created.at(-1), { userId: gina.userId, deviceId: second.deviceId }, 'so does a login');
        await login(server, gina, { device_id: 'FIXED' });
        t.same(created.at(-1), { userId: gina.userId, deviceId: 'FIXED' }, 'with a chosen device id too');
        const before = created.length;
        await login(server, gina, { device_id: 'FIXED' });
        t.equal(created.length, before, 'logging in again on an existing device creates nothing');

        const rename = (displayName?: string) =>
          server.request('PUT', '/_matrix/client/v3/devices/FIXED', {
            token: gina.accessToken,
            body: displayName === undefined ? {} : { display_name: displayName },
          });
        t.equal((await rename('desk')).status, 200);
        t.same(renamed, [{ userId: gina.userId, deviceId: 'FIXED', displayName: 'desk' }]);
        t.equal((await rename('desk')).status, 200);
        t.equal((await rename()).status, 200);
        t.equal(renamed.length, 1, 'the same name again, or no name, changes nothing');
        t.equal((await rename('x'.repeat(101))).status, 400);
        t.equal(renamed.length, 1, 'nor does a refused name');
      },
    );

    await t.test('deactivation: UIA, tokens revoked, listeners told, profile cleared', async (t) => {
      const erin = await makeUser(server);
      const events: unknown[] = [];
      server.kernel.container.cradle.authApi.onUserDeactivated(async (e) => void events.push(e));
      const first = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: erin.accessToken,
        body: { erase: true },
      });
      t.equal(first.status, 401);
      const done = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: erin.accessToken,
        body: { auth: passwordAuth(erin, first.body.session) },
      });
      t.same(done.body, { id_server_unbind_result: 'success' });
      t.same(events, [{ userId: erin.userId, erase: true }]);
      t.equal(
        (await server.request('GET', WHOAMI, { token: erin.accessToken })).body.errcode,
        'M_UNKNOWN_TOKEN',
      );
      t.same((await server.request('GET', `/_matrix/client/v3/profile/${erin.userId}`)).body, {});
      t.equal(await server.kernel.container.cradle.authApi.userExists(erin.userId), false);
      t.equal((await server.kernel.container.cradle.authApi.getUser(erin.userId))?.deactivated, true);
    });

    await t.test('GET /account/3pid is an empty list', async (t) => {
      const frank = await makeUser(server);
      const r = await server.request('GET', '/_matrix/client/v3/account/3pid', { token: frank.accessToken });
      t.same(r.body, { threepids: [] });
    });
  });
});

void t.test('password policy', async (t) => {
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      password_config: {
        policy: {
          enabled: true,
          minimum_length: 8,
          require_digit: true,
          require_symbol: true,
          require_lowercase: true,
          require_uppercase: true,
        },
      },
    },
  });
  const cases: [string, string][] = [
    ['Sh0rt!', 'M_PASSWORD_TOO_SHORT'],
    ['NoDigits!!', 'M_PASSWORD_NO_DIGIT'],
    ['NoSymbol11', 'M_PASSWORD_NO_SYMBOL'],
    ['NOLOWER11!', 'M_PASSWORD_NO_LOWERCASE'],
    ['noupper11!', 'M_PASSWORD_NO_UPPERCASE'],
  ];
  for (const [password, errcode] of cases) {
    const r = await server.request('POST', '/_matrix/client/v3/register', {
      body: { username: 'pol', password },
    });
    t.equal(r.status, 400, password);
    t.equal(r.body.errcode, errcode, password);
  }
  const alice = await makeUser(server, { password: 'G00d-Password' });
  const change = await server.request('POST', '/_matrix/client/v3/account/password', {
    token: alice.accessToken,
    body: { new_password: 'weak' },
  });
  t.equal(change.body.errcode, 'M_PASSWORD_TOO_SHORT', 'checked before UIA');
});

void t.test('password change is refused when password_config.enabled is false', async (t) => {
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, password_config: { enabled: false } },
  });
  const alice = await makeUser(server);
  const r = await server.request('POST', '/_matrix/client/v3/account/password', {
    token: alice.accessToken,
    body: { new_password: 'x' },
  });
  t.equal(r.status, 403);
  t.same((await server.request('GET', '/_matrix/client/v3/login')).body.flows, [{ type: 'm.login.token' }]);
  t.same(server.kernel.container.cradle.authApi.capabilities()['m.change_password'], { enabled: false });
});

void t.test('devices are created and renamed with the e2ee module disabled', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig, modules: { e2ee: false } } });
  t.notOk(server.kernel.container.hasRegistration('e2eeApi'), 'no e2ee');
  const alice = await makeUser(server);
  const second = await login(server, alice);
  const put = await server.request('PUT', `/_matrix/client/v3/devices/${second.deviceId}`, {
    token: alice.accessToken,
    body: { display_name: 'tablet' },
  });
  t.equal(put.status, 200);
  const got = await server.request('GET', `/_matrix/client/v3/devices/${second.deviceId}`, {
    token: second.accessToken,
  });
  t.equal(got.body.display_name, 'tablet');
});
