import t from 'tap';
import bcrypt from 'bcryptjs';
import { NOT_SPAM } from '../../../../core/plugins/api.js';
import { startServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { login, makeUser, openRegistrationConfig, passwordAuth } from '../../../helpers/fixtures.js';

const LOGIN = '/_matrix/client/v3/login';
const WHOAMI = '/_matrix/client/v3/account/whoami';

void t.test('login, whoami, logout on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
    const alice = await makeUser(server, { localpart: 'alice', password: 'wonderland' });

    await t.test('GET /login lists password and token logins', async (t) => {
      const r = await server.request('GET', LOGIN);
      t.same(r.body, { flows: [{ type: 'm.login.password' }, { type: 'm.login.token' }] });
    });

    await t.test('m.login.password by localpart, full user id and identifier', async (t) => {
      const bodies = [
        { type: 'm.login.password', user: 'alice', password: 'wonderland' },
        { type: 'm.login.password', user: '@alice:test.local', password: 'wonderland' },
        {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'alice' },
          password: 'wonderland',
        },
        {
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: 'ALICE' },
          password: 'wonderland',
        },
      ];
      for (const body of bodies) {
        const r = await server.request('POST', LOGIN, { body });
        t.equal(r.status, 200, JSON.stringify(body));
        t.equal(r.body.user_id, alice.userId);
        t.equal(r.body.home_server, 'test.local');
        t.type(r.body.device_id, 'string');
        const who = await server.request('GET', WHOAMI, { token: r.body.access_token });
        t.same(who.body, { user_id: alice.userId, device_id: r.body.device_id, is_guest: false });
      }
    });

    await t.test('wrong credentials are 403 M_FORBIDDEN', async (t) => {
      for (const body of [
        { type: 'm.login.password', user: 'alice', password: 'wrong' },
        { type: 'm.login.password', user: 'nobody', password: 'wonderland' },
        { type: 'm.login.password', user: '@alice:elsewhere', password: 'wonderland' },
      ]) {
        const r = await server.request('POST', LOGIN, { body });
        t.equal(r.status, 403);
        t.equal(r.body.errcode, 'M_FORBIDDEN');
      }
    });

    await t.test('malformed logins are 400', async (t) => {
      const noUser = await server.request('POST', LOGIN, {
        body: { type: 'm.login.password', password: 'x' },
      });
      t.equal(noUser.status, 400);
      const badType = await server.request('POST', LOGIN, { body: { type: 'm.login.magic' } });
      t.equal(badType.status, 400);
      t.equal(badType.body.errcode, 'M_UNKNOWN');
      const noType = await server.request('POST', LOGIN, { body: { user: 'alice' } });
      t.equal(noType.body.errcode, 'M_MISSING_PARAM');
    });

    await t.test('logging in with an existing device id keeps the device', async (t) => {
      const a = await login(server, alice, { device_id: 'KEEPME', initial_device_display_name: 'first' });
      const b = await login(server, alice, { device_id: 'KEEPME', initial_device_display_name: 'second' });
      t.equal(a.deviceId, 'KEEPME');
      t.equal(b.deviceId, 'KEEPME');
      const d = await server.request('GET', '/_matrix/client/v3/devices/KEEPME', { token: b.accessToken });
      t.equal(d.body.display_name, 'first');
    });

    await t.test('tokens: missing is M_MISSING_TOKEN, unknown is M_UNKNOWN_TOKEN', async (t) => {
      const missing = await server.request('GET', WHOAMI);
      t.equal(missing.status, 401);
      t.equal(missing.body.errcode, 'M_MISSING_TOKEN');
      const unknown = await server.request('GET', WHOAMI, { token: 'syt_nope' });
      t.equal(unknown.status, 401);
      t.equal(unknown.body.errcode, 'M_UNKNOWN_TOKEN');
      t.equal(unknown.body.soft_logout, false);
    });

    await t.test('logout invalidates the token and deletes its device', async (t) => {
      const s = await login(server, alice);
      t.equal((await server.request('GET', WHOAMI, { token: s.accessToken })).status, 200, 'cached');
      const out = await server.request('POST', '/_matrix/client/v3/logout', {
        token: s.accessToken,
        body: {},
      });
      t.equal(out.status, 200);
      const after = await server.request('GET', WHOAMI, { token: s.accessToken });
      t.equal(after.body.errcode, 'M_UNKNOWN_TOKEN');
      const devices = await server.request('GET', '/_matrix/client/v3/devices', { token: alice.accessToken });
      t.notOk(devices.body.devices.some((d: { device_id: string }) => d.device_id === s.deviceId));
    });

    await t.test('logout/all invalidates every token of the user', async (t) => {
      const bob = await makeUser(server, { localpart: 'bob' });
      const second = await login(server, bob);
      const r = await server.request('POST', '/_matrix/client/v3/logout/all', {
        token: bob.accessToken,
        body: {},
      });
      t.equal(r.status, 200);
      for (const token of [bob.accessToken, second.accessToken]) {
        t.equal((await server.request('GET', WHOAMI, { token })).body.errcode, 'M_UNKNOWN_TOKEN');
      }
      const again = await login(server, bob);
      const devices = await server.request('GET', '/_matrix/client/v3/devices', { token: again.accessToken });
      t.equal(devices.body.devices.length, 1);
    });

    await t.test('a deactivated user gets M_USER_DEACTIVATED', async (t) => {
      const dan = await makeUser(server, { localpart: 'dan' });
      const first = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: dan.accessToken,
        body: { erase: true },
      });
      await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: dan.accessToken,
        body: { erase: true, auth: passwordAuth(dan, first.body.session) },
      });
      const r = await server.request('POST', LOGIN, {
        body: { type: 'm.login.password', user: 'dan', password: dan.password },
      });
      t.equal(r.status, 403);
      t.equal(r.body.errcode, 'M_USER_DEACTIVATED');
    });
  });
});

void t.test('refresh tokens', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...openRegistrationConfig } });
    const alice = await makeUser(server);
    const s = await login(server, alice, { refresh_token: true });
    t.type(s.refreshToken, 'string');
    t.equal(s.expiresInMs, 300_000, 'refreshable_access_token_lifetime defaults to 5m');
    const plain = await login(server, alice);
    t.equal(plain.refreshToken, undefined, 'no refresh token unless the client asks');
    t.equal(plain.expiresInMs, undefined);

    const r1 = await server.request('POST', '/_matrix/client/v3/refresh', {
      body: { refresh_token: s.refreshToken },
    });
    t.equal(r1.status, 200);
    t.type(r1.body.access_token, 'string');
    t.type(r1.body.refresh_token, 'string');
    t.equal(r1.body.expires_in_ms, 300_000);
    // Until the new tokens are used, the old refresh token still works (the client may have lost the answer).
    const r2 = await server.request('POST', '/_matrix/client/v3/refresh', {
      body: { refresh_token: s.refreshToken },
    });
    t.equal(r2.status, 200);
    const who = await server.request('GET', WHOAMI, { token: r2.body.access_token });
    t.same(who.body.device_id, s.deviceId, 'the new token belongs to the same device');
    const old = await server.request('POST', '/_matrix/client/v3/refresh', {
      body: { refresh_token: s.refreshToken },
    });
    t.equal(old.status, 401, 'once the new access token was used, the old refresh token is revoked');
    t.equal(old.body.errcode, 'M_UNKNOWN_TOKEN');
    const replaced = await server.request('GET', WHOAMI, { token: r1.body.access_token });
    t.equal(replaced.body.errcode, 'M_UNKNOWN_TOKEN', 'a superseded refresh result is revoked');
    const next = await server.request('POST', '/_matrix/client/v3/refresh', {
      body: { refresh_token: r2.body.refresh_token },
    });
    t.equal(next.status, 200);
    const unknown = await server.request('POST', '/_matrix/client/v3/refresh', {
      body: { refresh_token: 'nope' },
    });
    t.equal(unknown.status, 401);
  });
});

void t.test('an expired access token is M_UNKNOWN_TOKEN with soft_logout', async (t) => {
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, nonrefreshable_access_token_lifetime: 300 },
  });
  const alice = await makeUser(server);
  t.equal((await server.request('GET', WHOAMI, { token: alice.accessToken })).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  const r = await server.request('GET', WHOAMI, { token: alice.accessToken });
  t.equal(r.status, 401);
  t.equal(r.body.errcode, 'M_UNKNOWN_TOKEN');
  t.equal(r.body.soft_logout, true);
  const again = await login(server, alice, { device_id: alice.deviceId });
  t.equal(again.deviceId, alice.deviceId, 'the client logs in again on the same device');
});

void t.test('m.login.token through POST /login/get_token', async (t) => {
  await t.test('is not served unless login_via_existing_session is enabled', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const alice = await makeUser(server);
    const r = await server.request('POST', '/_matrix/client/v1/login/get_token', {
      token: alice.accessToken,
      body: {},
    });
    t.equal(r.status, 404);
    t.equal(r.body.errcode, 'M_UNRECOGNIZED');
  });
  await t.test('issues a single-use token after UIA', async (t) => {
    const server = await startServer(t, {
      config: {
        ...openRegistrationConfig,
        login_via_existing_session: { enabled: true, token_timeout: '2m' },
      },
    });
    t.same((await server.request('GET', LOGIN)).body.flows[1], {
      type: 'm.login.token',
      get_login_token: true,
    });
    const alice = await makeUser(server);
    const first = await server.request('POST', '/_matrix/client/v1/login/get_token', {
      token: alice.accessToken,
      body: {},
    });
    t.equal(first.status, 401);
    const got = await server.request('POST', '/_matrix/client/v1/login/get_token', {
      token: alice.accessToken,
      body: { auth: passwordAuth(alice, first.body.session) },
    });
    t.equal(got.status, 200);
    t.equal(got.body.expires_in_ms, 120_000);
    const ok = await server.request('POST', LOGIN, {
      body: { type: 'm.login.token', token: got.body.login_token },
    });
    t.equal(ok.status, 200);
    t.equal(ok.body.user_id, alice.userId);
    const reuse = await server.request('POST', LOGIN, {
      body: { type: 'm.login.token', token: got.body.login_token },
    });
    t.equal(reuse.status, 403);
    t.equal(reuse.body.errcode, 'M_FORBIDDEN');
    const limited = await server.request('POST', '/_matrix/client/v1/login/get_token', {
      token: alice.accessToken,
      body: {},
    });
    t.equal(limited.status, 429, 'one token per minute');
  });
});

void t.test('rate limits on login', async (t) => {
  await t.test('rc_login.address', async (t) => {
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, rc_login: { address: { per_second: 0.001, burst_count: 2 } } },
    });
    const alice = await makeUser(server);
    await login(server, alice);
    await login(server, alice);
    const r = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: alice.userId, password: alice.password },
    });
    t.equal(r.status, 429);
    t.equal(r.body.errcode, 'M_LIMIT_EXCEEDED');
    t.ok(r.body.retry_after_ms > 0);
  });
  await t.test('rc_login.failed_attempts', async (t) => {
    const server = await startServer(t, {
      config: {
        ...openRegistrationConfig,
        rc_login: {
          ...openRegistrationConfig.rc_login,
          failed_attempts: { per_second: 0.001, burst_count: 2 },
        },
      },
    });
    const alice = await makeUser(server);
    const wrong = { type: 'm.login.password', user: alice.userId, password: 'wrong' };
    t.equal((await server.request('POST', LOGIN, { body: wrong })).status, 403);
    t.equal((await server.request('POST', LOGIN, { body: wrong })).status, 403);
    const r = await server.request('POST', LOGIN, { body: { ...wrong, password: alice.password } });
    t.equal(r.status, 429, 'even the right password waits after too many failures');
  });
});

void t.test('password providers and the database check', async (t) => {
  await t.test('a provider is asked first and may create the user', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const loggedOut: string[] = [];
    const logins: string[] = [];
    server.kernel.container.cradle.passwordProviders.add('test-provider', {
      loginTypes: { 'm.login.password': ['password'], 'org.example.magic': ['spell'] },
      async checkAuth({ user, loginType, fields }) {
        if (loginType === 'org.example.magic' && fields['spell'] === 'abracadabra') return { userId: user };
        if (loginType === 'm.login.password' && fields['password'] === 'from-ldap') {
          return { userId: user, onLogin: async (r) => void logins.push(r.deviceId) };
        }
        return null;
      },
      async onLoggedOut({ userId }) {
        loggedOut.push(userId);
      },
    });
    const flows = (await server.request('GET', LOGIN)).body.flows.map((f: { type: string }) => f.type);
    t.same(flows, ['m.login.password', 'org.example.magic', 'm.login.token']);
    const r = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: 'ldapuser', password: 'from-ldap' },
    });
    t.equal(r.status, 200);
    t.equal(r.body.user_id, '@ldapuser:test.local', 'a user the provider accepted is created');
    t.same(logins, [r.body.device_id], 'onLogin ran');
    t.equal(await server.kernel.container.cradle.authApi.userExists('@ldapuser:test.local'), true);
    const magic = await server.request('POST', LOGIN, {
      body: {
        type: 'org.example.magic',
        identifier: { type: 'm.id.user', user: 'ldapuser' },
        spell: 'abracadabra',
      },
    });
    t.equal(magic.status, 200);
    const alice = await makeUser(server);
    t.equal(
      (await login(server, alice)).accessToken.startsWith('syt_'),
      true,
      'the database check still applies',
    );
    await server.request('POST', '/_matrix/client/v3/logout', { token: r.body.access_token, body: {} });
    t.same(loggedOut, ['@ldapuser:test.local'], 'onLoggedOut is called on logout');
  });

  await t.test('password_config.localdb_enabled: false turns the database check off', async (t) => {
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, password_config: { localdb_enabled: false } },
    });
    const alice = await makeUser(server);
    const flows = (await server.request('GET', LOGIN)).body.flows.map((f: { type: string }) => f.type);
    t.same(flows, ['m.login.token']);
    const r = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: alice.userId, password: alice.password },
    });
    t.equal(r.status, 400);
  });

  await t.test('a bcrypt hash written by Synapse still verifies', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const alice = await makeUser(server);
    const hash = bcrypt.hashSync('synapse-pw', 4).replace(/^\$2a\$/, '$2b$');
    await server.kernel.container.cradle.authStore.users.setPasswordHash(alice.userId, hash);
    const r = await server.request('POST', LOGIN, {
      body: { type: 'm.login.password', user: alice.userId, password: 'synapse-pw' },
    });
    t.equal(r.status, 200);
  });

  await t.test('checkLoginForSpam can refuse a login', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const alice = await makeUser(server);
    server.kernel.container.cradle.spamCheckers.add('login-guard', {
      async checkLoginForSpam({ deviceId }) {
        return deviceId === 'BADDEVICE' ? { errcode: 'M_FORBIDDEN', error: 'not from there' } : NOT_SPAM;
      },
    });
    const r = await server.request('POST', LOGIN, {
      body: {
        type: 'm.login.password',
        user: alice.userId,
        password: alice.password,
        device_id: 'BADDEVICE',
      },
    });
    t.equal(r.status, 403);
    t.equal(r.body.error, 'not from there');
    t.equal((await login(server, alice)).deviceId.length, 10);
  });
});
