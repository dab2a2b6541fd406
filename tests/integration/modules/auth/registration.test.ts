import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import {
  adminRegistrationConfig,
  makeUser,
  openRegistrationConfig,
  passwordAuth,
} from '../../../helpers/fixtures.js';

const REGISTER = '/_matrix/client/v3/register';

void t.test('registration on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, { database, config: { ...openRegistrationConfig } });

    await t.test(
      'the UIA round trip: 401 with flows and a session, then m.login.dummy completes',
      async (t) => {
        const first = await server.request('POST', REGISTER, {
          body: { username: 'Alice', password: 'secret-1' },
        });
        t.equal(first.status, 401);
        t.same(first.body.flows, [{ stages: ['m.login.dummy'] }]);
        t.type(first.body.session, 'string');
        t.same(first.body.params, {});
        t.notOk('errcode' in first.body, 'a plain challenge carries no errcode');
        const done = await server.request('POST', REGISTER, {
          body: {
            username: 'Alice',
            password: 'secret-1',
            device_id: 'MYDEVICE',
            initial_device_display_name: 'Jungle Phone',
            auth: { type: 'm.login.dummy', session: first.body.session },
          },
        });
        t.equal(done.status, 200);
        t.equal(done.body.user_id, '@alice:test.local', 'the username is lower-cased as Synapse does');
        t.equal(done.body.device_id, 'MYDEVICE');
        t.match(done.body.access_token, /^syt_/);
        const device = await server.request('GET', '/_matrix/client/v3/devices/MYDEVICE', {
          token: done.body.access_token,
        });
        t.equal(device.body.display_name, 'Jungle Phone');
        const profile = await server.request('GET', '/_matrix/client/v3/profile/@alice:test.local');
        t.same(profile.body, { displayname: 'alice' }, 'the default displayname is the localpart');
      },
    );

    await t.test('the session remembers the body of the first request', async (t) => {
      const first = await server.request('POST', REGISTER, { body: { username: 'bob', password: 'pw-bob' } });
      const done = await server.request('POST', REGISTER, {
        body: { auth: { type: 'm.login.dummy', session: first.body.session } },
      });
      t.equal(done.status, 200);
      t.equal(done.body.user_id, '@bob:test.local');
      const login = await server.request('POST', '/_matrix/client/v3/login', {
        body: { type: 'm.login.password', user: 'bob', password: 'pw-bob' },
      });
      t.equal(login.status, 200, 'the password given on the first request was kept (hashed) in the session');
    });

    await t.test('a taken username is M_USER_IN_USE before any UIA', async (t) => {
      const r = await server.request('POST', REGISTER, { body: { username: 'alice', password: 'x' } });
      t.equal(r.status, 400);
      t.equal(r.body.errcode, 'M_USER_IN_USE');
    });

    await t.test('inhibit_login returns only the user id', async (t) => {
      const first = await server.request('POST', REGISTER, {
        body: { username: 'quiet', inhibit_login: true },
      });
      const done = await server.request('POST', REGISTER, {
        body: {
          username: 'quiet',
          inhibit_login: true,
          auth: { type: 'm.login.dummy', session: first.body.session },
        },
      });
      t.equal(done.status, 200);
      t.same(done.body, { user_id: '@quiet:test.local', home_server: 'test.local' });
    });

    await t.test('a deactivated user id can never be registered again', async (t) => {
      const carol = await makeUser(server, { localpart: 'carol' });
      const first = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: carol.accessToken,
        body: {},
      });
      const done = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
        token: carol.accessToken,
        body: { auth: passwordAuth(carol, first.body.session) },
      });
      t.equal(done.status, 200);
      const again = await server.request('POST', REGISTER, { body: { username: 'carol', password: 'x' } });
      t.equal(again.body.errcode, 'M_USER_IN_USE');
      const available = await server.request('GET', `${REGISTER}/available?username=carol`);
      t.equal(available.body.errcode, 'M_USER_IN_USE');
    });
  });
});

void t.test('username rules', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  const cases: [string, string][] = [
    ['has space', 'characters'],
    ['ünïcode', 'characters'],
    ['_underscore', 'begin with _'],
    ['12345', 'Numeric'],
    ['x'.repeat(250), 'longer than 255'],
  ];
  for (const [username, message] of cases) {
    const r = await server.request('POST', REGISTER, { body: { username, password: 'x' } });
    t.equal(r.status, 400, username);
    t.equal(r.body.errcode, 'M_INVALID_USERNAME', username);
    t.match(r.body.error, message);
  }
  const ok = await server.request(
    'GET',
    `${REGISTER}/available?username=${encodeURIComponent('fine.name_=-/+')}`,
  );
  t.same(ok.body, { available: true });
  const upper = await server.request('GET', `${REGISTER}/available?username=Upper`);
  t.equal(upper.body.errcode, 'M_INVALID_USERNAME');
  const missing = await server.request('GET', `${REGISTER}/available`);
  t.equal(missing.body.errcode, 'M_MISSING_PARAM');
});

void t.test('without a username the server picks one', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  const first = await server.request('POST', REGISTER, { body: { password: 'x' } });
  const done = await server.request('POST', REGISTER, {
    body: { password: 'x', auth: { type: 'm.login.dummy', session: first.body.session } },
  });
  t.equal(done.status, 200);
  t.match(done.body.user_id, /^@\d+:test\.local$/);
});

void t.test('registration is refused when disabled', async (t) => {
  const server = await startServer(t);
  const r = await server.request('POST', REGISTER, { body: { username: 'x', password: 'y' } });
  t.equal(r.status, 403);
  t.equal(r.body.errcode, 'M_FORBIDDEN');
});

void t.test('open registration without verification refuses to boot unless allowed explicitly', async (t) => {
  await t.rejects(startServer(t, { config: { enable_registration: true } }), {
    name: 'BootError',
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /enable_registration_without_verification/,
  });
});

void t.test('guest registration', async (t) => {
  await t.test('is refused unless allow_guest_access', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const r = await server.request('POST', `${REGISTER}?kind=guest`, { body: {} });
    t.equal(r.status, 403);
    t.equal(r.body.errcode, 'M_FORBIDDEN');
  });
  await t.test('creates a guest without UIA; guests may not use non-guest endpoints', async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig, allow_guest_access: true } });
    const r = await server.request('POST', `${REGISTER}?kind=guest`, {
      body: { username: 'ignored', device_id: 'IGNORED', initial_device_display_name: 'guest phone' },
    });
    t.equal(r.status, 200);
    t.match(r.body.user_id, /^@\d+:test\.local$/);
    t.not(r.body.device_id, 'IGNORED');
    const who = await server.request('GET', '/_matrix/client/v3/account/whoami', {
      token: r.body.access_token,
    });
    t.equal(who.body.is_guest, true);
    const devices = await server.request('GET', '/_matrix/client/v3/devices', { token: r.body.access_token });
    t.equal(devices.body.errcode, 'M_GUEST_ACCESS_FORBIDDEN');
  });
});

void t.test('registration tokens', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startServer(t, {
      database,
      config: {
        enable_registration: true,
        registration_requires_token: true,
        ...adminRegistrationConfig,
        rc_registration: openRegistrationConfig.rc_registration,
      },
    });
    const admin = await makeUser(server, { localpart: 'admin', admin: true });
    const created = await server.request('POST', '/_synapse/admin/v1/registration_tokens/new', {
      token: admin.accessToken,
      body: { token: 'abcd', uses_allowed: 1 },
    });
    t.same(created.body, { token: 'abcd', uses_allowed: 1, pending: 0, completed: 0, expiry_time: null });

    const validity = '/_matrix/client/v1/register/m.login.registration_token/validity';
    t.same((await server.request('GET', `${validity}?token=abcd`)).body, { valid: true });
    t.same((await server.request('GET', `${validity}?token=nope`)).body, { valid: false });

    const first = await server.request('POST', REGISTER, { body: { username: 'tok', password: 'x' } });
    t.same(first.body.flows, [{ stages: ['m.login.registration_token', 'm.login.dummy'] }]);
    const wrong = await server.request('POST', REGISTER, {
      body: { auth: { type: 'm.login.registration_token', token: 'nope', session: first.body.session } },
    });
    t.equal(wrong.status, 401);
    t.equal(wrong.body.errcode, 'M_UNAUTHORIZED');
    const dummyFirst = await server.request('POST', REGISTER, {
      body: { auth: { type: 'm.login.dummy', session: first.body.session } },
    });
    t.equal(dummyFirst.status, 401, 'dummy alone does not complete the flow');
    t.same(dummyFirst.body.completed, ['m.login.dummy']);
    const done = await server.request('POST', REGISTER, {
      body: { auth: { type: 'm.login.registration_token', token: 'abcd', session: first.body.session } },
    });
    t.equal(done.status, 200);
    t.equal(done.body.user_id, '@tok:test.local');
    const after = await server.request('GET', '/_synapse/admin/v1/registration_tokens/abcd', {
      token: admin.accessToken,
    });
    t.same(after.body, { token: 'abcd', uses_allowed: 1, pending: 0, completed: 1, expiry_time: null });
    t.same((await server.request('GET', `${validity}?token=abcd`)).body, { valid: false }, 'used up');
  });
});

void t.test('spam checker verdicts on registration', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  server.kernel.container.cradle.spamCheckers.add('test', {
    async checkRegistrationForSpam({ username }) {
      return username === 'spammer' ? 'DENY' : username === 'shady' ? 'SHADOW_BAN' : 'ALLOW';
    },
  });
  const first = await server.request('POST', REGISTER, { body: { username: 'spammer', password: 'x' } });
  const denied = await server.request('POST', REGISTER, {
    body: { auth: { type: 'm.login.dummy', session: first.body.session } },
  });
  t.equal(denied.status, 403);
  t.equal(denied.body.errcode, 'M_FORBIDDEN');
  const shady = await makeUser(server, { localpart: 'shady' });
  t.ok(shady.accessToken, 'a shadow-banned registration looks successful');
  t.equal(await server.kernel.container.cradle.authApi.isShadowBanned(shady.userId), true);
  const normal = await makeUser(server);
  t.equal(await server.kernel.container.cradle.authApi.isShadowBanned(normal.userId), false);
});

void t.test('rc_registration limits registrations per IP with 429 and retry_after_ms', async (t) => {
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, rc_registration: { per_second: 0.001, burst_count: 1 } },
  });
  await makeUser(server);
  const r = await server.request('POST', REGISTER, { body: { username: 'second', password: 'x' } });
  t.equal(r.status, 429);
  t.equal(r.body.errcode, 'M_LIMIT_EXCEEDED');
  t.type(r.body.retry_after_ms, 'number');
  t.ok(r.headers.get('retry-after'));
});

void t.test('a UIA session cannot be reused for another operation', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  const alice = await makeUser(server);
  const first = await server.request('POST', REGISTER, { body: { username: 'other', password: 'x' } });
  const r = await server.request('POST', '/_matrix/client/v3/account/deactivate', {
    token: alice.accessToken,
    body: { auth: { ...passwordAuth(alice), session: first.body.session } },
  });
  t.equal(r.status, 403);
  t.match(r.body.error, 'operation has changed');
  const unknown = await server.request('POST', REGISTER, {
    body: { auth: { type: 'm.login.dummy', session: 'nope' } },
  });
  t.equal(unknown.status, 400);
  const badType = await server.request('POST', REGISTER, {
    body: { username: 'other2', auth: { type: 'm.login.password', session: first.body.session } },
  });
  t.equal(badType.body.errcode, 'M_UNRECOGNIZED');
});
