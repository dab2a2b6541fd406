/**
 * Binding through an identity server that speaks the Identity Service API v2 over HTTPS (a real server in
 * the test, with real ed25519 signatures): bind, unbind (signed with X-Matrix by Axon), unbinding on
 * deletion and deactivation, and identity servers that refuse, answer garbage, hang or sit in a blocked range.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig, passwordAuth } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/start-server.js';
import { makeTestCa } from '../federation/test-federation.js';
import { ID_ACCESS_TOKEN, startIdentityServer } from './test-identity-server.js';

const V3 = '/_matrix/client/v3';

void t.test('identity servers', async (t) => {
  const ca = await makeTestCa(t);
  const ids = await startIdentityServer(t, ca);
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      ip_range_whitelist: ['127.0.0.1'],
      identity_server_custom_ca_list: [ca.caPath],
      identity_server_timeout: '1s',
    },
  });
  const { signingKey, serverName } = server.kernel.container.cradle;
  ids.trust(serverName, signingKey.keyId, signingKey.publicKey);
  const user = await makeUser(server, { localpart: 'mia', password: 'pw-mia' });
  const bind = (body: Record<string, unknown>): ReturnType<typeof server.request> =>
    server.request('POST', `${V3}/account/3pid/bind`, { token: user.accessToken, body });

  await t.test('bind, then unbind with an X-Matrix signature', async (t) => {
    ids.validate('sid1', 'cs1', 'email', 'mia@example.org');
    const r = await bind({
      sid: 'sid1',
      client_secret: 'cs1',
      id_server: ids.name,
      id_access_token: ID_ACCESS_TOKEN,
    });
    t.equal(r.status, 200, r.text);
    t.equal(ids.bindings.get('email:mia@example.org'), '@mia:test.local');
    const un = await server.request('POST', `${V3}/account/3pid/unbind`, {
      token: user.accessToken,
      body: { medium: 'email', address: 'mia@example.org' },
    });
    t.equal(un.status, 200, un.text);
    t.same(un.body, { id_server_unbind_result: 'success' }, 'the recorded identity server was used');
    t.equal(ids.bindings.size, 0);
    t.same(ids.unbindRequests, [
      { mxid: '@mia:test.local', threepid: { medium: 'email', address: 'mia@example.org' } },
    ]);
    const again = await server.request('POST', `${V3}/account/3pid/unbind`, {
      token: user.accessToken,
      body: { medium: 'email', address: 'mia@example.org' },
    });
    t.same(again.body, { id_server_unbind_result: 'no-support' }, 'nothing recorded any more');
  });

  await t.test('the identity server refuses: its error reaches the client', async (t) => {
    const r = await bind({
      sid: 'unknown',
      client_secret: 'cs1',
      id_server: ids.name,
      id_access_token: ID_ACCESS_TOKEN,
    });
    t.equal(r.status, 400);
    t.equal(r.body.errcode, 'M_SESSION_NOT_VALIDATED');
    const badToken = await bind({
      sid: 'sid1',
      client_secret: 'cs1',
      id_server: ids.name,
      id_access_token: 'wrong',
    });
    t.equal(badToken.body.errcode, 'M_UNAUTHORIZED');
  });

  await t.test('bad input', async (t) => {
    const base = { sid: 'sid1', client_secret: 'cs1', id_server: ids.name, id_access_token: ID_ACCESS_TOKEN };
    t.equal((await bind({ ...base, id_server: 'https://evil.example/x' })).body.errcode, 'M_INVALID_PARAM');
    t.equal((await bind({ ...base, client_secret: 'bad secret' })).body.errcode, 'M_INVALID_PARAM');
    const { id_access_token: _omit, ...noToken } = base;
    t.equal((await bind(noToken)).body.errcode, 'M_MISSING_PARAM');
    const unbindFax = await server.request('POST', `${V3}/account/3pid/unbind`, {
      token: user.accessToken,
      body: { medium: 'fax', address: '1' },
    });
    t.equal(unbindFax.body.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED');
  });

  await t.test('a blocked address is never contacted', async (t) => {
    const r = await bind({
      sid: 'sid1',
      client_secret: 'cs1',
      id_server: '10.1.2.3',
      id_access_token: ID_ACCESS_TOKEN,
    });
    t.equal(r.status, 400);
    t.equal(r.body.errcode, 'M_SERVER_NOT_TRUSTED');
    const named = await bind({
      sid: 'sid1',
      client_secret: 'cs1',
      id_server: 'localhost:1',
      id_access_token: ID_ACCESS_TOKEN,
    });
    t.ok(
      named.status >= 400 && named.body.errcode !== undefined,
      'localhost (::1 is blocked) is refused or fails cleanly',
    );
  });

  await t.test('garbage and hangs give a clear error, never a hang', async (t) => {
    ids.validate('sid2', 'cs2', 'email', 'mia2@example.org');
    const body = { sid: 'sid2', client_secret: 'cs2', id_server: ids.name, id_access_token: ID_ACCESS_TOKEN };
    ids.mode = 'garbage';
    const garbage = await bind(body);
    t.equal(garbage.status, 502);
    t.equal(garbage.body.errcode, 'M_UNKNOWN');
    t.match(garbage.body.error, /not a JSON object/);
    ids.mode = 'hang';
    const started = Date.now();
    const hang = await bind(body);
    t.equal(hang.status, 504);
    t.ok(Date.now() - started < 5000, 'identity_server_timeout applies');
    ids.mode = 'normal';
  });

  await t.test('deleting a 3PID and deactivating unbind it', async (t) => {
    ids.validate('sid3', 'cs3', 'email', 'mia3@example.org');
    await bind({ sid: 'sid3', client_secret: 'cs3', id_server: ids.name, id_access_token: ID_ACCESS_TOKEN });
    t.equal(ids.bindings.size, 1);
    const del = await server.request('POST', `${V3}/account/3pid/delete`, {
      token: user.accessToken,
      body: { medium: 'email', address: 'mia3@example.org' },
    });
    t.same(del.body, { id_server_unbind_result: 'success' });
    t.equal(ids.bindings.size, 0);

    ids.validate('sid4', 'cs4', 'email', 'mia4@example.org');
    await bind({ sid: 'sid4', client_secret: 'cs4', id_server: ids.name, id_access_token: ID_ACCESS_TOKEN });
    ids.mode = 'hang';
    const failing = await server.request('POST', `${V3}/account/3pid/delete`, {
      token: user.accessToken,
      body: { medium: 'email', address: 'mia4@example.org' },
    });
    t.equal(failing.status, 200, 'deletion does not fail because an identity server is down');
    t.same(failing.body, { id_server_unbind_result: 'no-support' });
    ids.mode = 'normal';

    const c = await server.request('POST', `${V3}/account/deactivate`, { token: user.accessToken, body: {} });
    const d = await server.request('POST', `${V3}/account/deactivate`, {
      token: user.accessToken,
      body: { auth: passwordAuth(user, c.body.session) },
    });
    t.equal(d.status, 200, d.text);
    t.equal(ids.bindings.size, 0, 'deactivation unbound the remaining binding');
  });
});

void t.test('phone numbers through account_threepid_delegates.msisdn', async (t) => {
  const ca = await makeTestCa(t);
  const ids = await startIdentityServer(t, ca);
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      ip_range_whitelist: ['127.0.0.1'],
      identity_server_custom_ca_list: [ca.caPath],
      account_threepid_delegates: { msisdn: `https://${ids.name}` },
      rc_3pid_validation: { per_second: 1000, burst_count: 1000 },
    },
  });
  const requestSms = (
    kind: string,
    clientSecret: string,
    phone = '07700 900001',
  ): ReturnType<typeof server.request> =>
    server.request('POST', `${V3}/${kind}/msisdn/requestToken`, {
      body: { country: 'GB', phone_number: phone, client_secret: clientSecret, send_attempt: 1 },
    });
  const submit = (sid: string, clientSecret: string, token: string): ReturnType<typeof server.request> =>
    server.request('POST', '/_matrix/client/unstable/add_threepid/msisdn/submit_token', {
      body: { sid, client_secret: clientSecret, token },
    });

  await t.test('registration with m.login.msisdn', async (t) => {
    const first = await server.request('POST', `${V3}/register`, {
      body: { username: 'nora', password: 'pw-nora' },
    });
    t.same(first.body.flows, [{ stages: ['m.login.dummy'] }, { stages: ['m.login.msisdn'] }]);
    const r = await requestSms('register', 'cs-nora');
    t.equal(r.status, 200, r.text);
    t.equal(r.body.msisdn, '447700900001');
    t.equal(r.body.submit_url, 'https://test.local/_matrix/client/unstable/add_threepid/msisdn/submit_token');
    const creds = { sid: r.body.sid, client_secret: 'cs-nora' };
    const early = await server.request('POST', `${V3}/register`, {
      body: { auth: { type: 'm.login.msisdn', threepid_creds: creds, session: first.body.session } },
    });
    t.equal(early.status, 401);
    t.equal(early.body.errcode, 'M_THREEPID_AUTH_FAILED');
    const wrong = await submit(r.body.sid, 'cs-nora', '000000');
    t.equal(wrong.status, 400);
    t.equal(wrong.body.errcode, 'M_INVALID_PARAM', "the delegate's error");
    const ok = await submit(r.body.sid, 'cs-nora', ids.smsSent[0]?.code ?? '');
    t.same(ok.body, { success: true });
    const done = await server.request('POST', `${V3}/register`, {
      body: { auth: { type: 'm.login.msisdn', threepid_creds: creds, session: first.body.session } },
    });
    t.equal(done.status, 200, done.text);
    const list = await server.request('GET', `${V3}/account/3pid`, { token: done.body.access_token });
    t.match(list.body.threepids, [{ medium: 'msisdn', address: '447700900001' }]);
    const taken = await requestSms('register', 'cs-other');
    t.equal(taken.body.errcode, 'M_THREEPID_IN_USE', 'the delegate canonical number is checked');
    const login = await server.request('POST', `${V3}/login`, {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.thirdparty', medium: 'msisdn', address: '447700900001' },
        password: 'pw-nora',
      },
    });
    t.equal(login.status, 200, login.text);
  });

  await t.test('adding a phone number to an account', async (t) => {
    const user = await makeUser(server, { localpart: 'omar', password: 'pw-omar' });
    const r = await requestSms('account/3pid', 'cs-omar', '+44 7700 900002');
    t.equal(r.status, 200, r.text);
    await submit(r.body.sid, 'cs-omar', ids.smsSent[ids.smsSent.length - 1]?.code ?? '');
    const c = await server.request('POST', `${V3}/account/3pid/add`, {
      token: user.accessToken,
      body: { sid: r.body.sid, client_secret: 'cs-omar' },
    });
    const d = await server.request('POST', `${V3}/account/3pid/add`, {
      token: user.accessToken,
      body: { sid: r.body.sid, client_secret: 'cs-omar', auth: passwordAuth(user, c.body.session) },
    });
    t.equal(d.status, 200, d.text);
    const list = await server.request('GET', `${V3}/account/3pid`, { token: user.accessToken });
    t.match(list.body.threepids, [{ medium: 'msisdn', address: '447700900002' }]);
    const bad = await requestSms('account/3pid', 'cs-omar', 'not a number');
    t.equal(bad.status, 400);
    t.equal(bad.body.errcode, 'M_INVALID_PARAM');
  });

  await t.test('a delegate that answers garbage', async (t) => {
    ids.mode = 'garbage';
    const r = await requestSms('register', 'cs-garbage', '07700 900003');
    t.equal(r.status, 502);
    t.equal(r.body.errcode, 'M_UNKNOWN');
    ids.mode = 'normal';
  });
});
